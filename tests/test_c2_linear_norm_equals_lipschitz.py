"""C2 (4): for linear h(x) = Mx, the induced norm ||h|| equals the Lipschitz seminorm ||h||_L."""
from __future__ import annotations

import numpy as np
import sympy
from hypothesis import example, given
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.c2_linear_norm_equals_lipschitz import CLAIM, induced_norm_of_matrix
from resclaims.impl.residual_layer import lipschitz_ratio_samples
from canaries import expect_caught
from strategies.layers import MIN_RELATIVE_SEPARATION, linear_map_matrices, row_norms
from tolerances import BOUND_RTOL, evaluation_rtol, quotient_atol

N_PAIRS = 24


def pairs(M: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs (x, y), half of them along the top right singular vector of M, separations
    log-uniform in [MIN_RELATIVE_SEPARATION, 1] (1 + ||x||)."""
    rng = np.random.default_rng(seed)
    d = M.shape[0]
    X = rng.standard_normal((N_PAIRS, d)) * np.exp(rng.uniform(-2.0, 2.0, (N_PAIRS, 1)))
    U = rng.standard_normal((N_PAIRS, d))
    U[::2] = np.linalg.svd(M)[2][0]
    U /= row_norms(U)[:, None]
    h = np.exp(rng.uniform(np.log(MIN_RELATIVE_SEPARATION), 0.0, (N_PAIRS, 1))) * (1.0 + row_norms(X)[:, None])
    return X, X + h * U


def worst_quotient(h, norm: float, X1: np.ndarray, X2: np.ndarray, d: int) -> tuple[float, float]:
    """(quotient, atol) closest to violating ``q <= norm + atol + rtol |norm|``, over the pair
    quotients ||h(x) - h(y)|| / ||x - y|| and the induced quotients ||h(x)|| / ||x||."""
    q = np.concatenate([lipschitz_ratio_samples(h, X1, X2), row_norms(h(X1)) / row_norms(X1)])
    magnitude = 1.0 + np.maximum(row_norms(X1), row_norms(X2)) * (1.0 + norm)
    atol = np.concatenate([quotient_atol(d, d, magnitude, row_norms(X1 - X2)),
                           evaluation_rtol(d, d) * magnitude / row_norms(X1)])
    i = int(np.argmax(q - atol))
    return float(q[i]), float(atol[i])


@given(M=linear_map_matrices(), seed=st.integers(0, 2**32 - 1))
@example(M=np.array([[0.0, 1.0], [0.0, 0.0]]), seed=0)
@example(M=np.zeros((3, 3)), seed=0)
def test_quotients_never_exceed_the_induced_norm(M, seed):
    """sup ||h(x) - h(y)||/||x - y|| and sup ||h(x)||/||x|| are both <= sigma_max(M)."""
    norm = induced_norm_of_matrix(M)
    q, atol = worst_quotient(lambda X: X @ M.T, norm, *pairs(M, seed), M.shape[0])
    evidence.check_upper(CLAIM, {"d": M.shape[0], "seed": seed, "M": M}, lhs=q, rhs=norm,
                         rtol=BOUND_RTOL, atol=atol)


@given(M=linear_map_matrices(), seed=st.integers(0, 2**32 - 1))
@example(M=np.array([[0.0, 1.0], [0.0, 0.0]]), seed=0)
@example(M=np.zeros((3, 3)), seed=0)
def test_both_suprema_attained_at_top_singular_vector(M, seed):
    """||h(v1)|| / ||v1|| = ||h(y + v1) - h(y)|| / ||v1|| = sigma_max(M), so the suprema coincide."""
    d = M.shape[0]
    norm = induced_norm_of_matrix(M)
    v1 = np.linalg.svd(M)[2][0]
    y = np.random.default_rng(seed).standard_normal(d)
    induced = np.linalg.norm(M @ v1)
    lipschitz = np.linalg.norm(M @ (y + v1) - M @ y) / np.linalg.norm((y + v1) - y)
    scale = max(norm, np.finfo(float).tiny)
    tol = evaluation_rtol(d, d) * (2.0 + np.linalg.norm(y))
    error = max(abs(induced - norm), abs(lipschitz - norm)) / scale
    evidence.check_close(CLAIM, {"d": d, "seed": seed, "M": M}, error=error, tol=tol,
                         what="max |quotient at v1 - sigma_max| / sigma_max")


def test_linear_difference_identity_symbolically():
    """h(x) - h(y) = h(x - y) for every M (MatrixSymbol, any d) and, for d = 2 with explicit
    entries, the Lipschitz quotient at (x, y) is the induced quotient at u = x - y. The instance
    is the symbolic M itself (the hypothesis reads it)."""
    n = sympy.Symbol("n", integer=True, positive=True)
    M, x, y = sympy.MatrixSymbol("M", n, n), sympy.MatrixSymbol("x", n, 1), sympy.MatrixSymbol("y", n, 1)
    generic = {"d": n, "M": M}
    evidence.check_equal(CLAIM, generic, actual=sympy.expand(M * x - M * y - M * (x - y)),
                         expected=sympy.ZeroMatrix(n, 1), what="Mx - My - M(x - y), M of any size n")

    m = sympy.Matrix(2, 2, sympy.symbols("m11 m12 m21 m22", real=True))
    xs, ys, us = (sympy.Matrix(sympy.symbols(f"{c}1 {c}2", real=True)) for c in "xyu")
    explicit = {"d": 2, "M": m}
    evidence.check_symbolic(CLAIM, explicit, lhs=m * xs - m * ys, rhs=m * (xs - ys),
                            what="h(x) - h(y) = h(x - y), d = 2")
    sq = lambda v: (v.T * v)[0, 0]  # noqa: E731  squared Euclidean norm
    lipschitz_q2 = sq(m * xs - m * ys) / sq(xs - ys)
    induced_q2 = sq(m * us) / sq(us)
    shifted = lipschitz_q2.subs({xs[0]: us[0] + ys[0], xs[1]: us[1] + ys[1]}, simultaneous=True)
    evidence.check_symbolic(CLAIM, explicit, lhs=shifted, rhs=induced_q2,
                            what="Lipschitz quotient at (u + y, y) = induced quotient at u, d = 2")


# --- sensitivity: a planted norm and a dropped hypothesis the check must catch -------------

def test_check_catches_spectral_radius_in_place_of_the_norm():
    """Planted: the spectral radius max |lambda(M)| in place of ||h|| (wrong for non-normal M)."""
    def violates(args):
        M, seed = args
        rho = float(np.max(np.abs(np.linalg.eigvals(M))))
        q, atol = worst_quotient(lambda X: X @ M.T, rho, *pairs(M, seed), M.shape[0])
        return evidence.exceeds(q, rho, rtol=BOUND_RTOL, atol=atol)

    expect_caught(CLAIM, "spectral radius in place of the induced norm", st.tuples(linear_map_matrices(max_d=4), st.integers(0, 2**32 - 1)), violates,
                  describe=lambda args: f"M={args[0].tolist()}, seed={args[1]}")


def test_check_catches_nonlinear_map():
    """Hypothesis dropped: h(x) = tanh(x - 1) + tanh(1) (h(0) = 0, not linear) has
    ||h|| = sup |h(x)|/|x| ~ 0.83 < ||h||_L = 1, so the Lipschitz quotients exceed ||h||."""
    def h(X):
        return np.tanh(X - 1.0) + np.tanh(1.0)

    grid = np.linspace(-20.0, 20.0, 400_001)
    grid = grid[grid != 0.0]
    induced = float(np.max(np.abs(h(grid)) / np.abs(grid)))  # sup on a fine grid (smooth, decays)
    rng = np.random.default_rng(0)
    X = rng.uniform(-3.0, 3.0, (N_PAIRS, 1))
    X1, X2 = X, X + np.exp(rng.uniform(np.log(MIN_RELATIVE_SEPARATION), 0.0, (N_PAIRS, 1)))
    q, atol = worst_quotient(h, induced, X1, X2, 1)
    caught = evidence.exceeds(q, induced, rtol=BOUND_RTOL, atol=atol)
    evidence.record_canary(CLAIM, "linearity dropped: tanh(x - 1) + tanh 1", caught=caught,
                           detail=f"max quotient {q:.4f} > induced norm {induced:.4f}")
