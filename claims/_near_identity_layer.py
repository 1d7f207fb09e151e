r"""Hypotheses shared by the C2 claims on a residual layer :math:`f(x) = x + A\sigma(Bx)`
(slide "Stationary points: Proof ideas (1)": :math:`\|f - \mathrm{Id}\|_L \le \alpha < 1`)."""
from __future__ import annotations

import math

from .engine.model import Hypothesis

NEAR_IDENTITY_LAYER = (
    Hypothesis("near_identity",
               r"\|f - \mathrm{Id}\|_L \le \alpha\ \text{with}\ f(x) = x + A\sigma(Bx),\ "
               r"\alpha\ \text{certified (vertex enumeration)}",
               lambda inst: math.isfinite(inst["alpha"]) and inst["alpha"] >= 0.0),
    Hypothesis("contraction", r"\alpha < 1", lambda inst: inst["alpha"] < 1.0, edge=lambda inst: 1.0 - inst["alpha"]),
)
