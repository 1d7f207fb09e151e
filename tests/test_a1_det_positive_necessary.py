"""A1 necessity: products of near-identities have positive determinant."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from resclaims.claims import evidence
from resclaims.claims.a1_det_positive_necessary import CLAIM, eigen_margin_ratio
from canaries import expect_caught
from tolerances import BOUND_RTOL


@st.composite
def residual_stacks(draw, *, max_norm: float = 1.0):
    """m residuals A_i (d x d) rescaled to spectral norms drawn in [0, max_norm)."""
    d, m = draw(st.integers(1, 5)), draw(st.integers(1, 12))
    raw = draw(arrays(np.float64, (m, d, d), elements=st.floats(-1, 1, allow_subnormal=False)))
    norms = np.linalg.norm(raw, 2, axis=(1, 2))
    target = draw(arrays(np.float64, m, elements=st.floats(0, max_norm, exclude_max=True)))
    scale = np.divide(target, norms, out=np.zeros(m), where=norms > 0)
    return raw * scale[:, None, None]


def det_sign_of_product(residuals: np.ndarray) -> float:
    d = residuals.shape[-1]
    return float(np.prod([np.linalg.slogdet(np.eye(d) + Ai)[0] for Ai in residuals]))


def check(residuals: np.ndarray) -> float:
    instance = {"residuals": residuals}
    sign = det_sign_of_product(residuals)
    if sign <= 0:
        return evidence.check_close(CLAIM, instance, error=1.0, tol=0.5, what="sign det of the product <= 0")
    return evidence.check_lower(CLAIM, instance, lhs=eigen_margin_ratio(residuals), rhs=1.0, rtol=BOUND_RTOL,
                                metrics={"det sign of product (min)": -sign})


@given(residuals=residual_stacks())
def test_near_identity_products_have_positive_determinant(residuals):
    check(residuals)


def test_eigenvalue_lemma_is_tight():
    """A_i = -r I attains lambda = 1 - ||A_i||: the ratio is exactly 1 (slack 0)."""
    slack = check(np.stack([-0.9 * np.eye(3), 0.5 * np.eye(3)]))
    assert slack == 0.0


def test_check_catches_broken_hypothesis():
    """Drop ||A_i|| < 1 (allow norms up to 2.5): a negative determinant must be found."""
    expect_caught(CLAIM, "hypothesis ||A_i|| < 1 dropped (norms up to 2.5)", residual_stacks(max_norm=2.5),
                  lambda residuals: det_sign_of_product(residuals) < 0,
                  describe=lambda residuals: f"{residuals.tolist()} (det < 0)")
