"""A3: the projection theorem, on samples (numerically) and symbolically (SymPy)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp
from hypothesis import given

from resclaims.claims.engine import evidence
from resclaims.claims.a3_projection_theorem import CLAIM
from resclaims.impl.least_squares import empirical_risk, least_squares_map
from canaries import expect_caught, raises_violation
from strategies.factorizations import regression_samples
from tolerances import NUMERICAL_RANK_RTOL, risk_identity_rtol


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
    s = s[s > s[0] * NUMERICAL_RANK_RTOL] if s[0] > 0 else np.ones(1)
    return abs(fit - parts) / max(scale, np.finfo(float).tiny), risk_identity_rtol(*X.shape, s[0] / s[-1])


@given(sample=regression_samples())
def test_projection_identity_on_samples(sample):
    X, Y, Theta = sample
    Phi = least_squares_map(X, Y)
    err, tol = identity_error(X, Y, Theta, Phi)
    evidence.check_close(CLAIM, {"X": X, "Y": Y, "Theta": Theta, "Phi": Phi}, error=err, tol=tol,
                         what="error of the identity / scale", metrics={"error / scale": err})


def _population_terms(d: int, k: int, wrong_phi: bool = False) -> SimpleNamespace:
    """SymPy: Sigma = E xx^T (symmetric), C = E y x^T, s_yy = E||y||^2, Phi = C Sigma^{-1}; the two
    sides of the identity (``fit`` and ``parts``) and the cross term of the slide."""
    Sigma = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"s{min(i, j)}{max(i, j)}"))
    C = sp.Matrix(k, d, lambda i, j: sp.Symbol(f"c{i}{j}"))
    Theta = sp.Matrix(k, d, lambda i, j: sp.Symbol(f"t{i}{j}"))
    syy = sp.Symbol("syy")
    Phi = C if wrong_phi else C * Sigma.inv(method="ADJ")

    def sq(M, with_y):  # E||M x - y||^2 (with_y) or E||M x||^2
        return (M * Sigma * M.T).trace() + (syy - 2 * (M * C.T).trace() if with_y else 0)

    cross = ((Theta - Phi) * Sigma * Phi.T).trace() - ((Theta - Phi) * C.T).trace()
    return SimpleNamespace(Sigma=Sigma, C=C, Phi=Phi, fit=sq(Theta, True),
                           parts=sq(Theta - Phi, False) + sq(Phi, True), cross=cross)


def _least_squares_held(terms: SimpleNamespace) -> dict[str, bool]:
    """The hypothesis, decided on the symbolic data: Phi solves the normal equations Phi Sigma = C."""
    residual = (terms.Phi * terms.Sigma - terms.C).applyfunc(lambda e: sp.cancel(sp.together(e)))
    return {"phi_least_squares": all(entry == 0 for entry in residual)}


def check_symbolically(d: int, k: int, terms: SimpleNamespace, held: dict[str, bool]) -> None:
    instance = {"form": "population", "d": d, "k": k}
    evidence.check_symbolic(CLAIM, instance, lhs=terms.fit, rhs=terms.parts, held=held,
                            what="E||Theta x - y||^2 = E||Theta x - Phi x||^2 + E||Phi x - y||^2")
    evidence.check_symbolic(CLAIM, instance, lhs=terms.cross, rhs=sp.Integer(0), held=held,
                            what="cross term E(Theta x - Phi x)^T(Phi x - y) = 0")


@pytest.mark.parametrize("d, k", [(1, 1), (2, 1), (2, 2), (3, 1)])
def test_projection_identity_symbolically(d, k):
    terms = _population_terms(d, k)
    check_symbolically(d, k, terms, _least_squares_held(terms))


def test_symbolic_check_catches_wrong_phi():
    """Planted bug: Phi = C (Sigma^{-1} dropped) passed as the least-squares map; the symbolic
    check must find that the identity does not cancel."""
    terms = _population_terms(2, 1, wrong_phi=True)
    with evidence.scratch():
        caught = raises_violation(check_symbolically, 2, 1, terms, {"phi_least_squares": True})
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

    expect_caught(CLAIM, f"numeric: {bug}", regression_samples(), violates,
                  describe=lambda sample: f"n={sample[0].shape[0]}, d={sample[0].shape[1]}, k={sample[1].shape[1]}")
