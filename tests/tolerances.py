"""Every numerical tolerance of the suite, each with its reason.

Scaled as c * (problem size) * eps and compared normwise; one-sided for inequalities
(``lhs <= rhs + atol + rtol * |rhs|``, see ``resclaims.claims.engine.evidence``). Loosening one of
these needs a reason written here: a tolerance no bug could trip is a defect.
"""
from __future__ import annotations

import math

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


# --- C1/C3: nonlinear maps as compositions of near-identities (tests/test_c1_*.py, test_c3_*.py)

def decomposition_tol(m: int, depth: int, layer_alpha: float, d: int, k: int, lipschitz: float,
                      inverse_lipschitz: float, scale: float) -> float:
    """Absolute error of h_m o ... o h_1(x) (each layer g_{a_i} o g_{a_{i-1}}^{-1} evaluated with
    an iterative inverse) against h(x), for ||x||, ||h(x)|| <= ``scale``.

    Each of the m layers inverts ``depth`` residual layers, each certified to INVERSE_TOL
    (1 + ||.||) at the scale of the point (NearIdentityDecomposition.g_inverse scales the
    tolerance with a), amplified by the later inverses' 1/(1 - alpha) each, plus the rounding
    of evaluating g (``evaluation_rtol`` per residual layer). The error made at layer i then
    passes through h_m o ... o h_{i+1} = g_1 o g_{a_i}^{-1}, Lipschitz <= L M. A wrong index
    or scale in the construction errs by O(||h - Id||) on the box, many orders above.
    """
    per_layer = depth * (INVERSE_TOL / (1.0 - layer_alpha) ** depth + evaluation_rtol(d, k))
    return m * per_layer * lipschitz * inverse_lipschitz * (1.0 + scale)


#: C1 rate on m = 4 ... 512: the constant of the rate, C(m) = e(m) / rate(m) with e(m) the
#: measured max_i ||h_i - Id||_L, may grow from m = 64 to m = 512 by at most this factor for
#: e(m) = O(rate(m)) to count as consistent. Under a true Theta(log m / m) the ratio tends to 1
#: (finite-m corrections: second-order Taylor terms, relative size O(log m / m) <= 7% at
#: m = 64, and the estimator's deficit at m = 64); the nearest slower rates give
#: (log m)^2 / m: 1.5, m^{-1/2}: 1.89, no decay: 5.33.
RATE_SETTLE_FACTOR = 1.25

#: Lipschitz estimator on 1-d maps: its lower estimate must reach this fraction of the maximum
#: of ||Dh_i - I|| over a dense grid (10^4 points) of the box. A search-quality requirement
#: (the multistart local maximisation converges to the grid's maximiser or a corner), not
#: rounding; the grid itself misses the supremum by O(spacing^2) relative.
ESTIMATOR_SEARCH_RTOL = 1e-3


def determinant_rtol(d: int, m: int) -> float:
    """Relative error of det D(h_m o ... o h_1)(x) against prod (1 - alpha_i)^d.

    The product of m Jacobians carries O(m d eps) relative error, the LU determinant another
    O(d eps) times the condition number (at most prod (1 + alpha_i)/(1 - alpha_i), but the
    bound is only approached where the Jacobians are well conditioned), and each certificate
    alpha_i a few ulps. 100 is headroom; a planted (1 - alpha/2)^d is off by O(alpha).
    """
    return 100.0 * d * (m + 1) * EPS


def richardson_tol(fd_t: float, fd_2t: float, magnitude: float, t: float) -> float:
    """Error bound of a central difference (q(t) - q(-t)) / 2t against q'(0).

    Truncation: (t^2/6) q'''(xi); the difference of the quotients at steps 2t and t is
    (3 t^2 / 6) q''' to leading order, so the truncation at t is about |fd_2t - fd_t| / 3,
    bounded here by 2 |fd_2t - fd_t| (headroom for the next Taylor term). Rounding: two
    evaluations of a value of size ``magnitude``, 16 eps relative each, divided by 2t. A wrong
    derivative formula errs by O(|q'(0)|), far above both.
    """
    return 2.0 * abs(fd_2t - fd_t) + 16.0 * EPS * magnitude / t


def parameter_stationarity_atol(n: int, d: int, scale: float) -> float:
    """Absolute size of a computed gradient that is exactly zero in exact arithmetic (C3 caveat).

    A stationary point by construction (dead ReLU units: every term is exactly 0; sigmoid with
    A = B = 0 and centred data: the gradient is (1/2) mean(x - y), a sum of n terms of size
    ``scale`` that cancels) leaves at most O((n + d) eps scale) from rounding; a point that is
    not stationary has a gradient of the size of the residual times the data.
    """
    return 16.0 * (n + d) * EPS * scale


def stationarity_atol(m: int, d: int, tau: float, sigma_max: float, scale: float) -> float:
    """Absolute error of ||grad f||_F on the linear residual model (A2).

    Theta - A is formed with O(m d eps scale) absolute error (scale = ||Theta||_F + ||A||_F);
    the gradient multiplies it by at most 2 (1 + tau)^{m-1} lambda_max(Sigma). Near a
    stationary point both sides of the bound are of that size, so it is the floor of the check.
    """
    return 2.0 * (1.0 + tau) ** (m - 1) * sigma_max * 100.0 * m * d * EPS * scale


# --- B1, B4, B5: deep linear loss, gradient, Hessian and GD steps ---------------------------
# (tests/test_b1_gradient_formula.py, tests/test_b4_*.py, tests/test_b5_stay_close_to_identity.py)
#
# Notation: along a segment s -> Theta + s V, |s| <= t, every layer has ||Theta_j + s V_j||_2 <= A
# (A = max_j ||Theta_j||_2 + t max_j ||V_j||_2) and ||V_j||_2 <= b. Then the k-th derivative of the
# product P(s) = (Theta_L + s V_L) ... (Theta_1 + s V_1) is a sum of L!/(L-k)! products with k
# factors V and L - k factors Theta + sV, so ||P^(k)(s)||_2 <= L!/(L-k)! b^k A^(L-k).

def _product_derivative_bound(n: int, k: int, A: float, b: float) -> float:
    """||d^k/ds^k of a product of n factors||_2 <= n!/(n-k)! b^k A^(n-k) (0 when k > n)."""
    if k > n:
        return 0.0
    falling = 1
    for j in range(k):
        falling *= n - j
    return falling * b**k * A ** (n - k)


def loss_rounding(d: int, L: int, A: float, target_fro: float) -> float:
    """Absolute rounding error of one evaluation of the loss 1/2 ||Theta_{1:L} - Phi||_F^2.

    The engine forms the product with L - 1 products of inner size d; to first order each adds
    d eps times the product of its factors' norms, so the computed product is within
    (L - 1) d eps sqrt(d) A^L (Frobenius) of the exact one; E = P - Phi adds eps (||P||_F + ||Phi||_F);
    the sum of d^2 squares adds d^2 eps ||E||_F^2 / 2. With e = sqrt(d) A^L + ||Phi||_F >= ||E||_F
    all of it is below (L + 1 + d) d eps e^2; factor 4 is headroom for second-order terms.
    """
    e = np.sqrt(d) * A**L + target_fro
    return 4.0 * (L + 1 + d) * d * EPS * e * e


def gradient_rounding(d: int, L: int, A: float, target_fro: float) -> float:
    """Absolute Frobenius error of the engine's gradient (all L layers).

    Layer i is S_i P_i^T with P_i a product of i - 1 layers and S_i = Theta_{i+1:L}^T E formed with
    L - i more products: about 2L products of inner size d, each adding d eps times the product
    of the factors' norms, A^(L-1) e (e as in :func:`loss_rounding`, which also bounds the error
    of E itself, multiplied by A^(L-1)). sqrt(L) sums the layers in quadrature; factor 4 headroom.
    """
    e = np.sqrt(d) * A**L + target_fro
    return 4.0 * (2 * L + 2 + d) * d * EPS * A ** (L - 1) * e * np.sqrt(L)


