"""C3 as on the slide: refuted by layers that do not fix 0, with the minimal instance; the
statement is checked on every other instance of the search."""
from __future__ import annotations

import numpy as np
from hypothesis import given

from resclaims.claims.engine import evidence
from resclaims.claims._functional_risk import slide_lower_bound
from resclaims.claims.c3_no_bad_stationary_points import CLAIM
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
from strategies.layers import OFFSET_KINDS, ZERO_FIXING_KINDS, CompositionCase, compositions
from tolerances import BOUND_RTOL

#: d = n = 1, m = 2: h_1 = x - 3/4 (a translation, ||h_1 - Id||_L = 0), h_2 = Id, sample (1, 5/4).
REPRODUCTION = """
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
risk = CompositionRisk([AffineLayer([[1.0]], [-0.75]), AffineLayer([[1.0]])], X=[[1.0]], Y=[[1.25]])
eps, m = 0.0, 2                                   # ||h_i - Id||_L = 0 for both layers
rhs = (1 - eps) ** (m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = risk.derivative_norm(2)                     # exact dual norm of D_{h_2} Q(h) on the sample
print(lhs, rhs)  # 0.25 0.5
assert lhs < rhs  # the slide's bound fails for i = 2
"""


#: Reproduction of a violation found by the search (run from the repository root).
SEARCH_REPRODUCTION = """
import sys; sys.path.insert(0, "tests")           # tests/strategies_nonlinear.py builds the instance
from strategies.layers import make_composition_case
from resclaims.impl.functional_gradient import CompositionRisk
case = {recipe}
risk = CompositionRisk(case.layers, case.X, case.Y)
rhs = (1 - case.epsilon) ** (risk.m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = min(risk.derivative_norm(i) for i in range(1, risk.m + 1))
print(case.zero_fixing, lhs, rhs)  # False, lhs < rhs
assert lhs < rhs
"""


def risk_instance(case: CompositionCase, risk: CompositionRisk) -> dict:
    """The case's instance with Q(h) - Q(h*) and ||h - h*|| (what the hypotheses read)."""
    return {**case.instance, "excess": risk.risk() - risk.optimal_risk(), "distance": risk.distance_to_optimum()}


def bound_terms(case: CompositionCase) -> tuple[dict, np.ndarray, np.ndarray, float]:
    """(instance, exact ||D_{h_i} Q(h)|| per layer, the slide's direction value per layer, rhs)."""
    risk = CompositionRisk(case.layers, case.X, case.Y)
    instance = risk_instance(case, risk)
    excess, distance = instance["excess"], instance["distance"]
    exact = np.array([risk.derivative_norm(i) for i in range(1, risk.m + 1)])
    direction = np.array([risk.slide_direction(i)[0] for i in range(1, risk.m + 1)])
    rhs = slide_lower_bound(case.epsilon, risk.m, excess, distance) if 0.0 < distance < np.inf else np.nan
    return instance, exact, direction, rhs


def record(case: CompositionCase) -> None:
    instance, exact, _, rhs = bound_terms(case)
    if evidence.hypotheses_fail(CLAIM, instance):
        return
    lhs = float(exact.min())
    if lhs < rhs * (1 - BOUND_RTOL):
        i = int(np.argmin(exact)) + 1
        reproduction = SEARCH_REPRODUCTION.format(recipe=case.recipe) if case.recipe else REPRODUCTION
        evidence.record_counterexample(CLAIM, instance, slack=(lhs - rhs) / rhs, reproduction=reproduction,
                                       message=f"||D_(h_{i}) Q(h)|| = {lhs:.6g} < {rhs:.6g} (layers: {case.kind})")
        evidence.record_metric(CLAIM, f"instances violating the slide's bound ({case.kind} layers)", 1, reduce="sum")
    else:
        evidence.check_lower(CLAIM, instance, lhs=lhs, rhs=rhs, rtol=BOUND_RTOL)


def test_minimal_counterexample_reproduces():
    """The recorded reproduction runs as written and shows the violation (ratio exactly 1/2)."""
    exec(compile(REPRODUCTION, "c3_reproduction", "exec"), {})
    case = CompositionCase((AffineLayer([[1.0]], [-0.75]), AffineLayer([[1.0]])), np.array([[1.0]]),
                           np.array([[1.25]]), "affine", 0)
    instance, exact, _, rhs = bound_terms(case)
    assert (exact[1], rhs) == (0.25, 0.5)
    record(case)


def test_sigmoid_residual_layer_counterexample():
    """The same with a sigmoid residual layer x + a sigma(bx): b = 0.1, a sigma(0.1) = -3/4,
    ||h_1 - Id||_L = |a| b / 4 = 0.036, and h_2 = x + 0 sigma(0) (the identity)."""
    a = -0.75 / (0.5 * (1.0 + np.tanh(0.05)))
    layers = (ResidualLayer([[a]], [[0.1]], "sigmoid"), ResidualLayer([[0.0]], [[0.0]], "sigmoid"))
    case = CompositionCase(layers, np.array([[1.0]]), np.array([[1.25]]), "sigmoid", 0)
    instance, exact, _, rhs = bound_terms(case)
    assert exact[1] < 0.55 * rhs, (exact, rhs)
    record(case)


@given(case=compositions(kinds=ZERO_FIXING_KINDS + OFFSET_KINDS))
def test_slide_bound_on_random_compositions(case):
    """Random compositions, with and without h_i(0) = 0: violations are recorded, the rest checked."""
    record(case)
