r"""Hypotheses of the C1 theorem [slide "Representing with near-identities: Theorem"; BEL18
Thm 1], evaluated on the instance of a normalised smooth map (``tests/strategies/maps.map_instance``): its
recorded data (activations of the layers, certified constants, radius, det Dh(0)), from which each
predicate is computed."""
from __future__ import annotations

import math

import numpy as np

from .engine.model import Hypothesis

SMOOTH_INVERTIBLE_MAP = (
    Hypothesis("bounded_domain", r"\mathcal{X} = [-r, r]^d,\ 0 < r < \infty",
               lambda inst: 0.0 < inst["radius"] < math.inf),
    Hypothesis("differentiable", r"h\ \text{differentiable (tanh layers)}",
               lambda inst: set(inst["activations"]) == {"tanh"}),
    Hypothesis("invertible", r"h\ \text{invertible: every layer}\ \|f_j - \mathrm{Id}\|_L < 1\ \text{(certified)}",
               lambda inst: inst["layer_alpha"] < 1.0),
    Hypothesis("smooth", r"\|Dh(y) - Dh(x)\| \le \alpha\|y - x\|,\ \alpha < \infty\ \text{(certified)}",
               lambda inst: math.isfinite(inst["smoothness"])),
    Hypothesis("lipschitz_inverse", r"\|h^{-1}\|_L \le M < \infty\ \text{(certified)}",
               lambda inst: math.isfinite(inst["inverse_lipschitz"])),
    Hypothesis("positive_orientation", r"\det Dh(x_0) > 0\ \text{for some}\ x_0\ (x_0 = 0,\ Dh(0) = I)",
               lambda inst: inst["det_Dh0"] > 0.0),
)


def is_schedule(a) -> bool:
    r""":math:`0 < a_1 < \cdots < a_m = 1`."""
    a = np.asarray(a, dtype=float)
    return bool(a.ndim == 1 and a.size >= 1 and a[0] > 0.0 and np.all(np.diff(a) > 0.0) and a[-1] == 1.0)


SCHEDULE = Hypothesis("schedule", r"0 < a_1 < \cdots < a_m = 1", lambda inst: is_schedule(inst["schedule"]))