def loss_third_derivative_bound(d: int, L: int, A: float, b: float, target_fro: float) -> float:
    """sup_{|s| <= t} |d^3/ds^3 loss(Theta + s V)|.

    loss''' = 3 <P', P''> + <E, P'''> (E = P - Phi, E' = P'), |<X, Y>| <= ||X||_F ||Y||_F and
    ||X||_F <= sqrt(d) ||X||_2, with the product-derivative bounds of this section.
    """
    p = [np.sqrt(d) * _product_derivative_bound(L, k, A, b) for k in range(4)]
    e = np.sqrt(d) * A**L + target_fro
    return 3.0 * p[1] * p[2] + e * p[3]


def gradient_third_derivative_bound(d: int, L: int, A: float, b: float, target_2: float) -> float:
    """sup_{|s| <= t} ||d^3/ds^3 grad loss(Theta + s V)||_F (all layers).

    Layer i is B_i^T E A_i^T with B_i = Theta_{i+1:L} (L - i factors), A_i = Theta_{1:i-1}
    (i - 1 factors) and E = P - Phi (||E||_2 <= A^L + ||Phi||_2, E^(q) = P^(q) for q >= 1);
    Leibniz over the three factors, sum over p + q + r = 3 of 3!/(p! q! r!) times the spectral
    bounds, then sqrt(d) per layer for the Frobenius norm, layers in quadrature.
    """
    import math

    total = 0.0
    for i in range(1, L + 1):
        s = 0.0
        for p in range(4):
            for q in range(4 - p):
                r = 3 - p - q
                ee = A**L + target_2 if q == 0 else _product_derivative_bound(L, q, A, b)
                s += (6 / (math.factorial(p) * math.factorial(q) * math.factorial(r))
                      * _product_derivative_bound(L - i, p, A, b) * ee * _product_derivative_bound(i - 1, r, A, b))
        total += d * s * s
    return float(np.sqrt(total))


def central_difference_step_and_tol(a: float, b: float, third_bound, rounding) -> tuple[float, float]:
    """Step t and error bound of a central difference (f(t) - f(-t)) / 2t against f'(0).

    Taylor: truncation <= t^2/6 sup |f'''| (``third_bound(A)``, A = a + t b the largest layer norm
    on the segment); rounding: two evaluations of absolute error ``rounding(A)``, divided by 2t,
    plus the rounding of the derivative being checked (also <= ``rounding(A)``, same products).
    t minimises the sum (fixed point of t = (3 rounding / third)^(1/3), capped at 1/b so that A
    stays within a + 1); the bound is then evaluated at the A of that t, so it is rigorous for
    the step actually taken. Factor 2 on the sum is headroom for the bounds' own rounding, not
    for a wrong derivative, which errs by O(||f'||), eight or more orders above.
    """
    t = 0.0
    for _ in range(3):
        A = a + t * b
        third = third_bound(A)
        t = min((3.0 * rounding(A) / third) ** (1.0 / 3.0), 1.0 / b) if third > 0 else 1.0 / b
    A = a + t * b
    return t, 2.0 * (t * t / 6.0 * third_bound(A) + rounding(A) / t + rounding(A))


def gd_step_tol(d: int, L: int, A: float, target_fro: float, eta: float, layers_fro: float) -> float:
    """||engine step - (Theta - eta grad)||_F: the fused dgemm and a separate product differ in
    the rounding of S_i P_i^T (<= ``gradient_rounding``) times eta, plus the update's own
    eps (||Theta||_F + eta ||grad||_F), ||grad||_F <= sqrt(L) A^(L-1) e."""
    e = np.sqrt(d) * A**L + target_fro
    return 2.0 * eta * gradient_rounding(d, L, A, target_fro) + 4.0 * EPS * (layers_fro + eta * np.sqrt(L) * A ** (L - 1) * e)


def hessian_spectral_bound(d: int, L: int, A: float, error_2: float) -> float:
    """||Hessian||_2 <= ||Hessian||_F <= L d^2 (A^(2L-2) + ||E||_2 A^(L-2)) (each entry is
    <DP[e], DP[e']> + <E, D^2P[e, e']>; rank-one bounds, see claims/b4_hessian_bound_bounded_target.py)."""
    second = error_2 * A ** (L - 2) if L >= 2 else 0.0
    return L * d * d * (A ** (2 * L - 2) + second)


def trajectory_agreement_tol(d: int, L: int, A: float, error_2: float, target_fro: float, eta: float,
                             layers_fro: float, steps: int, penalty: float = 0.0) -> float:
    """||batched iterate - per-problem iterate||_F after ``steps`` steps of the same recursion.

    Each step of either engine differs from exact GD by at most ``gd_step_tol`` (the two
    engines round differently: stacked matmul vs fused dgemm), and a difference delta grows by at
    most (1 + eta ||H||_2) per step (mean-value theorem on Theta - eta grad), ||H||_2 bounded
    along the trajectory by :func:`hessian_spectral_bound` with the largest layer norm A and
    residual ||E||_2 seen, plus the penalty kappa. So delta_T <= 2 T tol_step (1 + eta H)^T.
    """
    step = gd_step_tol(d, L, A, target_fro, eta, layers_fro)
    return 2.0 * steps * step * (1.0 + eta * (hessian_spectral_bound(d, L, A, error_2) + penalty)) ** steps


def hessian_rtol(d: int, L: int) -> float:
    """Relative error of ||Hessian||_F from the engine's HVP columns (about 7L products of inner
    size d per column, each O(d eps) relative), compared against a bound: 100 L d eps. A planted
    constant errs by a factor >= 4/3."""
    return 100.0 * L * d * EPS


def stay_close_atol(d: int, L: int, magnitude: float) -> float:
    """Absolute rounding of R(t+1) - R(t) - eta (1 + R)^L sqrt(2 loss) (B5), ``magnitude`` =
    1 + R(t) + R(t+1) + eta (1 + R)^L sqrt(2 loss) (finite, or the check is done on the log scale).

    R = max_i ||Theta_i - I||_2 by SVD: d eps (1 + R); the engine's step rounds Theta - eta grad to
    eps (||Theta|| + eta ||grad||), ||grad_i||_2 <= (1 + R)^(L-1) sqrt(2 loss); the loss itself
    carries (L + d) d eps relative error (halved by the square root). 16 (L + d) d eps covers them.
    """
    return 16.0 * (L + d) * d * EPS * magnitude


def hvp_rounding(d: int, L: int, A: float, b: float, target_fro: float) -> float:
    """Absolute Frobenius error of the engine's Hessian-vector product (all layers), direction
    with ||V_j||_2 <= b.

    (HV)_i = dS_i P_i^T + S_i dP_i^T with ||dP_i|| <= L b M^L, ||S_i|| <= M^L e, ||dS_i|| <= 2 L b M^L e
    (M = max(A, 1), e = sqrt(d) A^L + ||Phi||_F, the derivative of E included); about 7L products of
    inner size d, each adding d eps of those magnitudes; sqrt(L) for the layers, factor 4 headroom.
    """
    M = max(A, 1.0)
    e = np.sqrt(d) * A**L + target_fro
    return 4.0 * (7 * L + d) * d * EPS * np.sqrt(L) * 3.0 * L * b * M ** (2 * L) * (np.sqrt(d) + e)


# --- B7, B8: symmetric targets (tests/test_b7_*.py, tests/test_b8_*.py) ------------------

#: Invariance tolerance: defect_t <= INVARIANCE_C * (t + 1) * L * d * eps (relative, Frobenius).
#: Each GD step perturbs the layers by O(L d eps) relative rounding (3L products of d x d
#: matrices), and while the dynamics is non-expanding these add up at most linearly in t (the
#: comparison with the recurrence also carries eigh's O(d eps) backward error). Observed with
#: steps up to twice the slide's: <= 4.8 over ~1100 nightly instances. A wrong recurrence or an
#: update that breaks the symmetry errs by O(eta) per step (eta >= 1e-5 here), far above
#: 16 (t+1) L d eps <= 5e-11. Larger steps amplify rounding (chaotic or diverging dynamics):
#: the 50-digit re-run decides there.
INVARIANCE_C = 16.0

#: Rounding of the loss: the product of L layers carries O(L d eps) relative error and the layers
#: sit O((t+1) L d eps) off the invariant set (B8), so ||P - Phi||_F is exact to
#: LOSS_C (t+1) L d eps (||Phi||_F + prod ||Theta_i||_2), and l = ||P - Phi||^2/2 to that times
#: sqrt(2 l). 16 is B8's headroom constant; a violation of the bound by a real bug is O(lambda^2).
LOSS_C = 16.0


