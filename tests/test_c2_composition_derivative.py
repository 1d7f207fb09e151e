"""C2 (3): for F(g) = f o g, ||DF(g) - Id|| <= alpha in the slide's induced norm.

(i) ||Df(z) - I||_2 <= alpha pointwise (the lemma the slide's argument rests on); (ii) the
induced norm of (DF(g) - Id) Delta over the sample; (iii) the chain rule
(DF(g) Delta)(x) = Df(g(x)) Delta(x) against central differences of F(g + t Delta).
"""
from __future__ import annotations

import numpy as np
import sympy
from hypothesis import example, given
from sympy.calculus.util import maximum, minimum

from resclaims.claims.engine import evidence
from resclaims.claims.c2_composition_derivative import (
    CLAIM,
    derivative_deviation_bound,
    induced_norm_on_samples,
)
from resclaims.claims.engine.tightness import Polish
from canaries import expect_caught
from strategies.layers import (
    LayerCase,
    make_layer_case,
    make_smooth_map,
    make_unit_layer_case,
    residual_layers,
    row_norms,
    sample_points,
    vertex_points,
)
from test_c2_forward_lipschitz_bound import layer_case_of
from tolerances import (
    BOUND_RTOL,
    CENTRAL_DIFFERENCE_STEP,
    KINK_MARGIN,
    THIRD_DERIVATIVE_MAX,
    central_difference_tol,
    jacobian_deviation_atol,
)

N_POINTS = 12


def _product_norm(case: LayerCase) -> float:
    L = case.layer
    return L.slope_max * np.linalg.norm(L.A, 2) * np.linalg.norm(L.B, 2)


def jacobian_deviation(case: LayerCase) -> tuple[float, float]:
    """(max_z ||Df(z) - I||_2 over samples and vertex points, its atol)."""
    L = case.layer
    Z = np.vstack([sample_points(case, N_POINTS, stream=6) * 3.0, vertex_points(case)])
    J = np.stack([L.jacobian(z) for z in Z]) - np.eye(L.d)
    lhs = float(np.max(np.linalg.norm(J, 2, axis=(1, 2))))
    return lhs, jacobian_deviation_atol(L.d, L.k, _product_norm(case))


def composition_setup(case: LayerCase):
    """Sample points x != 0, g(x), Delta(x) for a random smooth g (not near-identity) and Delta."""
    g = make_smooth_map(case, stream=10, scale=2.0)
    delta = make_smooth_map(case, stream=11)
    X = sample_points(case, N_POINTS + 1, stream=12)[1:]  # row 0 is the origin
    return X, g(X), delta(X)


