"""C2 (2a): ||f||_L <= 1 + alpha for residual layers with certified ||f - Id||_L <= alpha."""
from __future__ import annotations

import numpy as np
import sympy
from hypothesis import example, given
from sympy.calculus.util import maximum, minimum

from resclaims.claims.engine import evidence
from resclaims.claims.c2_forward_lipschitz_bound import CLAIM, forward_lipschitz_bound
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.residual_layer import SLOPE_MAX, ResidualLayer, lipschitz_ratio_samples
from canaries import expect_caught
from strategies.layers import LayerCase, make_layer_case, make_unit_layer_case, probe_pairs, residual_layers
from tolerances import BOUND_RTOL, quotient_atol

N_POINTS = 12


def forward_quotients(case: LayerCase) -> tuple[np.ndarray, np.ndarray]:
    """Difference quotients of f on probe pairs (top singular directions) and their atol."""
    L = case.layer
    X1, X2 = probe_pairs(case, N_POINTS, which="top")
    q = lipschitz_ratio_samples(L, X1, X2)
    magnitude = 1.0 + np.maximum(np.linalg.norm(X1, axis=1), np.linalg.norm(X2, axis=1)) \
        + np.maximum(np.linalg.norm(L(X1), axis=1), np.linalg.norm(L(X2), axis=1))
    return q, quotient_atol(L.d, L.k, magnitude, np.linalg.norm(X1 - X2, axis=1))


def layer_case_of(instance: dict, *, max_alpha: float = 1.0) -> tuple[LayerCase]:
    """The case of a stored instance (the POLISH arguments of the C2 checks): the layer from its
    weights ``A``, ``B``, so that its bound alpha is certified afresh (any A, B stays valid);
    seed (sample streams) and activation as stored. Layers with alpha >= ``max_alpha`` raise
    ``ValueError`` (the polish scores them +inf)."""
    layer = ResidualLayer(np.asarray(instance["A"], dtype=float), np.asarray(instance["B"], dtype=float),
                          instance["activation"])
    case = LayerCase(layer, int(instance["seed"]), float(instance["b_scale"]))
    if not case.alpha < max_alpha:
        raise ValueError(f"alpha = {case.alpha!r} >= {max_alpha}")
    return (case,)


def worst_pair(case: LayerCase) -> tuple[float, float]:
    """(quotient, atol) of the pair closest to violating ``q <= bound + atol + rtol |bound|``."""
    q, atol = forward_quotients(case)
    i = int(np.argmax(q - atol))
    return float(q[i]), float(atol[i])


def violates(case: LayerCase, bound) -> bool:
    """The check's own rule (as evidence.check_upper), for sensitivity tests."""
    q, atol = worst_pair(case)
    return evidence.exceeds(q - 1.0, bound(case.alpha) - 1.0, rtol=BOUND_RTOL, atol=atol)


def check(case: LayerCase) -> float:
    """The claim's check on one layer; returns the slack.

    Compared as the excess over 1, so that the slack is relative to alpha (the content of the
    bound) and target() does not drift to alpha -> 0, where 1 + alpha is trivially tight."""
    q, atol = worst_pair(case)
    excess = forward_lipschitz_bound(case.alpha) - 1.0
    return evidence.check_upper(CLAIM, case.instance, lhs=q - 1.0, rhs=excess, rtol=BOUND_RTOL, atol=atol,
                                metrics={"(max quotient - 1) / alpha": (q - 1.0) / excess})


#: Polish the weights A, B of the worst layer; alpha is re-certified from them (never moved).
POLISH = Polish(check, layer_case_of, free=("A", "B"))


@given(case=residual_layers())
@example(case=make_layer_case(d=1, k=1, activation="relu", seed=0, alpha=0.95, b_scale=1.0))
@example(case=make_layer_case(d=2, k=3, activation="sigmoid", seed=1, alpha=0.5, b_scale=5.0))
def test_forward_lipschitz_at_most_one_plus_alpha(case):
    check(case)


def test_sigmoid_slope_max_is_one_quarter_symbolically():
    """The bound's s_max: sup sigma' = 1/4 (sigmoid), 1 (tanh) exactly, as impl uses.

    sigma' = S (1 - S) with S = sigma(z) in (0, 1); tanh' = 1 - T^2 with T in (-1, 1); the
    extremes over the closed intervals are the suprema (attained at z = 0). Each fact is
    recorded on the one-unit layer x + sigma(x)/2 of its activation, whose certificate is
    s_max / 2.
    """
    z, S, T = sympy.symbols("z S T", real=True)
    sig = 1 / (1 + sympy.exp(-z))
    sigmoid = make_unit_layer_case(activation="sigmoid").instance
    tanh = make_unit_layer_case(activation="tanh").instance
    relu = make_unit_layer_case(activation="relu").instance
    evidence.check_symbolic(CLAIM, sigmoid, lhs=sympy.diff(sig, z), rhs=sig * (1 - sig),
                            what="sigma' = sigma (1 - sigma), an identity in z")
    smax = maximum(S * (1 - S), S, sympy.Interval(0, 1))
    evidence.check_equal(CLAIM, sigmoid, actual=smax, expected=sympy.Rational(1, 4),
                         what="max of S (1 - S) over S in [0, 1]")
    evidence.check_symbolic(CLAIM, sigmoid, lhs=smax - S * (1 - S), rhs=(S - sympy.Rational(1, 2)) ** 2,
                            what="1/4 - S (1 - S) = (S - 1/2)^2")
    evidence.check_equal(CLAIM, sigmoid, actual=sympy.diff(sig, z).subs(z, 0), expected=sympy.Rational(1, 4),
                         what="sigma'(0)")
    evidence.check_equal(CLAIM, sigmoid, actual=minimum(S * (1 - S), S, sympy.Interval(0, 1)), expected=0,
                         what="min of S (1 - S) over S in [0, 1]")
    evidence.check_equal(CLAIM, tanh, actual=maximum(1 - T**2, T, sympy.Interval(-1, 1)), expected=1,
                         what="max of 1 - T^2 over T in [-1, 1]")
    for instance, expected in ((sigmoid, float(smax)), (tanh, 1.0), (relu, 1.0)):
        evidence.check_equal(CLAIM, instance, actual=SLOPE_MAX[instance["activation"]], expected=expected,
                             what=f"impl SLOPE_MAX[{instance['activation']!r}]")


# --- sensitivity: a planted constant the check must catch ---------------------------------

def test_check_catches_planted_constant():
    """Planted: 1 + alpha/2 in place of 1 + alpha."""
    expect_caught(CLAIM, "1 + alpha/2 in place of 1 + alpha", residual_layers(), lambda c: violates(c, lambda a: 1 + a / 2))