# --- A1-A4, B9: factorizations and projections (tests/test_a*.py, tests/test_b9_*.py) -------

#: An exact indicator error (0 if the conclusion holds, 1 if not, e.g. "sign det <= 0" in A1)
#: compared with ``check_close`` so that a float violation keeps its exact re-check: any tol in
#: (0, 1) decides it; 1/2. Not a rounding allowance.
INDICATOR_TOL = 0.5

#: |eigen_margin_exact - 1| at the attained case of the A1 lemma, computed from exact rational
#: matrices at 120 digits (square-free characteristic polynomials, simple roots): the roots are
#: good to ~100 digits; 1e-60 leaves half the working digits as headroom and is still 44 orders
#: below a float ulp, so a re-check that errs by less settles any float question exactly.
EXACT_RECHECK_ATOL = 1e-60

#: |slack| of the A1 lemma on A_i = -r I (lambda_min(I + A_i) + ||A_i|| = (1 - r) + r = 1 in exact
#: arithmetic): the float sum carries one rounding of 1 - r and the norm's few ulps, so a slack
#: within 4 eps of 0; a lemma with a wrong constant is off by O(r).
LEMMA_TIGHTNESS_ATOL = 4.0 * EPS


def rate_measurable_layer_norm(d: int) -> float:
    """Smallest max_i ||A_i||_2 (at the largest m of the fit) for which the A1 rate is measurable.

    The residuals A_i = (I + A_i) - I of the balanced factorization carry O(d eps) absolute
    rounding (SVD/eigendecomposition backward errors, subtraction of I). Above 100 d eps that is
    at most ~1-3% of the norm, a log error <= 0.03 at one end of the fit, which moves the fitted
    exponent over m = 64 ... 2048 (log range 3.5) by <= 0.01, well inside RATE_EXPONENT_ATOL.
    Below it the norms are rounding (the nightly false alarm: a 1 x 1 A within rounding of 1,
    exponent -0.936): measured on A = expm(delta K), d <= 4, the fit breaks down below ~10 d eps.
    """
    return 100.0 * d * EPS


#: |fitted exponent + 1| of max_i ||A_i|| against m (A1, m = 64 ... 2048). The construction gives
#: 2 sin(pi/2m) e^{gamma/m} + e^{gamma/m} - 1 = c/m + O(1/m^2): the O(1/m^2) terms bias the
#: exponent by <= 0.02 at gamma <= 9, rounding by <= 0.01 (see rate_measurable_layer_norm). The
#: nearest wrong rates are off by more: log(m)/m gives -1 + 1/ln m ~ -0.82, m^{-1/2} gives -0.5.
RATE_EXPONENT_ATOL = 0.05

#: A2 minimisation of g = ||grad f||^2: an end point with g below this counts as near-stationary
#: (||grad f|| < 1e-6). A classification for the report's counts, not a check: the bound itself
#: is then checked on the end point with its own rounding floor (stationarity_atol).
NEAR_STATIONARY_GRAD_SQ = 1e-12

#: ``gtol`` of that L-BFGS-B minimisation: far below NEAR_STATIONARY_GRAD_SQ so that the
#: optimiser stops on ``maxiter`` or a true near-stationary point, not on its default 1e-5.
MINIMIZER_GTOL = 1e-14

#: A2 sensitivity: ||grad f|| below this at a point with ||Theta - A||_F > BAD_STATIONARY_DISTANCE
#: is a bad stationary point. The dropped-hypothesis instances (A_i = -I, Theta_i = 0) have an
#: exactly zero gradient; rounding of a nonzero gradient of O(1) data is ~1e-15, far below; a
#: distance of 0.1 is nine orders above any rounding of Theta - A.
STATIONARY_GRAD_ATOL = 1e-12
BAD_STATIONARY_DISTANCE = 0.1

#: Numerical rank cutoff (relative to sigma_1) for the condition number of X on its range that
#: scales risk_identity_rtol (A3): singular values below 1e-12 sigma_1 of a product of O(1)
#: Gaussian factors are rounding of an exact zero (d <= 5, entries O(1): rounding ~ d eps sigma_1).
NUMERICAL_RANK_RTOL = 1e-12


def margin_rounding(d: int, scale: float) -> float:
    """Absolute rounding of lambda_min(sym(Pi(A))) and of ||A - Pi(A)||_F in the B9 margin
    projection: eigh's backward error O(d eps) of the symmetric part (size ``scale``, floored at
    1), and the reassembly V max(Lambda, gamma) V^T + skew adds a few d eps more; 10 d eps covers
    both. A wrong projection (skew part dropped, shift instead of clip) errs by O(||A||)."""
    return 10.0 * d * EPS * max(1.0, scale)


#: B9 power projection: the contraction per step is fitted on the second half of a run, and only
#: runs of at least this many steps are fitted (>= 10 points in the fit).
RATE_FIT_MIN_STEPS = 20


def log_loss_fit_floor(d: int, L: int, target_fro: float) -> float:
    """Smallest loss whose logarithm is measurable in the B9 contraction fit.

    The product of the L rebalanced layers is exact to delta = product_tol(d, L) ||Phi||_F
    (Frobenius); the loss 1/2 ||E||^2 then carries relative error ~ delta / sqrt(2 loss). Above
    1/2 (1e3 delta)^2 that is <= 1e-3, a log error <= 1e-3 per point, which moves the fitted
    contraction by far less than its gap to the guaranteed one (>= 0.1 on the fixed-seed grid).
    """
    return 0.5 * (1e3 * product_tol(d, L) * max(1.0, target_fro)) ** 2


# --- C1/C3 (appended by the C1/C3 conversion) ----------------------------------------------

def c1_rate_measurable_floor(d: int, k: int, depth: int, lipschitz: float, inverse_lipschitz: float) -> float:
    """Smallest max_i ||h_i - Id||_L estimate e(m) from which a C1 rate (fitted exponent,
    C(512)/C(64)) is measurable.

    e(m) is ||Dh(a_i x) Dh(a_{i-1} x)^{-1} - I||_2: each Jacobian is a product of ``depth``
    layer Jacobians I + A S B (rounding O((d + k) eps) relative each, times ||Dh|| <= L), the
    solve adds O(d eps) times the condition number (<= L M), so the formed deviation carries an
    absolute error of about (depth (d + k) + d) eps L M. 1024 times that keeps rounding below
    0.1 % of e(m), i.e. below 0.002 in an exponent fitted over m = 4 ... 512 and in
    log C(512)/C(64). Below it e(m) is rounding and no rate is measurable (cf. A1's false alarm on
    a 1x1 identity).
    """
    return 1024.0 * (depth * (d + k) + d) * EPS * max(1.0, lipschitz) * max(1.0, inverse_lipschitz)


def projection_identity_atol(n: int, d: int, scale: float) -> float:
    """Absolute error of Q(h) - (1/2) E||h - h*||^2 - Q(h*) on n points in R^d (C3 zero-fixing,
    proof idea (1)), ``scale`` = the sum of the three terms (+ eps).

    Each term is a mean of n sums of d squares: rounding O((n + d) eps scale); the conditional
    means h* add another O(n eps scale). 64 is headroom; a wrong h* (e.g. ignoring repeated
    inputs) leaves an O(1) relative error.
    """
    return 64.0 * (n + d) * EPS * scale


#: C3: the slide's direction Delta_i is admissible, so D_{h_i}Q(Delta_i)/||Delta_i|| <= the exact
#: dual norm; both are computed from the same residuals and upstream Jacobians, so the comparison
#: is exact up to their rounding (BOUND_RTOL relative) and, when both vanish, up to underflow.
DUAL_NORM_UNDERFLOW_ATOL = 1e-300

#: C3: the ratio 2 of the exact dual norm to the slide's bound on one sample point with h = Id
#: (x = 2, y = 5) is formed from small integers and one division: exact up to a few ulps
#: (1e-15 ~ 4.5 eps); a wrong constant or norm errs by O(1).
SMALL_INTEGER_ARITHMETIC_RTOL = 1e-15


# --- B2, B6: convergence rates, iteration counts and fitted exponents -----------------------
# (tests/test_b2_linear_convergence.py, tests/test_b6_*.py, tests/convergence_helpers.py)

