"""Every numerical tolerance of the suite, each with its reason.

Scaled as c * (problem size) * eps and compared normwise; one-sided for inequalities
(``lhs <= rhs * (1 + rtol) + atol``, see ``resclaims.claims.evidence``). Loosening one of
these needs a reason written here: a tolerance no bug could trip is a defect.
"""
from __future__ import annotations

import numpy as np

EPS = float(np.finfo(np.float64).eps)


def product_tol(d: int, L: int, cond: float = 1.0) -> float:
    """Relative Frobenius error of a product of L d x d factors built from one SVD/Schur.

    Each factor carries O(d eps) backward error from the decompositions and each of the L
    multiplications adds O(d eps) relative error, amplified by the conditioning ``cond`` of
    the factors (sigma_max / sigma_min of the target). 50 is the observed headroom constant;
    a wrong exponent or index gives O(1) errors, many orders above this.
    """
    return 50.0 * d * L * EPS * max(1.0, cond)


def spectrum_rtol(d: int, L: int) -> float:
    """Error of sigma_j(A_i)^L against sigma_j(A), relative to sigma_1(A).

    Weyl: an SVD of A_i is exact to O(d eps ||A_i||); the L-th power multiplies that by at most
    L sigma_1^{(L-1)/L}, so O(d L eps sigma_1(A)). (Comparing sigma_j(A_i) with sigma_j(A)^{1/L}
    instead is ill conditioned near 0: the nightly search found rank-deficient A with entries
    ~1e-290 where it reaches eps^{1/L}.)
    """
    return 50.0 * d * L * EPS


#: Inequality checks between quantities computed in floating point: the bound's own
#: rounding (a few ulps of each operand), not a fudge factor.
BOUND_RTOL = 1e-9


def risk_identity_rtol(n: int, d: int, kappa: float) -> float:
    """Error of the projection identity on n points in R^d, relative to the scale
    (||X|| (||Theta|| + ||Phi||) + ||Y||)^2 / n of its terms.

    Each empirical risk is a sum of n d-term dot products: rounding O((n + d) eps scale). The
    cross term (2/n) tr((Theta - Phi) X^T r) of the lstsq residual r adds O(n eps kappa scale),
    kappa the condition number of X on its range. A wrong Phi leaves an O(1) cross term.
    """
    return 100.0 * (n + d) * EPS * max(1.0, kappa)


# --- C2: residual layers x + A sigma(Bx) (tests/test_c2_*.py) -----------------------------

#: ``tol`` passed to ``ResidualLayer.inverse``: the certified a-posteriori error of the
#: fixed-point iterate, relative to 1 + ||y||. The iteration's rounding floor is about
#: alpha/(1-alpha) * (d + k) eps ||x|| <= 19 * 12 * 2.2e-16 ~ 5e-14 at alpha = 0.95, so 1e-12
#: converges on every instance of the strategies; a wrong sign or a missing term in the
#: iteration leaves O(alpha) errors, ten orders above.
INVERSE_TOL = 1e-12


def evaluation_rtol(d: int, k: int) -> float:
    """Rounding of one evaluation of x + A sigma(Bx), relative to ||x|| + ||A sigma(Bx)|| + 1.

    Two matrix-vector products of inner sizes d and k (gamma_{d+k} ~ (d + k) eps each) plus
    the activation's few ulps; 16 is headroom for the sum of the two products' bounds.
    """
    return 16.0 * (d + k) * EPS


def quotient_atol(d: int, k: int, magnitude: float, separation: float) -> float:
    """Absolute rounding of a difference quotient ||f(x) - f(y)|| / ||x - y||.

    f(x) and f(y) each carry ``evaluation_rtol * magnitude`` absolute error (``magnitude`` =
    ||x|| + ||f(x)|| + 1 of the larger point), and the difference is divided by the
    separation: cancellation, not the bound, decides. The strategies keep separations
    >= 1e-3 (1 + ||x||), so this stays below 1e-11, far under any planted constant error.
    """
    return 2.0 * evaluation_rtol(d, k) * magnitude / separation


