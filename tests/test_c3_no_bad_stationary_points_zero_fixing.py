"""C3 with h_i(0) = 0: the slide's lower bound on ||D_{h_i} Q(h)||, through the slide's own
direction, on linear and tanh-residual compositions; the proof's steps checked on the way."""
from __future__ import annotations

import ast

import numpy as np
import pytest
from hypothesis import example, given

from resclaims.claims.engine import evidence
from resclaims.claims._functional_risk import ZERO_FIXING
from resclaims.claims.c3_no_bad_stationary_points_zero_fixing import CLAIM
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.functional_gradient import CompositionRisk
from canaries import expect_caught, raises_violation
from strategies.layers import OFFSET_KINDS, CompositionCase, compositions, make_composition_case
from strategies.maps import composition_instance
from test_c3_no_bad_stationary_points import bound_terms
from tolerances import (BOUND_RTOL, DUAL_NORM_UNDERFLOW_ATOL, EPS, SMALL_INTEGER_ARITHMETIC_RTOL, projection_identity_atol,
                        richardson_tol)


def check_bound(case: CompositionCase, factor: float = 1.0, dropped: tuple[str, ...] = ()) -> float:
    """The claim's check (``factor`` plants a wrong constant, ``dropped`` names hypotheses
    ignored by a sensitivity check); returns the slack."""
    instance, exact, direction, rhs = bound_terms(case)
    held = {name: ok for name, ok in CLAIM.hypotheses_held(instance).items() if name not in dropped}
    if not all(held.values()):
        evidence.hypotheses_fail(CLAIM, instance)
        return np.inf
    # The slide's direction is admissible, so the exact dual norm dominates it (to rounding). A
    # consistency check of the two computations, not the claim's bound: recorded as a boolean so
    # that its slack (0 wherever the direction is the maximiser) does not stand for the bound's.
    k = int(np.argmax(direction - exact * (1 + BOUND_RTOL)))
    evidence.check_true(CLAIM, {**instance, "layer": k + 1, "direction value": direction[k], "dual norm": exact[k]},
                        holds=direction[k] <= exact[k] + DUAL_NORM_UNDERFLOW_ATOL + BOUND_RTOL * abs(exact[k]),
                        what="D_{h_i}Q(Delta_i)/||Delta_i|| <= ||D_{h_i}Q|| + atol + rtol ||D_{h_i}Q|| "
                             "(atol = DUAL_NORM_UNDERFLOW_ATOL, rtol = BOUND_RTOL)", held=held)
    lhs = float(direction.min())
    ratio = float(exact.min()) / rhs
    evidence.record_metric(CLAIM, "tightest ratio min_i ||D_{h_i} Q|| / bound (min; proof: >= 2)", ratio, reduce="min")
    evidence.record_metric(CLAIM, "tightest ratio via the slide's direction (min)", lhs / rhs, reduce="min")
    return evidence.check_lower(CLAIM, instance, lhs=lhs, rhs=factor * rhs, rtol=BOUND_RTOL, held=held,
                                metrics={"min_i ||D_{h_i} Q|| / bound (max)": ratio})


def _recipe_arguments(recipe: str) -> dict:
    """The keyword arguments of a stored ``make_composition_case(...)`` recipe (literals only)."""
    try:
        call = ast.parse(recipe, mode="eval").body
    except SyntaxError as e:  # e.g. "" for a hand-built case: nothing to rebuild the layers from
        raise ValueError(f"not a make_composition_case recipe: {recipe!r}") from e
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "make_composition_case" and not call.args):
        raise ValueError(f"not a make_composition_case recipe: {recipe!r}")
    return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}


def composition_case_of(instance: dict) -> tuple[CompositionCase]:
    """The case of a stored instance (the POLISH arguments): the layers rebuilt from the recipe
    (so eps and h_i(0) = 0 hold by construction), the sample (X, Y) as stored."""
    case = make_composition_case(**_recipe_arguments(instance["recipe"]))
    X, Y = np.asarray(instance["X"], dtype=float), np.asarray(instance["Y"], dtype=float)
    if X.shape != case.X.shape or Y.shape != case.Y.shape:
        raise ValueError(f"sample of shape {X.shape}, {Y.shape} does not fit the recipe {instance['recipe']!r}")
    return (CompositionCase(case.layers, X, Y, case.kind, case.seed, case.recipe),)


#: Polish the sample (inputs and targets) of the worst composition; its layers stay fixed.
POLISH = Polish(check_bound, composition_case_of, free=("X", "Y"))


@given(case=compositions())
@example(case=make_composition_case(kind="linear", m=1, n=1, d=1, seed=0, epsilon=0.01))
@example(case=make_composition_case(kind="tanh", m=6, n=12, d=4, seed=3, epsilon=0.9, duplicates=3))
def test_gradient_lower_bound(case):
    check_bound(case)