#: Window of loss values over which a linear rate is fitted (B2): below the transient (the loss has
#: fallen 10 orders from a start of at most ~1) and above the rounding floor of the loss.
RATE_WINDOW = (1e-24, 1e-12)

#: Fewest points of a least-squares fit (a rate over a window, an exponent, a slope): two points
#: fit any line exactly, three are the fewest that can disagree with one.
FIT_MIN_POINTS = 3

#: An accuracy eps that a convergence test checks or fits must exceed this factor times the loss's
#: rounding floor (:func:`gd_loss_floor`): the run then ends two decades above the floor, where a
#: loss is a measurement and not rounding noise (cf. A1's false alarm: an exponent fitted to layers
#: within rounding of the identity). Fitted rates over RATE_WINDOW use RATE_FIT_FLOOR_SLACK.
RATE_FIT_FLOOR_HEADROOM = 100.0

#: Smallest count range max T - min T of a fitted slope of T in ln(1/eps): a count is an integer and
#: the stop test adds up to one step, so the quantization error is <= 1/10 of what the fit reads.
#: (Exponents of counts use EXPONENT_QUANTIZATION_SHARE; the sweeps' smallest counts are 9.)
COUNT_FIT_MIN = 10


def gd_loss_floor(d: int, L: int, norm: float) -> float:
    """Rounding floor of the loss 1/2 ||Theta_{1:L} - Phi||_F^2 computed from a product.

    Each of the d^2 residual entries carries about L d eps ||Phi|| of rounding from L products
    of d x d matrices; the loss is half their sum of squares. 10 is headroom for the constant
    (the observed floors at d = 8, L = 32 are ~1e-30, this gives ~1e-23). The rate windows and
    every accuracy eps of the tests stay orders above it (checked with RATE_FIT_FLOOR_HEADROOM).
    """
    return 0.5 * d * d * (10.0 * L * d * EPS * max(1.0, norm)) ** 2


#: An eigenvalue of a real matrix counts as real when |Im lambda| <= this * max(1, |lambda|_max):
#: a real eigenvalue comes out of LAPACK with an imaginary part of a few d eps |lambda|_max at most
#: (0 for an isolated one), a complex pair of a unit-norm Gaussian direction has |Im| >> 1e-12.
REAL_EIGENVALUE_RTOL = 1e-12

#: Instances built on a hypothesis' boundary (B2: loss(I) = c_0, i.e. scale sqrt(2 c_0)) are pulled
#: inside by this relative amount, so that the rounding of the hypothesis' own formula (a few ulps
#: of 1/2 ||I - Phi||_F^2) keeps them inside; the claim's predicates allow the same 1e-12.
INSTANCE_EDGE_RTOL = 1e-12

#: Two implementations of the same GD recursion (engine vs the oracle, batched vs per-problem, full GD
#: vs the scalar fast path at d = 1) agree in loss to this relative error along a run of a few
#: hundred to a few thousand contracting steps: each step adds O(L d eps) relative rounding and the
#: dynamics does not amplify it. A wrong back-propagation changes the trajectory by a fraction of
#: the loss itself.
TRAJECTORY_LOSS_RTOL = 1e-9

#: Absolute allowance of the batched-vs-per-problem loss comparison (B2): both residuals carry an
#: absolute rounding error of at most sqrt(2 * gd_loss_floor) ~ 1e-13, so the losses may differ by
#: 2 sqrt(2 loss) 1e-13 < 1e-18 for loss <= 1e-14.
BATCHED_LOSS_ATOL = 1e-18

#: B2: the fitted linear rate of ln loss over RATE_WINDOW against the linearization at the limit,
#: -2 ln(1 - eta lambda_min): the fit still contains the decaying transient of the faster modes
#: (observed up to 0.075 on the CI grid, 0.19 on the nightly grid); a wrong rate of the slowest mode (a factor 2 from a gradient bug,
#: or the guaranteed rho in place of the real one) errs by far more than 25%.
LINEARIZED_RATE_RTOL = 0.25

#: B6: the fitted linear rate over the last four decades before eps against the fixed point's
#: -2 ln(1 - eta L lambda_min^(2-2/L)): the slowest coordinate dominates there, up to the decaying
#: transient of the next one (observed < 2%); a wrong exponent in the recurrence errs by a factor.
FIXED_POINT_RATE_RTOL = 0.05

#: B6: iterations per nat of 1/eps (the fitted slope of T against ln(1/eps)) against the fixed point's
#: 1/(-2 ln q), and across d: a linear convergence's count per nat tends to exactly that, up to the
#: one-step quantization over a range of >= 100 iterations (1%).
ITERATIONS_PER_NAT_RTOL = 0.02

#: B6 (refuted): the fitted exponent of T(eps)/ln(d/eps) in mu along the family against the fixed
#: point's -(2 - 2/L): the transient from x = 1 to x* scales the same way, the first members
#: (mu = 0.1) are not yet asymptotic; observed 0.10 (L = 2) and 0.14 (L = 8) off. A bounded ratio
#: would give exponent 0.
FAMILY_EXPONENT_ATOL = 0.2

#: B6 (refuted): T/ln(d/eps) must grow by at least this factor from the family's first member to its
#: last (the fixed point predicts ~10^(3(2-2/L)) over three decades of mu at L = 2, i.e. ~1000x):
#: far above any rounding or quantization, so a bounded count cannot pass.
FAMILY_MIN_GROWTH = 50.0

#: B6 (refuted), random families: over a 20x slowdown of the fixed point, T/ln(d/eps) must grow by at
#: least 3x (the transient and the count's quantization at small T eat part of the 20x).
RANDOM_FAMILY_MIN_GROWTH = 3.0

#: B6 corrected, the depth sweep at eta L = 1/(1 + ||Phi||^2): T tends to a limit as L grows (gamma^(2-2/L)
#: -> gamma^2), so the fitted exponent of T in L (L >= 16) is within this of 0 and T(256) within this
#: fraction of T(64); a step that does not scale as 1/L gives exponent +-1.
DEPTH_EXPONENT_ATOL = 0.1
DEPTH_LIMIT_RTOL = 0.1

#: B6 corrected: fitted exponent of T in ||Phi||/gamma (L = 8) must lie in this range: 2 - 2/L = 1.75 via
#: gamma, -> 2 via ||Phi|| (eta ~ 1/||Phi||^2); a count independent of the condition gives 0, one
#: quadratic in the wrong quantity 3 or more.
CONDITION_EXPONENT_RANGE = (1.0, 2.5)

#: B6 corrected: max_t |loss_full(t) - loss_fast(t)| / loss(0) between full GD and the symmetric fast
#: path: the same recurrence in different rounding, a few ulps per step on O(1) quantities (observed
#: <= 3e-15); the two stop tests on loss <= eps may then differ by one step (STEP_COUNT_ATOL).
FAST_PATH_LOSS_TOL = 1e-10
STEP_COUNT_ATOL = 1

# --- C2 (tests/test_c2_*.py): central differences, ReLU kinks, inverse near alpha = 1 ------

#: C2 (3) chain rule: the z-space step of the central difference is
#: CENTRAL_DIFFERENCE_STEP (1 + ||z||) / max(1, ||B||_2): truncation t^2/6 |sigma'''| ~ 1e-8
#: relative, rounding evaluation_rtol / t ~ 1e-12 relative (both bounded rigorously by
#: central_difference_tol at the step actually taken); a chain rule without g errs by O(alpha).
CENTRAL_DIFFERENCE_STEP = 1e-4

#: C2 (3), ReLU: a point whose segment z +- t Delta comes within this factor of a kink
#: (|(Bz)_j| <= KINK_MARGIN t |(B Delta)_j|) is left out of the central-difference check, where
#: f is not differentiable; the 1% margin covers the rounding of Bz and B Delta (far below 1%).
KINK_MARGIN = 1.01

#: C2 (1) left inverse: the rounding of y = f(x) moves the exact preimage by at most that
#: rounding / (1 - alpha); the factor 1/(1 - alpha) is capped at 1/MIN_CONTRACTION_GAP = 1e3
#: (a narrower tolerance, active only for alpha > 0.999, never drawn: the strategies keep
#: alpha <= 0.95; the alpha >= 1 canary passes alpha = 0, i.e. no amplification).
MIN_CONTRACTION_GAP = 1e-3