def inverse_quotient_atol(d: int, k: int, magnitude: float, separation: float) -> float:
    """Absolute error of ||f^{-1}(y1) - f^{-1}(y2)|| / ||y1 - y2|| with an iterative inverse.

    Each computed preimage is within ``INVERSE_TOL * (1 + ||y||)`` of the true one (the
    iteration's certified a-posteriori bound) plus its evaluation rounding; two of them,
    divided by the separation of the pair.
    """
    return 2.0 * (INVERSE_TOL + evaluation_rtol(d, k)) * magnitude / separation


#: sup |sigma'''| of the smooth activations (bounds the truncation error of central
#: differences): sigmoid sigma''' = p (1 - 6p) with p = sigma' in [0, 1/4], extreme -1/8 at
#: z = 0; tanh''' = -2 (1 - t^2)(1 - 3 t^2), extreme -2 at z = 0. ReLU: 0 on a segment that
#: crosses no kink (segments that do are excluded by the tests). Checked with SymPy in
#: tests/test_c2_composition_derivative.py.
THIRD_DERIVATIVE_MAX = {"sigmoid": 0.125, "tanh": 2.0, "relu": 0.0}


def central_difference_tol(
    step: float, third_bound: float, magnitude: float, d: int, k: int
) -> float:
    """Error bound of a central difference (f(z + t v) - f(z - t v)) / 2t against Df(z) v.

    Taylor: truncation <= t^2/6 * sup ||D^3 f[v, v, v]||, passed as ``third_bound`` (for
    x + A sigma(Bx): ||A||_2 * sup|sigma'''| * ||Bv||_2^3); rounding: two evaluations of
    relative error ``evaluation_rtol`` on ``magnitude`` (||z|| + t||v|| + ||f(z)|| + 1),
    divided by 2t. Factor 2 on each term is headroom for the bounds' own rounding, not for a
    wrong derivative (which errs by O(alpha ||v||)).
    """
    truncation = step * step / 6.0 * third_bound
    rounding = evaluation_rtol(d, k) * magnitude / step
    return 2.0 * (truncation + rounding)


def jacobian_deviation_atol(d: int, k: int, product_norm: float) -> float:
    """Absolute rounding of ||Df(z) - I||_2 with Df(z) = I + A diag(s) B formed explicitly.

    The product A diag(s) B carries ``evaluation_rtol * product_norm`` (``product_norm`` =
    s_max ||A||_2 ||B||_2 bounds it), adding then subtracting I a few ulps of 1, and the SVD
    a backward error of a few d eps of the matrix: all below ``evaluation_rtol * (1 + norm)``.
    """
    return evaluation_rtol(d, k) * (1.0 + product_norm)


def eigenvalue_atol(d: int) -> float:
    """Absolute error of lambda_min(I + A) + ||A|| for ||A|| <= 1 (both O(1)).

    Backward-stable eigenvalues of a well-conditioned (e.g. normal) matrix and the spectral
    norm are each exact to O(d eps); an ill-conditioned eigenvalue can be off by more, and a
    violation then goes to the exact re-check (the check's ``exact=``) before it counts.
    """
    return 100.0 * d * EPS


# --- B: deep linear networks (tests/test_b*.py, tests/test_a2*.py) -------------------------

def gradient_bound_rtol(d: int, L: int, cond: float) -> float:
    """Relative error of ||grad||^2 / (2 L loss (1-a)^{2(L-1)}) (B3, A2).

    The gradient's 3L products carry O(L d eps) relative error each way; sigma_min from an SVD
    is exact to d eps sigma_max, which the power 2(L-1) turns into 2 (L-1) d eps cond relative
    error, cond = sigma_max / sigma_min of the layers. 50 is headroom; a wrong constant or
    exponent is off by a factor >= (1-a)^{-2} or 2.
    """
    return 50.0 * L * d * EPS * max(1.0, cond)
