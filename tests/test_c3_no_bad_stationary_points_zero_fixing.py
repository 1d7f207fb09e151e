"""C3 with h_i(0) = 0: the slide's lower bound on ||D_{h_i} Q(h)||, through the slide's own
direction, on linear and tanh-residual compositions; the proof's steps checked on the way. The
faithful reading (layers in Id + F, F the maps of finite induced norm) is checked on the refuted
claim's counterexample family through its zero-fixing counterparts (same sample states)."""
from __future__ import annotations

import ast

import numpy as np
import pytest
from hypothesis import example, given, settings

from resclaims.claims.engine import evidence
from resclaims.claims._functional_risk import ZERO_FIXING
from resclaims.claims.c3_no_bad_stationary_points_zero_fixing import CLAIM
from resclaims.claims.engine.profiles import budget
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.functional_gradient import CompositionRisk
from canaries import expect_caught, raises_violation
from strategies.layers import OFFSET_KINDS, CompositionCase, compositions, make_composition_case
from strategies.maps import composition_instance
from test_c3_no_bad_stationary_points import TranslationMember, bound_terms, translation_members
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


# --- the faithful reading on the refuted claim's counterexample family ------------------------

#: Members whose zero-fixing counterpart is near-identity: |t| = |c/x| <= 63/64 < 1.
COUNTERPART_MAX_ABS_T = 63 / 64


def counterpart_factor(counterpart: CompositionCase) -> float:
    """The factor of :func:`check_bound` that plants the translation's eps = 0 on the counterpart:
    (1 - 0)^(m-1) / (1 - eps)^(m-1), m = 2."""
    return 1.0 / (1.0 - counterpart.epsilon)


def check_counterpart(member: TranslationMember) -> float:
    r"""The refuted claim's family member under the faithful reading. The member itself
    (:math:`h_1(0) = -c`) fails the hypothesis :math:`h_1(0) = 0` (counted as not held, unless
    :math:`c = 0`). Its zero-fixing counterpart has the same sample states, hence the same exact
    dual norms (checked), and needs :math:`\varepsilon = |c/x|`; on it the claim's bound is checked
    (:func:`check_bound`). Returns the counterpart's slack."""
    translation, counterpart = member.translation_case(), member.zero_fixing_case()
    instance, exact, _, _ = bound_terms(translation)
    instance = {**instance, **member.parameters}
    evidence.hypotheses_fail(CLAIM, instance)
    risk = CompositionRisk(counterpart.layers, counterpart.X, counterpart.Y)
    evidence.check_allclose(CLAIM, instance, actual=[risk.derivative_norm(i) for i in (1, 2)], desired=exact,
                            rtol=SMALL_INTEGER_ARITHMETIC_RTOL, held={},
                            what="||D_{h_i}Q|| of the zero-fixing counterpart against the translation's (same states)")
    return check_bound(counterpart)


@settings(max_examples=budget(20))
@given(member=translation_members(max_abs_t=COUNTERPART_MAX_ABS_T))
@example(member=TranslationMember(1.0, 0.75, -1.0))   # the minimal counterexample's counterpart: ratio 2
@example(member=TranslationMember(-2.0, -0.5, 0.25))  # c/x < 0: ratios 4 (i = 1), 6 (i = 2)
def test_faithful_reading_on_the_refuted_family(member):
    """The slide's bound, read faithfully (layers in Id + F, so h_1(0) = 0), on the refuted claim's
    family: the same states need eps = |c/x|, and the bound holds with ratios
    2/(1 - |t|) (i = 1) and 2|1 - t|/(1 - |t|) (i = 2), both >= 2."""
    slack = check_counterpart(member)
    evidence.record_metric(CLAIM, "refuted family's zero-fixing counterpart: least ratio (proof: 2)", 1.0 + slack,
                           reduce="min")


def test_counterpart_check_catches_translation_epsilon():
    """Planted: the counterpart checked at the translation's ||h_1 - Id||_L = 0 (the slide's words),
    i.e. without the eps >= |c/x| that h_1(0) = 0 forces: a sweep of the family (x = 1, r = -1,
    t = k/8) must hit a violation (the bound then reads |1 - t| >= 1/2: t in (1/2, 1))."""
    caught = []
    for t in np.arange(8) / 8:
        counterpart = TranslationMember(1.0, float(t), -1.0).zero_fixing_case()
        with evidence.scratch():
            if raises_violation(check_bound, counterpart, counterpart_factor(counterpart)):
                caught.append(float(t))
    evidence.record_canary(CLAIM, "eps = 0 of the translation in place of the counterpart's |c/x|", caught=bool(caught),
                           detail=f"violated at t = c/x in {caught} of t = 0, 1/8, ..., 7/8")