# --- B1, B5: the engine against the differential oracle (tests/oracles.py) -------------------
# (tests/test_b1_gradient_formula.py, tests/test_b5_stay_close_to_identity.py)

def penalty_value_rounding(d: int, L: int, kappa: float, A: float) -> float:
    """Absolute rounding of the penalty's value kappa/2 sum_i ||Theta_i - I||_F^2: a sum of L d^2
    squares, each within a few eps, of total at most kappa/2 L d (A + 1)^2; factor 4 headroom."""
    return 4.0 * L * d * d * EPS * 0.5 * kappa * L * d * (A + 1.0) ** 2


def penalty_gradient_rounding(d: int, kappa: float, A: float) -> float:
    """Frobenius rounding of the penalty's gradient kappa (Theta_i - I) added to a layer's
    gradient: one subtraction, one product and one addition per entry, a few eps of
    kappa ||Theta_i - I||_F <= kappa sqrt(d) (A + 1); 4 d eps kappa (A + 1) covers them."""
    return 4.0 * EPS * kappa * d * (A + 1.0)


def oracle_gradient_tol(d: int, L: int, A: float, target_fro: float, kappa: float = 0.0) -> float:
    """||engine gradient - oracle gradient||_F (all layers). The engine (fused back-propagation)
    and the oracle (prefix and suffix products, tests/oracles.py) each stay within
    :func:`gradient_rounding` of the exact gradient (the same number of products of the same
    factors, associated differently), plus the penalty term's rounding. A dropped transpose or
    an index off by one errs by O(||grad||), many orders above."""
    return 2.0 * gradient_rounding(d, L, A, target_fro) + penalty_gradient_rounding(d, kappa, A)


def oracle_step_tol(d: int, L: int, A: float, target_fro: float, eta: float, layers_fro: float,
                    kappa: float = 0.0) -> float:
    """||engine GD step - oracle GD step||_F from the same iterate: the engine's step against exact
    GD (:func:`gd_step_tol`) plus eta times the oracle gradient's own distance to the engine's
    (:func:`oracle_gradient_tol`). A step of 2 eta, or layers updated one after another, errs by
    O(eta ||grad||)."""
    return gd_step_tol(d, L, A, target_fro, eta, layers_fro) + eta * oracle_gradient_tol(d, L, A, target_fro, kappa)


def first_step_from_identity_tol(d: int, eta: float, residual_fro: float) -> float:
    """||engine first iterate - (I - eta (I - Phi))||_2 per layer, from the identity: every
    product of identities is exact, I - Phi and the update round once per entry, so the error
    is a few eps (1 + eta ||I - Phi||_F); 8 d eps of that. A wrong sign or a missing transpose
    errs by O(eta ||I - Phi||)."""
    return 8.0 * d * EPS * (1.0 + eta * residual_fro)


#: The loss 1/2 ||I - Phi||_F^2 recorded at the identity start: the product of identities is
#: exact, so it is a sum of d^2 <= 16 squares of once-rounded entries, exact to (d^2 + 2) eps
#: < 4e-15 relative; 1e-14 as before. ``IDENTITY_LOSS_ATOL`` (pytest.approx's default absolute
#: tolerance, which this check used) only matters at Phi = I, where the loss is 0 exactly.
IDENTITY_LOSS_RTOL = 1e-14
IDENTITY_LOSS_ATOL = 1e-12


def batched_layers_tol(d: int, L: int, A: float, error_2: float, target_fro: float, eta: float,
                       layers_fro: float, steps: int, kappa: float) -> float:
    """||batched iterate - per-problem iterate||_F after ``steps`` steps (B1): the two engines'
    drift (:func:`trajectory_agreement_tol`) plus the penalty's own update, eta kappa (Theta - I),
    rounding to eps eta kappa ||Theta - I||_F per step (4 eps headroom)."""
    steps = max(steps, 1)
    return (trajectory_agreement_tol(d, L, A, error_2, target_fro, eta, layers_fro, steps, penalty=kappa)
            + 4.0 * EPS * eta * kappa * steps * (layers_fro + np.sqrt(L * d)))


def batched_loss_tol(d: int, L: int, A: float, error_fro: float, target_fro: float, kappa: float,
                     layers_fro: float, layers_tol: float) -> float:
    """|batched loss - per-problem loss| given iterates within ``layers_tol`` (Frobenius): the
    loss moves by at most ||E||_F ||dP||_F <= ||E||_F sqrt(L) A^(L-1) ||dTheta||_F, the penalty's
    value by at most kappa ||Theta - I||_F ||dTheta||_F, plus each loss's own rounding (twice)."""
    return (error_fro * np.sqrt(L) * max(A, 1.0) ** (L - 1) * layers_tol
            + kappa * (layers_fro + np.sqrt(L * d)) * layers_tol
            + 2.0 * loss_rounding(d, L, A, target_fro) + 2.0 * penalty_value_rounding(d, L, kappa, A))


#: B5: a step's slack is resolved (measurable) when the bound exceeds the step's rounding
#: allowance (:func:`stay_close_atol`) by this factor: the slack is then known to 1e-3. Below
#: it (a target within 1e-9 of I gives steps of 1e-13) the slack is rounding, not the claim.
RESOLUTION_FACTOR = 1e3

#: B5 where equality holds (first step from I toward a rank-one I - Phi; the sharper exponent
#: at Theta_i = (1+r) I): both sides are O(1) quantities from SVDs and products of d <= 3
#: matrices, equal to a few d eps; the mpmath re-check of a step agrees with the float
#: evaluation to the same. A wrong exponent, factor or step errs by >= 1 - 1/(1+r) = 20%.
STAY_CLOSE_EQUALITY_RTOL = 1e-12


# --- B7, B8 (appended by the B7/B8 conversion; tests/test_b7_*.py, tests/test_b8_*.py) -----

#: Relative rounding of a few scalar float operations on O(1) quantities: the scalar recurrence's
#: x_t against M = max(1, mu^{1/L}), eta (1 - mu) against its bound (1 + sqrt 2)/(2L), a
#: coordinate loss against lambda^2/2 on the fast path. Each is a few ulps (~1e-15); a wrong step
#: condition, contraction constant or bound errs by O(eta) or O(1), many orders above.
SCALAR_RECURRENCE_RTOL = 1e-12

#: B7 positivity: coordinates below this are not used in the ratio x_{t+1}/x_t (the subnormal
#: range lies below ~2e-308: the ratio of two underflowing numbers is rounding); their sign is
#: still checked.
POSITIVITY_TINY = 1e-250


def positivity_certificate_rtol(L: int, c: float) -> float:
    """Rounding of x_{t+1}/((1-c) x_t) on the scalar recurrence (B7 positivity).

    The update x + eta x^{L-1}(mu - x^L) is exact to (2L + 4) eps relative to
    x + |eta x^{L-1}(mu - x^L)| <= (1 + c) x (or <= 2x where x^L < mu, by (B)), and the ratio divides
    by 1 - c (c = max_j eta max(0, 1 - mu_j) < 1); 4 is headroom. M = mu^{1/L} itself carries L eps.
    A halved contraction constant errs by c/2 at the first step (the certificate is attained there).
    """
    return 4.0 * (2 * L + 4) * EPS * 2.0 / (1.0 - c)


#: B7 positivity on full GD: a layer's eigen-coordinate diag(U^T Theta_i U) is known only to the
#: invariance atol of B8 (INVARIANCE_C (t+1) L d eps scale); coordinates at least this factor above
#: it are known to relative 1/USABLE_COORDINATE_FACTOR and enter the ratio x_{t+1}/x_t, smaller
#: ones enter through their sign only.
USABLE_COORDINATE_FACTOR = 1e6


def full_gd_certificate_rtol(L: int, c: float) -> float:
    """:func:`positivity_certificate_rtol` plus the error of a ratio of two usable coordinates, each
    known to relative 1/USABLE_COORDINATE_FACTOR (2e-6 after the division by 1 - c), doubled as
    headroom. A real loss of positivity (x_{t+1} < 0) or a halved constant errs by O(c)."""
    return positivity_certificate_rtol(L, c) + 4.0 / USABLE_COORDINATE_FACTOR / (1.0 - c)


