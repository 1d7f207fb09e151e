r"""The bound of the C3 theorem [slide "Stationary points: Result"; BEL18] and its hypotheses,
evaluated on the instance of a composition with a sample (``tests/strategies/maps.composition_instance``):
its recorded data (certified epsilon, offset max_i ||h_i(0)||, Q(h) - Q(h*), ||h - h*||), from which
each predicate is computed."""
from __future__ import annotations

import math

from .engine.model import Hypothesis


def slide_lower_bound(epsilon: float, m: int, excess: float, distance: float) -> float:
    r"""The slide's right-hand side :math:`\frac{(1 - \varepsilon)^{m-1}}{\|h - h^*\|}(Q(h) - Q(h^*))`."""
    return (1.0 - epsilon) ** (m - 1) * excess / distance


NEAR_IDENTITY_COMPOSITION = (
    Hypothesis("near_identity", r"\|h_i - \mathrm{Id}\|_L \le \varepsilon < 1\ \forall i\ "
               r"\text{(exact for affine layers, certified for residual layers)}",
               lambda inst: inst["epsilon"] < 1.0, edge=lambda inst: 1.0 - inst["epsilon"]),
    Hypothesis("bound_defined", r"0 < \|h - h^*\| < \infty\ \text{(induced norm on the support of}\ X)",
               lambda inst: 0.0 < inst["distance"] < math.inf),
)

ZERO_FIXING = Hypothesis("zero_fixing", r"h_i(0) = 0\ \forall i\ (\max_i \|h_i(0)\| = 0)",
                         lambda inst: inst["zero_offset"] == 0.0)