def chain_rule_derivative(case: LayerCase, X: np.ndarray, G: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Rows (DF(g) Delta)(x_i) = Df(g(x_i)) Delta(x_i), with ``G = g(X)`` and ``V = Delta(X)``."""
    return np.einsum("nij,nj->ni", np.stack([case.layer.jacobian(z) for z in G]), V)


def inducedrow_norms(case: LayerCase, derivative=chain_rule_derivative) -> tuple[float, float]:
    """(||(DF(g) - Id) Delta||, ||Delta||), both as the slide's induced norm over the sample."""
    X, G, V = composition_setup(case)
    W = derivative(case, X, G, V) - V
    return induced_norm_on_samples(W, X), induced_norm_on_samples(V, X)


def central_difference_errors(case: LayerCase, derivative=chain_rule_derivative) -> tuple[np.ndarray, int]:
    """Per sample x: ||(F(g + t Delta) - F(g - t Delta))(x) / 2t - (DF(g) Delta)(x)|| / tolerance.

    The step t is chosen per point so that the z-space step t ||Delta(x)|| is
    CENTRAL_DIFFERENCE_STEP (1 + ||z||) / max(1, ||B||_2) (truncation ~1e-8 relative, rounding
    ~1e-12).
    Also returns how many ReLU points were left out because z +- t v crosses a kink (f is
    not differentiable there; the claim needs Df at g(x)).
    """
    L = case.layer
    X, G, V = composition_setup(case)
    h = CENTRAL_DIFFERENCE_STEP * (1.0 + row_norms(G)) / max(1.0, np.linalg.norm(L.B, 2))
    t = h / row_norms(V)
    fd = (L(G + t[:, None] * V) - L(G - t[:, None] * V)) / (2.0 * t[:, None])  # F(g +- t Delta)(x)
    BV = V @ L.B.T
    third = np.linalg.norm(L.A, 2) * THIRD_DERIVATIVE_MAX[L.activation] * row_norms(BV) ** 3
    magnitude = 1.0 + row_norms(G) + h + row_norms(L(G))
    tol = central_difference_tol(t, third, magnitude, L.d, L.k)
    err = row_norms(fd - derivative(case, X, G, V)) / tol
    keep = np.ones(len(X), bool)
    if L.activation == "relu":
        keep = np.all(np.abs(G @ L.B.T) > KINK_MARGIN * t[:, None] * np.abs(BV), axis=1)
    return err[keep], int((~keep).sum())


def check_jacobian_deviation(case: LayerCase) -> float:
    """(i) ||Df(z) - I||_2 <= alpha over samples and vertex points; returns the slack."""
    lhs, atol = jacobian_deviation(case)
    rhs = derivative_deviation_bound(case.alpha)
    return evidence.check_upper(CLAIM, case.instance, lhs=lhs, rhs=rhs, rtol=BOUND_RTOL, atol=atol,
                                metrics={"max ||Df(z) - I|| / alpha": lhs / rhs})


def check_induced_norm(case: LayerCase) -> float:
    """(ii) ||(DF(g) - Id) Delta|| <= alpha ||Delta|| in the induced norm over the sample; returns the slack."""
    lhs, norm_delta = inducedrow_norms(case)
    rhs = derivative_deviation_bound(case.alpha) * norm_delta
    atol = jacobian_deviation_atol(case.layer.d, case.layer.k, _product_norm(case)) * norm_delta
    return evidence.check_upper(CLAIM, case.instance, lhs=lhs, rhs=rhs, rtol=BOUND_RTOL, atol=atol,
                                metrics={"||(DF(g) - Id) Delta|| / (alpha ||Delta||)": lhs / rhs})


def check(case: LayerCase) -> float:
    """Both inequalities of the claim on one layer, (i) and (ii); returns the smaller slack (the
    polished objective). The chain-rule identity (iii) checks the engine's derivative, not the
    bound: not polished."""
    return min(check_jacobian_deviation(case), check_induced_norm(case))


#: Polish the weights A, B of the worst layer; alpha is re-certified from them (never moved).
POLISH = Polish(check, layer_case_of, free=("A", "B"))


@given(case=residual_layers())
@example(case=make_layer_case(d=2, k=2, activation="relu", seed=0, alpha=0.95, b_scale=1.0))
@example(case=make_layer_case(d=3, k=6, activation="sigmoid", seed=2, alpha=0.95, b_scale=0.1))
def test_jacobian_minus_identity_at_most_alpha(case):
    """||Df(z) - I||_2 <= alpha at samples and at points realising each slope vertex."""
    check_jacobian_deviation(case)


@given(case=residual_layers())
@example(case=make_layer_case(d=1, k=1, activation="tanh", seed=0, alpha=0.95, b_scale=1.0))
def test_derivative_of_composition_minus_identity_at_most_alpha(case):
    """||(DF(g) - Id) Delta|| <= alpha ||Delta|| (induced norm over the sample)."""
    check_induced_norm(case)


@given(case=residual_layers())
@example(case=make_layer_case(d=2, k=3, activation="tanh", seed=4, alpha=0.95, b_scale=5.0))
def test_chain_rule_matches_central_differences(case):
    """(DF(g) Delta)(x) = Df(g(x)) Delta(x), against central differences of t -> F(g + t Delta)(x)."""
    err, skipped = central_difference_errors(case)
    evidence.check_close(CLAIM, case.instance, error=float(err.max(initial=0.0)), tol=1.0,
                         what="max central-difference error / tolerance",
                         metrics={"ReLU points skipped (kink within step)": skipped})


def test_activation_derivative_constants_symbolically():
    """sup sigma' and sup |sigma'''| used by the bound and the difference tolerance.

    With S = sigmoid(z) in (0, 1), d/dz p(S) = p'(S) S (1 - S); with T = tanh(z) in (-1, 1),
    d/dz p(T) = p'(T)(1 - T^2). Extremes over the closed intervals are the suprema. Each fact
    is recorded on the one-unit layer x + sigma(x)/2 of its activation (certificate s_max / 2).
    """
    z, S, T = sympy.symbols("z S T", real=True)
    sig = 1 / (1 + sympy.exp(-z))
    dS = lambda p: sympy.diff(p, S) * S * (1 - S)  # noqa: E731
    dT = lambda p: sympy.diff(p, T) * (1 - T**2)  # noqa: E731
    s1, s3 = S * (1 - S), dS(dS(S * (1 - S)))
    t1, t3 = 1 - T**2, dT(dT(1 - T**2))
    sigmoid = make_unit_layer_case(activation="sigmoid").instance
    tanh = make_unit_layer_case(activation="tanh").instance
    # the S- and T-polynomials are the derivatives (identities in z)
    evidence.check_symbolic(CLAIM, sigmoid, lhs=sympy.diff(sig, z, 3), rhs=s3.subs(S, sig),
                            what="sigma''' as a polynomial in S = sigma(z)")
    evidence.check_symbolic(CLAIM, tanh, lhs=sympy.diff(sympy.tanh(z), z, 3).rewrite(sympy.exp),
                            rhs=t3.subs(T, sympy.tanh(z)).rewrite(sympy.exp),
                            what="tanh''' as a polynomial in T = tanh(z)")
    unit, sym = sympy.Interval(0, 1), sympy.Interval(-1, 1)
    evidence.check_equal(CLAIM, sigmoid, actual=(maximum(s1, S, unit), minimum(s1, S, unit)),
                         expected=(sympy.Rational(1, 4), 0), what="(max, min) of sigma' = S (1 - S)")
    evidence.check_equal(CLAIM, tanh, actual=(maximum(t1, T, sym), minimum(t1, T, sym)),
                         expected=(1, 0), what="(max, min) of tanh' = 1 - T^2")
    sig3 = max(abs(maximum(s3, S, unit)), abs(minimum(s3, S, unit)))
    tanh3 = max(abs(maximum(t3, T, sym)), abs(minimum(t3, T, sym)))
    evidence.check_equal(CLAIM, sigmoid, actual=sig3, expected=sympy.Rational(1, 8), what="sup |sigma'''|")
    evidence.check_equal(CLAIM, tanh, actual=tanh3, expected=2, what="sup |tanh'''|")
    evidence.check_equal(CLAIM, sigmoid, actual=THIRD_DERIVATIVE_MAX["sigmoid"], expected=float(sig3),
                         what="tolerances.THIRD_DERIVATIVE_MAX['sigmoid']")
    evidence.check_equal(CLAIM, tanh, actual=THIRD_DERIVATIVE_MAX["tanh"], expected=float(tanh3),
                         what="tolerances.THIRD_DERIVATIVE_MAX['tanh']")


# --- sensitivity: planted constants and a planted chain-rule bug the checks must catch ----

def test_check_catches_planted_constant():
    """Planted: alpha/2 in place of alpha in ||(DF(g) - Id) Delta|| <= alpha ||Delta||."""
    def violates(case):
        lhs, norm_delta = inducedrow_norms(case)
        atol = jacobian_deviation_atol(case.layer.d, case.layer.k, _product_norm(case)) * norm_delta
        return evidence.exceeds(lhs, case.alpha / 2 * norm_delta, rtol=BOUND_RTOL, atol=atol)

    expect_caught(CLAIM, "alpha/2 in place of alpha", residual_layers(), violates)


def test_check_catches_wrong_sigmoid_slope_bound():
    """Planted: s_max = 1/8 for the sigmoid, i.e. a certificate alpha/2 (homogeneous in s_max)."""
    def violates(case):
        lhs, atol = jacobian_deviation(case)
        return evidence.exceeds(lhs, case.alpha / 2, rtol=BOUND_RTOL, atol=atol)

    expect_caught(CLAIM, "sigmoid slope bound 1/8 in place of 1/4", residual_layers(activations=("sigmoid",)), violates)


def test_check_catches_chain_rule_without_g():
    """Planted: (DF(g) Delta)(x) = Df(x) Delta(x), the derivative taken at x, not at g(x)."""
    def forgets_g(case, X, G, V):
        return chain_rule_derivative(case, X, X, V)

    def violates(case):
        return central_difference_errors(case, forgets_g)[0].max(initial=0.0) > 1.0

    expect_caught(CLAIM, "Df(x) in place of Df(g(x))", residual_layers(), violates)


# --- the certificate alpha is sharp where it can be ---------------------------------------

@given(case=residual_layers(activations=("relu",), wide=False))
def test_certificate_is_attained_for_relu_layers_with_k_at_most_d(case):
    """For ReLU with k <= d (B of full row rank, almost surely), every slope pattern is realised
    by some z, so max_z ||Df(z) - I||_2 equals the vertex enumeration: alpha is not loose.

    Not part of the slide's claim (a loose alpha keeps every inequality true); it guards the
    strength of the other checks, which are only as sharp as alpha. Recorded as a sensitivity
    check (a loose certificate would leave the other checks unable to fail), not as a bound of
    the claim: its slack must not enter the worst slack of the upper bound.
    """
    if case.layer.k > case.layer.d:  # reparametrise instead of filtering: k <= d
        case = make_layer_case(d=case.layer.k, k=case.layer.d, activation="relu", seed=case.seed,
                               alpha=case.alpha, b_scale=case.b_scale)
    lhs, atol = jacobian_deviation(case)
    evidence.record_metric(CLAIM, "ReLU k <= d: max ||Df(z) - I|| / alpha (1 = sharp)", lhs / case.alpha, reduce="min")
    attained = lhs >= case.alpha - atol - BOUND_RTOL * case.alpha
    evidence.record_canary(CLAIM, "certificate alpha attained (ReLU, k <= d)", caught=attained,
                           detail=f"{case!r}: max ||Df(z) - I||_2 = {lhs!r}, alpha = {case.alpha!r}")