#: B7 positivity threshold scan: the first failing step is located on a log grid 0.5% apart, refined
#: by 500 points, i.e. to this relative resolution. The instance of the scan's check is the step this
#: far below the sufficient step.
THRESHOLD_SCAN_RESOLUTION = 1e-5

#: B7 positivity: for mu <= 0 and L >= 2 the scanned threshold equals 1/(1 - mu) to ten scan
#: resolutions (the grid point on either side, the refinement's endpoints). A threshold set by
#: another step (e.g. the slide's) differs by a factor.
THRESHOLD_EXACT_RTOL = 10 * THRESHOLD_SCAN_RESOLUTION


def coordinate_loss_atol(L: int, loss: float, mu_norm: float) -> float:
    """Absolute rounding of the fast path's loss 1/2 sum_j (x_j^L - mu_j)^2 (B7 blocks): each gap
    x^L - mu is exact to (L + 2) eps (|gap| + 2|mu|), so l to 4 (L + 2) eps (l + sqrt(2 l) ||mu||).
    A loss below lambda^2/2 by a real violation is O(lambda^2)."""
    return 4.0 * (L + 2) * EPS * (loss + math.sqrt(2.0 * loss) * mu_norm)


def long_run_loss_atol(L: int) -> float:
    """Absolute rounding of the fast path's loss on Phi = diag(-1, 1/2, 2) along 20000 steps of the
    scalar recurrence (B7 blocks, tightness): O(1) coordinates, the L-th power exact to L + 2 ulps
    per term, three terms; 80 L eps keeps a factor ~10 of headroom. A bound off by a constant errs
    by O(lambda^2) = O(1)."""
    return 80.0 * L * EPS


#: B7 blocks, tightness: after 20000 steps at the slide's step the excess l(T)/(lambda^2/2) - 1 is
#: below this (measured ~1e-4 at L = 8, far smaller at L = 2): the bound is approached, not only
#: respected. A bound with a factor > 1 + 1e-3 would stay above it.
TIGHTNESS_EXCESS = 1e-3

#: B7 blocks, tightness: the excess l/(lambda^2/2) - 1 against its leading term 2 x^L / lambda
#: (L >= 4, x -> 0 algebraically, the other coordinates geometrically): the next term is x^{2L},
#: relative x^L / 2 < 1e-3, and the other coordinates' residual loss is < 1%; 5%.
ASYMPTOTIC_EXCESS_RTOL = 0.05

#: B7 blocks sensitivity: a run "goes below the bound" when min_t l(t)/(lambda^2/2) < 1 - this:
#: far beyond the loss's rounding (BOUND_RTOL), so a found violation is not rounding.
CANARY_BELOW_RTOL = 1e-6


def saddle_hessian_atol(L: int) -> float:
    """|lambda_min(impl.hessian) - predicted| at the saddle (B7 blocks, d = 2): the Hessian's entries
    are O(1) products of up to 2L - 2 layer entries of size <= s <= 3^{1/L}, rounded to ~L eps each,
    and eigvalsh adds a few eps of ||H||; 1e-12 (1 + 4L) is ~1000x headroom. The wrong branch of the
    formula errs by O(lambda - mu')."""
    return 1e-12 * (1 + 4 * L)


#: Horizon of full float GD checks near a negative eigenvalue's saddle (B7 blocks, B8):
#: eta * lambda * T <= SADDLE_ESCAPE_SAFE. Rounding puts float GD 1e-16 off the invariant set of B8,
#: and near the limit x = 0 that deviation grows by 1 + eta s^{L-2}(lambda - mu') per step. Measured
#: over 150 random instances: the first iterate leaving B8's float tolerance had eta lambda t = 17.7
#: (the loss bound itself failed later). A measurability regime, not a check's tolerance.
SADDLE_ESCAPE_SAFE = 10.0

#: B7 blocks finding: after 1100 steps float GD has converged to the det-constrained floor
#: min(lambda, mu')^2/2 within this relative error (geometric convergence, observed ~1e-6); a wrong
#: floor (e.g. lambda^2/2) differs by a factor 4.
DET_FLOOR_RTOL = 1e-3

#: B7 blocks finding: the extra steps to escape the saddle with 8 more digits (24-digit mpmath vs
#: float64) against 8 x the linearized steps per digit, within this factor either way (the
#: linearization ignores the transient before the saddle is reached). No amplification (an escape
#: not driven by rounding) would give no delay at all.
ESCAPE_TIME_FACTOR = 2.0

#: B8: one step of the recurrence evaluated by impl's scalar_recurrence and by the lambdified SymPy
#: update: a few operations on O(1) numbers, a few ulps apart (~1e-15); a wrong term errs by O(eta).
RECURRENCE_STEP_RTOL = 1e-14

#: B8: impl's matrix gradient at U diag(x) U^T against U diag(x^{L-1}(x^L - mu) + kappa(x - 1)) U^T
#: (d = 6, L = 3, entries O(10)): about 3L products of inner size d, ~1e-14 absolute; a wrong
#: exponent or penalty errs by O(1).
EIGENBASIS_GRADIENT_ATOL = 1e-13


#: B6: a fitted exponent of iteration counts T (least squares of ln T, or ln(T / c) with c exact, against
#: u = ln x) is measurable when the count's quantization can move it by at most this share of the
#: tolerance it is compared with. Each ln T is off by at most 1/T_min (one step), which moves the slope
#: by at most (1/T_min) sum|u_i - mean u| / sum (u_i - mean u)^2, computed from the data
#: (convergence_helpers.exponent_unmeasurable). For exponents this replaces COUNT_FIT_MIN, which stays
#: the smallest range max T - min T of a slope of T in ln(1/eps).
EXPONENT_QUANTIZATION_SHARE = 0.5

#: A rate over RATE_WINDOW is fitted only if the loss's rounding floor (:func:`gd_loss_floor`, which
#: overestimates the observed floors by 10^4 to 10^7) and the end of the run both lie below
#: RATE_FIT_FLOOR_SLACK * RATE_WINDOW[0] = 1e-22: the top ten decades of the window are then above
#: the floor and were traversed, and the fit cannot be made of rounding noise (A1's false alarm: an
#: "exponent" fitted to layers within rounding of the identity).
RATE_FIT_FLOOR_SLACK = 100.0


def recurrence_loss_floor(d: int, L: int, norm: float) -> float:
    """Rounding floor of the loss 1/2 sum_j (x_j^L - mu_j)^2 of the symmetric fast path (B6): each
    gap carries about L eps max(1, ||Phi||) of rounding from the L-th power (no d x d products); 10
    is the same headroom as :func:`gd_loss_floor`, which bounds it for every d >= 1."""
    return 0.5 * d * (10.0 * L * EPS * max(1.0, norm)) ** 2

#: B6 corrected: the linear rate of the fast path is fitted over the losses in [eps, FIXED_POINT_RATE_WINDOW * eps]
#: (the last four decades before the run stops at eps): past the transient of the faster coordinates,
#: above the rounding floor (recurrence_loss_floor, orders below for eps = 1e-10).
FIXED_POINT_RATE_WINDOW = 1e4


# --- H5: the PL rate along GD and the B3/B4 atlas rows (appended) ----------------------------
# (tests/test_b3_polyak_lojasiewicz_rate.py, tests/test_b3_gradient_lower_bound_corrected.py,
#  tests/test_b4_hessian_bound_bounded_target.py)

def pl_step_ratio_atol(d: int, L: int, cond: float, loss: float, floor: float) -> float:
    """Absolute error of the observed ratio loss(t+1)/loss(t) against the predicted
    q_t = 1 - eta mu_t (1 - beta_t eta/2) (the PL rate claim), ``loss`` = loss(t), ``floor`` =
    :func:`gd_loss_floor`.

    Each loss is 1/2 ||E||^2 with E exact to delta = sqrt(2 floor) (Frobenius), so it is exact to
    ||E|| delta + delta^2/2 = 2 sqrt(loss floor) + floor; two of them (loss(t+1) <= loss(t) unless
    violated), divided by loss(t). q_t carries the relative error of mu_t = 2L sigma_min^{2(L-1)}
    (:func:`gradient_bound_rtol`) times eta mu_t <= 1 - q_t + beta eta^2 mu/2 <= 2. At L = 1 the bound
    is an equality, so this is all the room there is; a planted mu 2x too large, or the descent
    lemma's factor (1 - beta eta/2) dropped, errs by >= 4% of the contraction (observed margins
    are >= 2% off L = 1), orders above.
    """
    loss_error = 2.0 * math.sqrt(loss * floor) + floor
    return 2.0 * loss_error / loss + 2.0 * gradient_bound_rtol(d, L, cond)


