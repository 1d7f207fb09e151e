"""C3 as on the slide: refuted by layers that do not fix 0, with the minimal instance; the
statement is checked on every other instance of the search.

Facts about the counterexamples (the exact values 1/4 < 1/2 of the minimal one, the ratio
below 0.55 of the sigmoid one) are stated in their reproduction snippets, which
``evidence.record_counterexample`` runs as printed: a snippet raises if its violation disappears.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given

from resclaims.claims.engine import evidence
from resclaims.claims._functional_risk import slide_lower_bound
from resclaims.claims.c3_no_bad_stationary_points import CLAIM
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
from strategies.layers import OFFSET_KINDS, ZERO_FIXING_KINDS, CompositionCase, compositions
from strategies.maps import composition_instance
from tolerances import BOUND_RTOL

#: d = n = 1, m = 2: h_1 = x - 3/4 (a translation, ||h_1 - Id||_L = 0), h_2 = Id, sample (1, 5/4).
REPRODUCTION = """
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
risk = CompositionRisk([AffineLayer([[1.0]], [-0.75]), AffineLayer([[1.0]])], X=[[1.0]], Y=[[1.25]])
eps, m = 0.0, 2                                   # ||h_i - Id||_L = 0 for both layers
rhs = (1 - eps) ** (m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = risk.derivative_norm(2)                     # exact dual norm of D_{h_2} Q(h) on the sample
print(lhs, rhs)  # 0.25 0.5
if (lhs, rhs) != (0.25, 0.5):                     # the slide's bound fails for i = 2, by a factor 2
    raise RuntimeError(f"expected (0.25, 0.5), got {(lhs, rhs)}")
"""

#: The same with a sigmoid residual layer x + a sigma(bx), b = 0.1, a sigma(0.1) = -3/4.
SIGMOID_REPRODUCTION = """
import numpy as np
from resclaims.impl.functional_gradient import CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
a = -0.75 / (0.5 * (1.0 + np.tanh(0.05)))         # a sigma(0.1) = -3/4
layers = [ResidualLayer([[a]], [[0.1]], "sigmoid"), ResidualLayer([[0.0]], [[0.0]], "sigmoid")]
risk = CompositionRisk(layers, X=[[1.0]], Y=[[1.25]])
eps = max(f.residual_lipschitz_bound() for f in layers)   # |a| b / 4 = 0.036
rhs = (1 - eps) ** (risk.m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = risk.derivative_norm(2)
print(eps, lhs, rhs)
if not lhs < 0.55 * rhs:                          # the slide's bound fails for i = 2, by nearly 2
    raise RuntimeError(f"no violation: {lhs} >= 0.55 * {rhs}")
"""

#: Reproduction of a violation found by the search: the layers and the sample as literals.
SEARCH_REPRODUCTION = """
import numpy as np
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
layers = [
{layers}
]
X = np.array({X!r})
Y = np.array({Y!r})
eps = max(f.residual_lipschitz_bound() for f in layers)   # ||h_i - Id||_L <= eps < 1
print([float(np.linalg.norm(f(np.zeros((1, X.shape[1]))))) for f in layers])  # h_i(0) != 0 for some i
risk = CompositionRisk(layers, X, Y)
rhs = (1 - eps) ** (risk.m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = min(risk.derivative_norm(i) for i in range(1, risk.m + 1))
print(eps, lhs, rhs)
if not (eps < 1 and lhs < rhs * (1 - {rtol!r})):
    raise RuntimeError(f"no violation: eps = {{eps}}, {{lhs}} >= {{rhs}}")
"""


def layer_source(layer) -> str:
    """A layer as a Python expression of ``impl`` classes with literal (round-tripping) floats."""
    if isinstance(layer, AffineLayer):
        return f"    AffineLayer(np.array({layer.W.tolist()!r}), np.array({layer.b.tolist()!r})),"
    if isinstance(layer, ResidualLayer):
        return (f"    ResidualLayer(np.array({np.asarray(layer.A).tolist()!r}), "
                f"np.array({np.asarray(layer.B).tolist()!r}), {layer.activation!r}),")
    raise TypeError(f"no source for a layer of type {type(layer).__name__}")


def search_reproduction(case: CompositionCase) -> str:
    """A self-contained snippet (``impl`` and numpy only) showing the violation on ``case``."""
    return SEARCH_REPRODUCTION.format(layers="\n".join(layer_source(f) for f in case.layers),
                                      X=case.X.tolist(), Y=case.Y.tolist(), rtol=BOUND_RTOL)


def bound_terms(case: CompositionCase) -> tuple[dict, np.ndarray, np.ndarray, float]:
    """(instance, exact ||D_{h_i} Q(h)|| per layer, the slide's direction value per layer, rhs)."""
    risk = CompositionRisk(case.layers, case.X, case.Y)
    instance = composition_instance(case, risk)
    excess, distance = instance["excess"], instance["distance"]
    exact = np.array([risk.derivative_norm(i) for i in range(1, risk.m + 1)])
    direction = np.array([risk.slide_direction(i)[0] for i in range(1, risk.m + 1)])
    rhs = slide_lower_bound(case.epsilon, risk.m, excess, distance) if 0.0 < distance < np.inf else np.nan
    return instance, exact, direction, rhs


def record_known(case: CompositionCase, reproduction: str) -> None:
    """Record a known counterexample; its snippet runs as printed and raises if it no longer violates."""
    instance, exact, _, rhs = bound_terms(case)
    lhs = float(exact.min())
    i = int(np.argmin(exact)) + 1
    evidence.record_counterexample(CLAIM, instance, slack=(lhs - rhs) / rhs, reproduction=reproduction,
                                   message=f"||D_(h_{i}) Q(h)|| = {lhs:.6g} < {rhs:.6g} (layers: {case.kind})")


def record(case: CompositionCase) -> None:
    instance, exact, _, rhs = bound_terms(case)
    if evidence.hypotheses_fail(CLAIM, instance):
        return
    lhs = float(exact.min())
    if lhs < rhs * (1 - BOUND_RTOL):
        i = int(np.argmin(exact)) + 1
        evidence.record_counterexample(CLAIM, instance, slack=(lhs - rhs) / rhs, reproduction=search_reproduction(case),
                                       message=f"||D_(h_{i}) Q(h)|| = {lhs:.6g} < {rhs:.6g} (layers: {case.kind})")
        evidence.record_metric(CLAIM, f"instances violating the slide's bound ({case.kind} layers)", 1, reduce="sum")
    else:
        evidence.check_lower(CLAIM, instance, lhs=lhs, rhs=rhs, rtol=BOUND_RTOL)


def test_minimal_counterexample_reproduces():
    """The minimal counterexample (ratio exactly 1/2), recorded with its reproduction."""
    case = CompositionCase((AffineLayer([[1.0]], [-0.75]), AffineLayer([[1.0]])), np.array([[1.0]]),
                           np.array([[1.25]]), "affine", 0)
    record_known(case, REPRODUCTION)


def test_sigmoid_residual_layer_counterexample():
    """The same with a sigmoid residual layer x + a sigma(bx): b = 0.1, a sigma(0.1) = -3/4,
    ||h_1 - Id||_L = |a| b / 4 = 0.036, and h_2 = x + 0 sigma(0) (the identity)."""
    a = -0.75 / (0.5 * (1.0 + np.tanh(0.05)))
    layers = (ResidualLayer([[a]], [[0.1]], "sigmoid"), ResidualLayer([[0.0]], [[0.0]], "sigmoid"))
    case = CompositionCase(layers, np.array([[1.0]]), np.array([[1.25]]), "sigmoid", 0)
    record_known(case, SIGMOID_REPRODUCTION)


@given(case=compositions(kinds=ZERO_FIXING_KINDS + OFFSET_KINDS))
def test_slide_bound_on_random_compositions(case):
    """Random compositions, with and without h_i(0) = 0: violations are recorded, the rest checked."""
    record(case)
