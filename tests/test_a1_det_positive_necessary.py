"""A1 necessity: products of near-identities have positive determinant."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from resclaims.claims import evidence
from resclaims.claims.a1_det_positive_necessary import (
    CLAIM, det_sign_exact, eigen_margin_ratio, eigen_margin_ratio_exact)
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


def _sign_error_exact(residuals: np.ndarray) -> tuple[float, float] | None:
    sign = det_sign_exact(residuals)
    return None if sign is None else (float(sign <= 0), 0.5)


def check(residuals: np.ndarray) -> float:
    instance = {"residuals": residuals}
    if evidence.hypotheses_fail(CLAIM, instance):  # e.g. ||A_i|| == 1 after rounding: ratio undefined
        return 1.0
    sign, ratio = det_sign_of_product(residuals), eigen_margin_ratio(residuals)
    if sign <= 0 or not np.isfinite(ratio):  # no real eigenvalue anywhere: only the sign to check
        return evidence.check_close(CLAIM, instance, error=float(sign <= 0), tol=0.5,
                                    what="sign det of the product <= 0",
                                    exact=lambda: _sign_error_exact(residuals))
    return evidence.check_lower(CLAIM, instance, lhs=ratio, rhs=1.0, rtol=BOUND_RTOL,
                                exact=lambda: eigen_margin_ratio_exact(residuals))


@given(residuals=residual_stacks())
def test_near_identity_products_have_positive_determinant(residuals):
    check(residuals)


def test_borderline_rounding_is_cleared_at_50_digits():
    """A_1 = -c J (J the 4 x 4 all-ones matrix) scaled to ||A_1|| just below 1: I + A_1 has the
    eigenvalue 1 - ||A_1||, so the ratio is exactly 1, but in floats both sides are rounding
    noise and the float check sees a violation (found by the nightly search). The mpmath
    re-check clears it."""
    raw = -np.ones((4, 4))
    residuals = (raw * (np.nextafter(1.0, 0.0) / np.linalg.norm(raw, 2)))[None]
    assert eigen_margin_ratio(residuals) < 1 - 1e-3  # the float computation is fooled
    assert abs(check(residuals)) < 1e-25  # no violation; recorded with the exact slack 0 (tight)
    ratio, one = eigen_margin_ratio_exact(residuals)
    assert abs(ratio - one) < 1e-25


def test_eigenvalue_lemma_is_tight():
    """A_i = -r I attains lambda = 1 - ||A_i||: the ratio is exactly 1 (slack 0)."""
    slack = check(np.stack([-0.9 * np.eye(3), 0.5 * np.eye(3)]))
    assert slack == 0.0


def test_check_catches_broken_hypothesis():
    """Drop ||A_i|| < 1 (allow norms up to 2.5): a negative determinant must be found."""
    expect_caught(CLAIM, "hypothesis ||A_i|| < 1 dropped (norms up to 2.5)", residual_stacks(max_norm=2.5),
                  lambda residuals: det_sign_of_product(residuals) < 0,
                  describe=lambda residuals: f"{residuals.tolist()} (det < 0)")