#: The PL rate is checked only on steps whose next loss lies this factor above the rounding floor
#: :func:`gd_loss_floor` (the same headroom as RATE_FIT_FLOOR_HEADROOM); GD is stopped there.
PL_STEP_FLOOR_HEADROOM = 100.0

#: Atlas searches (B3's K >= 2, B4's K <= 3): the found coefficient is compared with the proven one
#: with the rounding of the ratio it is computed from: B3's ||grad||^2 / (loss L (1-a)^{2(L-1)}) and
#: B4's ||H||_F / (L d^2 (1+z)^{2L-2}) carry O(L d eps cond) relative error (gradient_bound_rtol,
#: hessian_rtol; <= 1e-12 on the searched sizes d <= 3, L <= 12, with the layers' condition numbers the
#: searches reach); 1e-9 is BOUND_RTOL's allowance. A search beating the proof by more is a violation.
ATLAS_RATIO_RTOL = 1e-9


# --- H3: B6's atlas rows (c_3, C_kappa) and the abstract's condition-number form (appended) ----
# (tests/test_b6_symmetric_positive_convergence_corrected.py, tests/test_b6_symmetric_condition_number_form.py)

#: C_kappa's search value theta / (-2 kappa_1^2 ln(1 - a)) is computed with log1p from a = theta
#: mu^(2-2/L) / (1 + ||Phi||^2), each factor exact to a few ulps (a power, a quotient): 1e-12
#: relative at most; 1e-9 (BOUND_RTOL's allowance) before a value above the proven C = 1 is a violation.
ATLAS_LIMIT_RTOL = 1e-9

#: The c_3 search reads a budget violation as ln(loss(t)) - ln((d/2) K^2 q^(2t)) > this: the loss
#: carries rounding of relative size far below 1e-9 above its floor (the searched losses stay above
#: 1e-12, recurrence_loss_floor <= 1e-26 on the searched sizes), so an excess above 1e-9 is not rounding.
C3_SEARCH_LOG_EXCESS_ATOL = 1e-9

#: B7 regularized families: a penalty's gradient against central differences with h = 1e-6 of its
#: value (entries O(1), second derivatives up to ~1/delta = 10 for the smoothed families): truncation
#: h^2 |r'''| ~ 1e-10 and cancellation eps |r| / h ~ 1e-10, so 1e-6 leaves room; a wrong formula errs by O(1).
PENALTY_FD_RTOL = 1e-6

#: B7 regularized families: r(Theta^T) or r(Q Theta Q^T) against r(Theta) (d = 3, one eigvalsh / slogdet
#: of O(1) matrices): equal to ~1e-15 relative when the family is invariant; a non-invariant family
#: differs by O(0.1) on a random Theta near I. Decides which invariances a family is measured to have.
PENALTY_INVARIANCE_RTOL = 1e-9

#: A1 first form: 4 pi + 3 gamma - 2(sqrt(pi) + sqrt(3 gamma))^2 at the crossing gamma_x = pi(10 - 4 sqrt 6)/3,
#: evaluated in floats: a few operations on numbers of size ~13, rounding ~1e-14 (measured 1.2e-14);
#: a wrong crossing (e.g. a sign slip in the quadratic) is off by O(1).
FORMS_CROSSING_ATOL = 1e-12

#: The abstract's-form family (Phi = mu, kappa = 1): T/ln(d/eps) must grow by at least this factor
#: over the members (mu from 0.1 down to 0.003, or from 3 up to 100: a 33x change of scale, over
#: which the fixed point alone predicts >= 33^(2-2/L) or 33^(2/L) = 5.7x at L = 2; measured 23x and
#: 93x); a bounded count (the control at L = 1, where eta L mu^(2-2/L) = 1/(1 + mu^2)) grows < 2x.
CONDITION_FAMILY_MIN_GROWTH = 5.0

#: B7 regularized families: losses of 8 float GD steps (d = 2, L = 2, O(1) entries) against the same
#: run of the mpmath oracle at 30 digits: float rounding of ~10 products per step, ~1e-15 relative
#: per step, amplified at most by the steps' Lipschitz factor (< 2 here): 1e-12 leaves room; a wrong
#: penalty gradient in either copy errs by O(eta kappa) = O(0.01).
ORACLE_LOSS_RTOL = 1e-12

#: B2 constants atlas (b2_linear_convergence: c_0, p_1, p_2): a searched value against the proven
#: constant. The values compared are a bisection's end point (loss(I) = s^2/2, kappa = 1/(L eta)) or
#: a ratio of an iteration count to ln(1/eps): exact arithmetic on float inputs, a few ulps; the
#: resolution of the bisection only makes the found value weaker, never crosses the proof.
ATLAS_SEARCH_RTOL = 1e-9


# --- H6: B9's atlas row C_T and the iteration exponents (appended) ----------------------------
# (tests/test_b9_power_projection.py)

def b9_coefficient_loss_floor(d: int, L: int, scale: float, gamma: float) -> float:
    """Smallest running-minimum loss m_s at which B9's needed coefficient s q / ln(l_0 / m_s) is read.

    The product of the rebalanced layers is exact to delta = product_tol(d, L, scale / gamma) * scale
    (Frobenius), ``scale`` >= ||Theta_{1:L}||_F along the first steps (||Phi||_F + sqrt(2 l_0) + 1) and
    scale / gamma bounding its condition number (sigma_min >= gamma by the margin). A loss 1/2 ||E||^2 then
    carries relative error <= 2 delta / ||E||, <= 2e-9 above 1/2 (1e9 delta)^2.
    """
    return 0.5 * (1e9 * product_tol(d, L, max(1.0, scale) / min(1.0, gamma)) * max(1.0, scale)) ** 2


#: B9 needed coefficient: only steps with ln(l_0 / m_s) >= this are read. Both losses are exact to 2e-9
#: relative above b9_coefficient_loss_floor, so a reading s q / ln(l_0 / m_s) carries relative error
#: <= 4e-9 / 1e-3 = 4e-6. (Without it, a target with ||Phi||_F ~ 5e3 and eta ~ 4e-8 read 0.5000018 at
#: L = 1, where the exact value is below 1/2: rounding of the tiny per-step log ratio.)
B9_COEFFICIENT_MIN_LOG_RATIO = 1e-3

#: B9 C_T: a searched or measured coefficient against the proven 1 (record_constant) or the exact L = 1
#: value eta min(1, gamma)^2 / (-2 ln(1 - eta)): its rounding is <= 4e-6 relative (above); a run at a wrong
#: step eta' reads eta / eta' times the value (e.g. 0.9 eta: 11 % more), a wrong q or budget formula is off
#: by a factor, and the planted 0.9 x bound of the L = 1 check is 10 % off.
B9_COEFFICIENT_RTOL = 1e-5

#: B9 degrees: the window of loss values over which the linear rate of the diagonal families is fitted
#: (iterations per nat = 1 / rate). Its top, 1e-6, is below the transient: the fast coordinate has decayed
#: and the slow one's nonlinear remainder is O(sqrt(loss)) relative; its bottom, 1e-12, lies 1e10 above
#: the scalar recurrence's rounding floor ((d eps mu_max)^2 < 1e-26 for mu_max <= 8).
B9_DEGREE_WINDOW = (1e-12, 1e-6)

#: B9 degrees: |fitted exponent of iterations per nat in ||Phi||_F or 1/gamma - the exponent of the slow
#: coordinate's linearized count 1/(-2 ln(1 - eta L gamma^(2 - 2/L))) over the same members|. Measured
#: <= 1e-3 (the remainder above); a wrong degree (the budget's 2 in 1/gamma instead of 2 - 2/L, or
#: 2 - 1/L) is off by >= 1/L >= 0.125 at L <= 8.
B9_EXPONENT_ATOL = 0.01


