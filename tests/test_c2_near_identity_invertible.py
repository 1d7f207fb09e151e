"""C2 (1): residual layers with certified ||f - Id||_L <= alpha < 1 are invertible.

Surjective: the computed inverse is a right inverse. Injective: it is a left inverse, and
distinct points have images at least (1 - alpha)||x - y|| > 0 apart.
"""
from __future__ import annotations

import numpy as np
import scipy.optimize
from hypothesis import example, find, given
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from resclaims.claims.engine import evidence
from resclaims.claims.c2_near_identity_invertible import CLAIM, injectivity_constant
from resclaims.impl.residual_layer import ConvergenceError, ResidualLayer, lipschitz_ratio_samples
from canaries import CANARY_SEARCH, expect_caught
from strategies.layers import (
    LayerCase,
    make_layer_case,
    probe_pairs,
    residual_layers,
    row_norms,
    sample_points,
    vertex_points,
)
from tolerances import BOUND_RTOL, INVERSE_TOL, MIN_CONTRACTION_GAP, evaluation_rtol, quotient_atol

N_POINTS = 12


def right_inverse_errors(layer: ResidualLayer, Y: np.ndarray, inverse) -> tuple[np.ndarray, int]:
    """||f(f^{-1}(y)) - y|| / tolerance per row (<= 1: the conclusion holds), and iterations.

    Tolerance: the iterate's certified accuracy (f(x_t) - y = x_t - x_{t+1}, at most
    (1 - alpha) INVERSE_TOL (1 + ||y||)) plus the rounding of evaluating f(x) - y.
    """
    X, iterations = inverse(Y)
    magnitude = 1.0 + row_norms(X) + row_norms(Y) + row_norms(layer.residual(X))
    tol = INVERSE_TOL * (1.0 + row_norms(Y)) + evaluation_rtol(layer.d, layer.k) * magnitude
    return row_norms(layer(X) - Y) / tol, iterations


def left_inverse_errors(layer: ResidualLayer, X: np.ndarray, inverse, alpha: float) -> np.ndarray:
    """||f^{-1}(f(x)) - x|| / tolerance per row (<= 1: the conclusion holds).

    Tolerance: INVERSE_TOL (1 + ||y||) for the iterate, plus the rounding of y = f(x), which
    moves the exact preimage by at most that rounding / (1 - alpha) (1 - alpha floored at
    MIN_CONTRACTION_GAP).
    """
    Y = layer(X)
    Xb, _ = inverse(Y)
    magnitude = 1.0 + row_norms(X) + row_norms(Y)
    tol = INVERSE_TOL * (1.0 + row_norms(Y)) + evaluation_rtol(layer.d, layer.k) * magnitude / max(1.0 - alpha, MIN_CONTRACTION_GAP)
    return row_norms(Xb - X) / tol


def certified_inverse(layer: ResidualLayer):
    return lambda Y: layer.inverse(Y, tol=INVERSE_TOL, return_iterations=True)


def probe_points(case: LayerCase) -> np.ndarray:
    return np.vstack([sample_points(case, N_POINTS, stream=3) * 3.0, vertex_points(case)])


@given(case=residual_layers())
@example(case=make_layer_case(d=1, k=1, activation="tanh", seed=0, alpha=0.95, b_scale=1.0))
@example(case=make_layer_case(d=6, k=6, activation="sigmoid", seed=7, alpha=0.95, b_scale=5.0))
def test_inverse_is_a_right_inverse(case):
    """Surjectivity: every sampled y has a preimage, found by the contraction."""
    L = case.layer
    Y = np.vstack([sample_points(case, N_POINTS, stream=2) * 3.0, L(vertex_points(case))])
    err, iterations = right_inverse_errors(L, Y, certified_inverse(L))
    evidence.check_close(CLAIM, case.instance, error=float(err.max()), tol=1.0,
                         what="max ||f(f^-1(y)) - y|| / tolerance",
                         metrics={"inverse iterations": iterations})


@given(case=residual_layers())
@example(case=make_layer_case(d=1, k=1, activation="tanh", seed=0, alpha=0.95, b_scale=1.0))
def test_inverse_is_a_left_inverse(case):
    """Injectivity on samples: f^{-1}(f(x)) returns x, not another preimage."""
    err = left_inverse_errors(case.layer, probe_points(case), certified_inverse(case.layer), case.alpha)
    evidence.check_close(CLAIM, case.instance, error=float(err.max()), tol=1.0,
                         what="max ||f^-1(f(x)) - x|| / tolerance")


def injectivity_worst_pair(case: LayerCase) -> tuple[float, float]:
    """(quotient, atol) of the pair closest to violating 1 - q <= alpha (1 + rtol) + atol."""
    L = case.layer
    X1, X2 = probe_pairs(case, N_POINTS, which="bottom")
    q = lipschitz_ratio_samples(L, X1, X2)
    magnitude = 1.0 + np.maximum(row_norms(X1), row_norms(X2)) + np.maximum(row_norms(L(X1)), row_norms(L(X2)))
    atol = quotient_atol(L.d, L.k, magnitude, row_norms(X1 - X2))
    i = int(np.argmin(q + atol))
    return float(q[i]), float(atol[i])