@given(case=compositions(max_m=4, max_n=8, max_d=3))
def test_projection_theorem_on_the_sample(case):
    """Proof idea (1): Q(h) = (1/2) E||h(X) - h*(X)||^2 + Q(h*), also with repeated inputs."""
    risk = CompositionRisk(case.layers, case.X, case.Y)
    half_gap = 0.5 * float(np.mean(np.sum((risk.states[-1] - risk.h_star) ** 2, axis=1)))
    scale = risk.risk() + half_gap + risk.optimal_risk() + EPS
    evidence.check_close(CLAIM, composition_instance(case, risk), error=abs(risk.risk() - half_gap - risk.optimal_risk()),
                         tol=projection_identity_atol(case.X.shape[0], case.X.shape[1], scale),
                         what="projection identity error")


def central_difference_errors(case: CompositionCase, derivative=None) -> np.ndarray:
    """Per layer: |(Q(h_i + t Delta) - Q(h_i - t Delta))/2t - D_{h_i}Q(h)(Delta)| / richardson_tol,
    Delta(z) = P tanh(z) (Delta(0) = 0)."""
    risk = CompositionRisk(case.layers, case.X, case.Y)
    P = np.random.default_rng([case.seed, 23]).standard_normal((case.X.shape[1],) * 2)

    def delta(Z):
        return np.tanh(Z) @ P.T

    derivative = derivative or risk.derivative
    t, out = 1e-4, []
    for i in range(1, risk.m + 1):
        fd = [(risk.perturbed_risk(i, delta, s) - risk.perturbed_risk(i, delta, -s)) / (2 * s) for s in (t, 2 * t)]
        tol = richardson_tol(fd[0], fd[1], risk.risk() + 1.0, t)
        out.append(abs(fd[0] - derivative(i, delta)) / tol)
    return np.array(out)


@given(case=compositions(max_m=4, max_n=8, max_d=3))
def test_frechet_derivative_matches_central_differences(case):
    """Proof idea (2): D_{h_i}Q(h)(Delta) = E[(h(X) - Y)^T J_{>i} Delta(z_{i-1})]."""
    err = central_difference_errors(case)
    evidence.check_close(CLAIM, composition_instance(case, CompositionRisk(case.layers, case.X, case.Y)),
                         error=float(err.max()), tol=1.0, what="max_i central-difference error / tolerance")


# --- sensitivity ------------------------------------------------------------------------------

def _violates(factor=1.0, dropped=()):
    def violates(case):
        with evidence.scratch():
            return raises_violation(check_bound, case, factor, dropped)
    return violates


def test_check_catches_planted_constant():
    """Planted: 3 (1 - eps)^{m-1} (Q - Q*) / ||h - h*||; the proof gives 2, attained."""
    expect_caught(CLAIM, "constant 3 in place of 1 (proof: 2, attained)", compositions(), _violates(3.0))


def test_check_catches_dropped_zero_fixing():
    """Hypothesis dropped: translations and sigmoid layers (h_i(0) != 0); the search must find a
    violation (the slide's statement as written is refuted this way)."""
    expect_caught(CLAIM, "h_i(0) = 0 dropped (translations, sigmoid layers)",
                  compositions(kinds=OFFSET_KINDS, max_epsilon=0.2), _violates(dropped=(ZERO_FIXING.name,)))


def test_check_catches_dropped_epsilon_below_one():
    """Hypothesis dropped: eps up to 3 (layers I + A with ||A|| up to 3 can be nearly singular)."""
    def violates(case):
        instance, exact, _, rhs = bound_terms(case)
        return 0.0 < instance["distance"] < np.inf and float(exact.min()) < rhs * (1 - BOUND_RTOL)

    expect_caught(CLAIM, "eps < 1 dropped", compositions(kinds=("linear",), max_epsilon=3.0), violates)


@pytest.mark.parametrize("planted", ["no upstream Jacobian"])
def test_check_catches_derivative_without_upstream_jacobian(planted):
    """Planted: D_{h_i}Q(h)(Delta) = E[(h - Y)^T Delta(z_{i-1})] (chain rule without J_{>i})."""
    def violates(case):
        risk = CompositionRisk(case.layers, case.X, case.Y)

        def forgetful(i, delta):
            return float(np.mean(np.sum(risk.residuals * delta(risk.states[i - 1]), axis=1)))
        return central_difference_errors(case, forgetful).max() > 1.0

    expect_caught(CLAIM, planted, compositions(max_m=4, max_n=8, max_d=3), violates)


def test_ratio_two_is_attained():
    """One sample, h = Id: ||D Q|| = |r| |x|, bound = |r| |x| / 2 (the slide loses exactly 2)."""
    case = CompositionCase((make_composition_case(kind="linear", m=1, n=1, d=1, seed=0, epsilon=0.0).layers[0],),
                           np.array([[2.0]]), np.array([[5.0]]), "linear", 0)
    instance, exact, direction, rhs = bound_terms(case)
    evidence.check_allclose(CLAIM, instance, actual=[exact[0] / rhs, direction[0]], desired=[2.0, exact[0]],
                            rtol=SMALL_INTEGER_ARITHMETIC_RTOL,
                            what="(||D Q|| / bound, slide's direction) against (2, ||D Q||)")