# --- I4 / C5: GD from the identity on deep nonlinear residual networks (appended) -------------
# (tests/test_c5_deep_nonlinear_residual_gd.py)

#: C5: "the loss never increases" allows Q(t+1) <= Q(t) (1 + this): Q is a mean of n squared norms, exact
#: to ~ (n + d) eps relative (n = 32: < 1e-14); the observed per-step decrease at the end of a run is
#: >= 1e-4 relative (tail rates ~ 1e-3), and an unstable step raises the loss by a factor (canary: 2.5/mu_max).
C5_MONOTONE_RTOL = 1e-12

#: C5: the closed-form linearised loss curve (eigendecomposition of K_0, powers (1 - eta mu)^(2t)) against
#: explicit GD on the linear model: both carry O(t n eps) relative rounding (t = 30, n = 32: ~ 1e-13); a
#: wrong power (t instead of 2t) or step errs by O(1) after one step.
C5_LINEARISED_CURVE_RTOL = 1e-10


# --- I1 / C4: scalar maps as the first coordinate of flat near-identity layers (appended) -----
# (tests/test_c4_scalar_maps_flat_layers.py)

def flat_composition_tol(decomposition_atol: float, m: int, d: int, root_growth: float, scale: float) -> float:
    """C4: |(R^m h_m o ... o h_1(x))_1 - h(x)| for ||x||, ||h(x)|| <= ``scale``. The C1 layers err by at
    most ``decomposition_atol`` (decomposition_tol), which the m linear layers R amplify by at most
    ||R||^m <= ``root_growth``; each product z <- R z rounds its first entry (a d-term dot product) by
    <= d eps ||R|| ||z||, carried through the remaining layers: m d eps root_growth (1 + scale); 4 is
    headroom. A dropped or first-order linear part errs by O(||w||^2 / m) to O(||w||) on the box."""
    return root_growth * (decomposition_atol + 4.0 * m * d * EPS * (1.0 + scale))


def flat_coordinate_atol(scale: float) -> float:
    """C4, per layer: |(h_i(z))_j - z_j|, j >= 2, for ||z|| <= ``scale``. The rows j >= 2 of J_0 and J_0^{-1}
    are e_j and the residual layers' A have zero rows there, so coordinate j only goes through
    (a z_j) / a twice (g_{a_{i-1}}^{-1}, then g_{a_i}): four roundings of <= eps |z_j| each, plus
    rounding of inv(J_0) (exact rows in practice). 8 eps (1 + scale) is 2x headroom; a non-flat
    extension (x_2 + 0.3 tanh x_1) moves z_2 by O(0.3 (a_i - a_{i-1}) ||z||) per layer."""
    return 8.0 * EPS * (1.0 + scale)


def realizable_stationarity_atol(n: int, d: int, m: int, scale: float) -> float:
    """C3 realizable caveat: largest entry of a computed gradient that is exactly 0 in exact arithmetic.

    Sigmoid witness: the gradient at theta = 0 is (1/2) mean(x - y) in every A-entry; the target y was
    built through m layers, each adding a centred displacement to z (rounding eps |z| per entry and
    layer; the centring A s = 0 is a projection exact to a few ulps of |A| |s| <= |z| scale), and the
    mean over n rows and the d-term products add O((n + d) eps) relative. ``scale`` = max(1, max |x|,
    max |y|). A target that is not centred leaves an entry of the size of its mean displacement (0.1 to 1
    on the sensitivity instances), 1e12 above; measured <= 0.35 x this on 1500 drawn witnesses. Dead ReLU units: every term is exactly 0.
    """
    return 16.0 * (n + d + m) * EPS * scale


#: C3 realizable caveat: |Q(theta_T) / Q(0) - 1| after 50 steps of gradient descent (eta = 1) from the sigmoid
#: saddle theta = 0. The gradient there is rounding (<= 1e-15), which the negative curvature amplifies by at
#: most (1 + |lambda_min|)^50 < 1e3: measured max |theta_50| ~ 1e-15 and a relative change of Q ~ 1e-15 (Q moves
#: quadratically in theta). A target that is not centred (gradient >= 1e-4) moves Q by > 1e-3 relative.
SADDLE_DRIFT_RTOL = 1e-9


def second_difference_tol(s_t: float, s_2t: float, magnitude: float, t: float) -> float:
    """Error bound of a second difference s(t) = (q(t) + q(-t) - 2 q(0)) / t^2 against q''(0).

    Truncation: (t^2/12) q''''; s(2t) - s(t) is (3 t^2/12) q'''' to leading order, so the truncation at
    t is about |s(2t) - s(t)| / 3, bounded here by 2 |s(2t) - s(t)| (headroom for the next term).
    Rounding: three evaluations of q, each wrong by at most 16 eps ``magnitude``, divided by t^2. For
    a risk q = (1/2) mean ||r||^2 whose residuals r = h(x) - y are rounded to eps |z| absolute (|z| the
    size of the states) the rounding is eps |z| |r|, far above eps q when r is small, and the same
    at every t (a constant offset that Richardson cannot see): pass ``magnitude`` = q + |z| sqrt(2 q).
    (The nightly-sized search found it: q ~ 4e-10, curvature -4e-12, offset 5e-16 at t = 1e-3.)
    A wrong curvature formula errs by O(|q''(0)|), far above both.
    """
    return 2.0 * abs(s_2t - s_t) + 16.0 * EPS * max(magnitude, EPS) / t ** 2

#: C1 estimator against certified references (issue 11): the estimate must reach the dense-grid maximum
#: of ||Dh_i - I||_2 up to this relative gap. Not rounding but a search-quality requirement: the local
#: L-BFGS-B maximisation converges to the continuous maximiser (or the box's face), so it meets or beats
#: every grid node; measured worst gap on the reference cases 4e-10. A refinement that is skipped or
#: truncated leaves the 64-point screen, which misses the grid maximum by >= 9e-6 relative on them.
ESTIMATOR_REFERENCE_RTOL = 1e-6

#: C1 estimator on affine maps h(x) = Ax + b, where ||h_1 - Id||_L = ||A - I||_2 exactly: the estimate is
#: ||A - I||_2 computed by the same solve and SVD (a few ulps), or a pair quotient at preimage separation
#: 1e-5 r (rounding eps ||x|| / (1e-5 r) ~ 1e-11 relative); 1e-9 is BOUND_RTOL's allowance.
AFFINE_ESTIMATE_RTOL = 1e-9

#: C1 estimator on affine maps, layers i >= 2 (h_i a translation, seminorm 0): pair quotients of a
#: translation carry the rounding of A x (eps ||A|| r) over a separation >= 1e-5 r, about 1e-10 for the
#: maps used (||A|| <= 3); Jacobian values are ||A A^-1 - I|| ~ eps cond(A).
AFFINE_ZERO_ATOL = 1e-8

#: C1 estimator: the certificate pair (preimage step 1e-5 r along the pulled-back top singular
#: direction of Dh_i - I) must realise the best Jacobian value: its quotient differs from it by the
#: first-order variation over the step at a face maximum (measured <= 1.2e-5 relative on the
#: references), O(step^2) at an interior one. A direction that is not pulled back through
#: Dg_{a_{i-1}} loses >= 4e-4 relative (first order in the angle) on the 2-d maps.
PAIR_CERTIFICATE_RTOL = 1e-4

#: D1 (depth experiment): JAX's float64 reverse-mode gradient of the tiny network's cross-entropy
#: against finite differences along random directions: central differences at h = 1e-5 and h/2
#: combined by Richardson extrapolation (error O(h^4); a plain central difference at h = 1e-6 erred
#: by 2.2e-6 absolute on one nightly seed, from layer normalization's large third derivative over 5
#: units), rounding eps |f| / h ~ 5e-11 (|f| ~ 2.3). Measured worst over 240 instances: 9.5e-11
#: absolute, 0.5% of this allowance. Only directions whose step keeps every ReLU on one side are
#: checked (across a kink a difference errs by up to the slope's jump). A gradient of the wrong
#: model (skip off by 0.01) errs by 2e-2 relative or more.
FINITE_DIFFERENCE_GRADIENT_RTOL = 1e-6
FINITE_DIFFERENCE_GRADIENT_ATOL = 1e-8
