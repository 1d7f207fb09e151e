"""A3: the projection theorem, on samples (numerically) and symbolically (SymPy)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.a3_projection_theorem import CLAIM
from resclaims.impl.least_squares import empirical_risk, least_squares_map
from canaries import expect_caught
from tolerances import risk_identity_rtol


@st.composite
def samples(draw):
    """(X, Y, Theta): n samples in R^d (rank r <= d, so rank-deficient X occur), outputs in R^k."""
    n, d, k = draw(st.integers(1, 30)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
    r = draw(st.integers(1, d))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(n, r)) @ rng.normal(size=(r, d))
    return X, rng.normal(size=(n, k)), rng.normal(size=(k, d)) * draw(st.floats(0, 10))


def identity_error(X, Y, Theta, Phi) -> tuple[float, float]:
    """(|lhs - rhs| / scale, tolerance) for the projection identity.

    ``scale`` = (||X||_F (||Theta||_F + ||Phi||_F) + ||Y||_F)^2 / n bounds every term of both
    sides, so it is the size of their rounding errors (a relative error against rhs is not:
    with cancellation in Theta x, the nightly search found n = 1, d = 5 at 850 eps).
    """
    fit = empirical_risk(Theta, X, Y)
    parts = empirical_risk(Theta - Phi, X, np.zeros_like(Y)) + empirical_risk(Phi, X, Y)
    n = X.shape[0]
    scale = (np.linalg.norm(X) * (np.linalg.norm(Theta) + np.linalg.norm(Phi)) + np.linalg.norm(Y)) ** 2 / n
    s = np.linalg.svd(X, compute_uv=False)
    s = s[s > s[0] * 1e-12] if s[0] > 0 else np.ones(1)
    return abs(fit - parts) / max(scale, 1e-300), risk_identity_rtol(*X.shape, s[0] / s[-1])


@given(sample=samples())
def test_projection_identity_on_samples(sample):
    X, Y, Theta = sample
    Phi = least_squares_map(X, Y)
    err, tol = identity_error(X, Y, Theta, Phi)
    evidence.check_close(CLAIM, {"X": X, "Y": Y, "Theta": Theta, "Phi": Phi}, error=err, tol=tol,
                         what="error of the identity / scale", metrics={"error / scale": err})


def _population_terms(d: int, k: int, wrong_phi: bool = False):
    """SymPy: Sigma = E xx^T (symmetric), C = E y x^T, s_yy = E||y||^2, Phi = C Sigma^{-1}."""
    Sigma = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"s{min(i, j)}{max(i, j)}"))
    C = sp.Matrix(k, d, lambda i, j: sp.Symbol(f"c{i}{j}"))
    Theta = sp.Matrix(k, d, lambda i, j: sp.Symbol(f"t{i}{j}"))
    syy = sp.Symbol("syy")
    Phi = C if wrong_phi else C * Sigma.inv(method="ADJ")

    def sq(M, with_y):  # E||M x - y||^2 (with_y) or E||M x||^2
        return (M * Sigma * M.T).trace() + (syy - 2 * (M * C.T).trace() if with_y else 0)

    cross = ((Theta - Phi) * Sigma * Phi.T).trace() - ((Theta - Phi) * C.T).trace()
    return sq(Theta, True) - sq(Theta - Phi, False) - sq(Phi, True), cross


@pytest.mark.parametrize("d, k", [(1, 1), (2, 1), (2, 2), (3, 1)])
def test_projection_identity_symbolically(d, k):
    identity_gap, cross = _population_terms(d, k)
    gap = sp.cancel(sp.together(identity_gap))
    evidence.check_close(CLAIM, {"symbolic": f"population form, d={d}, k={k}"},
                         error=0.0 if gap == 0 and sp.cancel(sp.together(cross)) == 0 else 1.0,
                         tol=0.5, what="symbolic identity gap (0 iff it cancels)",
                         held={"phi_least_squares": True})  # Phi = C Sigma^{-1} by construction


def test_symbolic_check_catches_wrong_phi():
    """Planted bug Phi = C (Sigma^{-1} dropped): the identity must not cancel."""
    gap, _ = _population_terms(2, 1, wrong_phi=True)
    caught = sp.cancel(sp.together(gap)) != 0
    evidence.record_canary(CLAIM, "symbolic: Phi = C without Sigma^{-1}", caught=caught)


@pytest.mark.parametrize("bug", ["transposed inputs", "ridge-regularized Phi"])
def test_numeric_check_catches_wrong_phi(bug):
    def wrong(X, Y):
        if bug == "transposed inputs":  # Phi from X^T Y without the inverse of X^T X
            return (X.T @ Y).T
        return np.linalg.solve(X.T @ X + np.eye(X.shape[1]), X.T @ Y).T

    def violates(sample):
        X, Y, Theta = sample
        err, tol = identity_error(X, Y, Theta, wrong(X, Y))
        return err > tol

    expect_caught(CLAIM, f"numeric: {bug}", samples(), violates,
                  describe=lambda sample: f"n={sample[0].shape[0]}, d={sample[0].shape[1]}, k={sample[1].shape[1]}")
