"""C2 (2b): ||f^{-1}||_L <= 1/(1 - alpha) for residual layers with certified ||f - Id||_L <= alpha < 1."""
from __future__ import annotations

import numpy as np
from hypothesis import example, given

from resclaims.claims.engine import evidence
from resclaims.claims.c2_inverse_lipschitz_bound import CLAIM, inverse_lipschitz_bound
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.residual_layer import lipschitz_ratio_samples
from canaries import expect_caught
from strategies.layers import LayerCase, make_layer_case, probe_pairs, residual_layers, row_norms
from test_c2_forward_lipschitz_bound import layer_case_of
from tolerances import BOUND_RTOL, INVERSE_TOL, inverse_quotient_atol

N_POINTS = 12


def inverse_worst_pair(case: LayerCase) -> tuple[float, float]:
    """(quotient of f^{-1}, atol) of the pair closest to violating ``q <= bound + atol + rtol |bound|``.

    Pairs u = f(x), v = f(x + h w) with w the weakest direction of Df(x) (where f^{-1}
    stretches most) or random; f^{-1} is the computed inverse, not the known x.
    """
    L = case.layer
    X1, X2 = probe_pairs(case, N_POINTS, which="bottom", stream=4)
    U, V = L(X1), L(X2)
    q = lipschitz_ratio_samples(lambda Y: L.inverse(Y, tol=INVERSE_TOL), U, V)
    magnitude = 1.0 + np.maximum(row_norms(U), row_norms(V)) + np.maximum(row_norms(X1), row_norms(X2))
    atol = inverse_quotient_atol(L.d, L.k, magnitude, row_norms(U - V))
    i = int(np.argmax(q - atol))
    return float(q[i]), float(atol[i])


def check(case: LayerCase) -> float:
    """The claim's check on one layer, compared as the excess over 1 (slack relative to
    alpha / (1 - alpha), see the forward bound); returns the slack."""
    q, atol = inverse_worst_pair(case)
    excess = inverse_lipschitz_bound(case.alpha) - 1.0
    return evidence.check_upper(CLAIM, case.instance, lhs=q - 1.0, rhs=excess, rtol=BOUND_RTOL, atol=atol,
                                metrics={"(max quotient of f^-1 - 1) / (1/(1 - alpha) - 1)": (q - 1.0) / excess})


#: Polish the weights A, B of the worst layer (alpha re-certified from them). Layers with
#: alpha >= 0.99 score +inf: the fixed-point inverse needs ~log(1e-14)/log(alpha) iterations
#: (over 3000 there), which would make the objective expensive (and alpha >= 1 has no inverse).
POLISH = Polish(check, lambda inst: layer_case_of(inst, max_alpha=0.99), free=("A", "B"))


@given(case=residual_layers())
@example(case=make_layer_case(d=1, k=1, activation="relu", seed=1, alpha=0.95, b_scale=1.0))
@example(case=make_layer_case(d=3, k=2, activation="tanh", seed=3, alpha=0.9, b_scale=0.1))
def test_inverse_lipschitz_at_most_one_over_one_minus_alpha(case):
    check(case)


# --- sensitivity: a planted constant the check must catch ---------------------------------

def test_check_catches_planted_constant():
    """Planted: 1 + alpha (the forward constant) in place of 1/(1 - alpha)."""
    def violates(case):
        q, atol = inverse_worst_pair(case)
        return evidence.exceeds(q - 1.0, case.alpha, rtol=BOUND_RTOL, atol=atol)

    expect_caught(CLAIM, "1 + alpha in place of 1/(1 - alpha)", residual_layers(), violates)
