"""A4: balanced factorization, checked on random real square matrices of every determinant sign."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.a4_balanced_factorization import CLAIM, singular_value_residual
from resclaims.impl.balanced_factorization import balanced_factorization, polar_so
from resclaims.impl.rotation_power import rotation_power
from canaries import expect_caught
from strategies.matrices import SPECIAL_ANY_DET, SPECIAL_POSITIVE_DET, depths, square_matrices
from tolerances import product_tol, spectrum_rtol

def product(factors: np.ndarray) -> np.ndarray:
    """``factors[L-1] @ ... @ factors[0]``."""
    out = np.eye(factors.shape[-1])
    for f in factors:
        out = f @ out
    return out


def normalized_residuals(A: np.ndarray, L: int, factors: np.ndarray) -> dict[str, float]:
    """Each residual divided by its tolerance (<= 1 means the conclusion holds)."""
    d = A.shape[0]
    scale = max(np.linalg.norm(A, 2), np.finfo(float).tiny)
    if not (np.isrealobj(factors) and factors.shape == (L, d, d) and np.all(np.isfinite(factors))):
        return {"product": np.inf, "singular_values": np.inf}
    product_err = np.linalg.norm(product(factors) - A) / scale
    return {"product": product_err / product_tol(d, L),
            "singular_values": singular_value_residual(A, factors) / spectrum_rtol(d, L)}


def check(A: np.ndarray, L: int, factors: np.ndarray) -> float:
    r = normalized_residuals(A, L, factors)
    return evidence.check_close(
        CLAIM, {"A": A, "L": L}, error=max(r.values()), tol=1.0,
        what="max(residual / tolerance)", metrics={f"{k} residual / tolerance": v for k, v in r.items()},
    )


def _with_special_examples(test):
    for A in SPECIAL_POSITIVE_DET + SPECIAL_ANY_DET:
        test = example(A=A, L=2)(example(A=A, L=7)(test))
    return test


@given(A=square_matrices(det_sign="any"), L=depths())
@_with_special_examples
def test_balanced_factorization_any_matrix(A, L):
    check(A, L, balanced_factorization(A, L))


@given(A=square_matrices(det_sign="positive"), L=depths(16))
def test_balance_condition_for_positive_determinant(A, L):
    """Derived: the slide's factors are balanced, A_{i+1}^T A_{i+1} = A_i A_i^T."""
    factors = balanced_factorization(A, L)
    gap = max((np.linalg.norm(factors[i + 1].T @ factors[i + 1] - factors[i] @ factors[i].T)
               for i in range(L - 1)), default=0.0)
    scale = np.linalg.norm(A, 2) ** (2.0 / L)
    tol = product_tol(A.shape[0], L)
    evidence.check_close(CLAIM, {"A": A, "L": L}, error=gap / scale, tol=tol,
                         what="max_i ||A_{i+1}^T A_{i+1} - A_i A_i^T||_F / ||A||_2^{2/L}",
                         metrics={"balance residual / tolerance": gap / scale / tol})


# --- sensitivity: planted bugs the check must catch -------------------------------------

def _naive_without_conjugation(A, L):
    """Bug: A_i = R^{1/L} P^{1/L} for every i (the conjugation by R^{(i-1)/L} dropped)."""
    pol = polar_so(A)
    return np.stack([rotation_power(pol.R, 1.0 / L) @ pol.P_power(1.0 / L)] * L)


def _wrong_exponent(A, L):
    """Bug: exponent 1/(L+1) in place of 1/L (L+1 factors built, the last one dropped)."""
    return balanced_factorization(A, L + 1)[:L]


def _transposed_rotation(A, L):
    """Bug: R^T in place of R."""
    pol = polar_so(A)
    return balanced_factorization(pol.R.T @ pol.P, L)


@pytest.mark.parametrize("bug", [_naive_without_conjugation, _wrong_exponent, _transposed_rotation])
def test_check_catches_planted_bug(bug):
    def violates(args):
        A, L = args
        return max(normalized_residuals(A, L, bug(A, L)).values()) > 1.0

    expect_caught(CLAIM, bug.__doc__.split(":")[1].strip(),
                  st.tuples(square_matrices(det_sign="positive", min_d=2, max_d=4), depths(8)), violates,
                  describe=lambda args: f"d={args[0].shape[0]}, L={args[1]}")
