"""Every numerical tolerance of the suite, each with its reason.

Scaled as c * (problem size) * eps and compared normwise; one-sided for inequalities
(``lhs <= rhs * (1 + rtol) + atol``, see ``resclaims.claims.engine.evidence``). Loosening one of
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