@given(case=residual_layers())
@example(case=make_layer_case(d=1, k=1, activation="relu", seed=1, alpha=0.95, b_scale=1.0))
def test_distinct_points_have_distinct_images(case):
    """||f(x) - f(y)|| >= (1 - alpha)||x - y|| > 0 on pairs along the weakest direction of Df."""
    # Compared as the shortfall below 1, 1 - q <= 1 - (1 - alpha) = alpha, so that the slack is
    # relative to alpha (the content of the bound), not to 1 - alpha.
    q, atol = injectivity_worst_pair(case)
    shortfall = 1.0 - injectivity_constant(case.alpha)
    evidence.check_upper(CLAIM, case.instance, lhs=1.0 - q, rhs=shortfall, rtol=BOUND_RTOL, atol=atol,
                         metrics={"(1 - min quotient) / alpha": (1.0 - q) / shortfall})


def test_inverse_reports_non_convergence():
    """A clear error, not a silent wrong answer, when max_iter is too small; and a refusal, not
    a wrong answer, for a layer whose certificate is >= 1 (outside the slide's hypothesis).

    Both are sensitivity checks of the implementation's guards (a planted condition it must
    catch), recorded as canaries: they are not conclusions of the slide's claim, and the second
    layer (alpha = 2) does not even satisfy its hypotheses."""
    layer = make_layer_case(d=3, k=2, activation="tanh", seed=5, alpha=0.9, b_scale=1.0).layer
    caught, detail = _raises(ConvergenceError, "did not converge in max_iter=2",
                             lambda: layer.inverse(np.full(3, 5.0), max_iter=2))
    evidence.record_canary(CLAIM, "inverse with max_iter=2 reports non-convergence", caught=caught, detail=detail)
    caught, detail = _raises(ValueError, "residual_lipschitz_bound",
                             lambda: ResidualLayer([[-2.0]], [[1.0]], "tanh").inverse([0.0]))
    evidence.record_canary(CLAIM, "inverse refuses a layer with alpha = 2 >= 1", caught=caught, detail=detail)


def _raises(expected: type[Exception], match: str, call) -> tuple[bool, str]:
    """Whether ``call()`` raises ``expected`` with ``match`` in its message, and what it did."""
    try:
        result = call()
    except expected as exc:
        return match in str(exc), f"{type(exc).__name__}: {exc}"
    return False, f"returned {result!r} instead of raising {expected.__name__}"


# --- sensitivity: a broken hypothesis and a planted constant the checks must catch --------

def _unguarded_inverse(layer: ResidualLayer, iterations: int = 300):
    """The same fixed-point iteration x <- y - A sigma(Bx) without the alpha < 1 guard
    (what the slide forbids); tanh layers only, written out to keep the search fast."""
    if layer.activation != "tanh":
        raise ValueError(f"the unguarded inverse is written for tanh layers, not {layer.activation!r}")
    A, B = layer.A, layer.B

    def inverse(Y):
        X = Y.copy()
        for _ in range(iterations):
            X = Y - np.tanh(X @ B.T) @ A.T
        return X, iterations
    return inverse


def test_check_catches_non_invertible_map_when_alpha_exceeds_one():
    """Hypothesis dropped: x -> x - c tanh(x), c >= 1.5 (alpha = c), is not injective."""
    grid = np.linspace(-3.0, 3.0, 61)[:, None]

    def violates(c):
        layer = ResidualLayer([[-c]], [[1.0]], "tanh")
        return left_inverse_errors(layer, grid, _unguarded_inverse(layer), 0.0).max() > 1.0

    try:
        c = find(st.floats(1.5, 3.0), violates, settings=CANARY_SEARCH)
        layer = ResidualLayer([[-c]], [[1.0]], "tanh")
        bad = grid[left_inverse_errors(layer, grid, _unguarded_inverse(layer), 0.0) > 1.0, 0]
        root = scipy.optimize.brentq(lambda t: t - c * np.tanh(t), 1e-3, 10.0)
        caught = True
        detail = (f"c={c!r} (alpha = c >= 1): f^-1(f(x)) != x for {bad.size}/61 grid points "
                  f"(e.g. x={bad[0]:.3g}); f(0) = f({root:.6g}) = 0 (two preimages)")
    except NoSuchExample as exc:
        caught, detail = False, repr(exc)
    evidence.record_canary(CLAIM, "alpha < 1 dropped: x - c tanh x, c >= 1.5", caught=caught, detail=detail)


def test_check_catches_planted_constant():
    """Planted: 1 - alpha/2 in place of 1 - alpha in the injectivity bound."""
    def violates(case):
        q, atol = injectivity_worst_pair(case)
        return 1.0 - q > case.alpha / 2 * (1 + BOUND_RTOL) + atol

    expect_caught(CLAIM, "1 - alpha/2 in place of 1 - alpha", residual_layers(), violates)
