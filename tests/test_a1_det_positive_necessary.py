"""A1 necessity: products of near-identities have positive determinant."""
from __future__ import annotations

import numpy as np
from hypothesis import example, given

from resclaims.claims.engine import evidence
from resclaims.claims.a1_det_positive_necessary import (
    CLAIM, det_sign_exact, eigen_margin, eigen_margin_exact, near_identity_exactly)
from resclaims.claims.engine.tightness import Polish
from canaries import expect_caught
from strategies.factorizations import residual_stacks
from tolerances import EXACT_RECHECK_ATOL, INDICATOR_TOL, LEMMA_TIGHTNESS_ATOL, eigenvalue_atol


def det_sign_of_product(residuals: np.ndarray) -> float:
    d = residuals.shape[-1]
    return float(np.prod([np.linalg.slogdet(np.eye(d) + Ai)[0] for Ai in residuals]))


def _sign_error_exact(residuals: np.ndarray) -> tuple[float, float] | None:
    sign = det_sign_exact(residuals)
    return None if sign is None else (float(sign <= 0), INDICATOR_TOL)


def check(residuals: np.ndarray) -> float:
    instance = {"residuals": residuals}
    if evidence.hypotheses_fail(CLAIM, instance):  # e.g. ||A_i|| == 1 after rounding
        return 1.0
    sign, margin = det_sign_of_product(residuals), eigen_margin(residuals)
    if sign <= 0 or not np.isfinite(margin):  # no real eigenvalue anywhere: only the sign to check
        return evidence.check_close(CLAIM, instance, error=float(sign <= 0), tol=INDICATOR_TOL,
                                    what="sign det of the product <= 0",
                                    exact=lambda: _sign_error_exact(residuals))
    return evidence.check_lower(CLAIM, instance, lhs=margin, rhs=1.0, rtol=0.0, atol=eigenvalue_atol(residuals.shape[-1]),
                                exact=lambda: eigen_margin_exact(residuals))


#: Polish the residuals of the worst stack (a perturbation to ||A_i|| >= 1 scores +inf).
POLISH = Polish(check, lambda instance: (np.array(instance["residuals"], dtype=float),), free=("residuals",))


def _all_ones_just_below_norm_one(d: int) -> np.ndarray:
    raw = -np.ones((d, d))
    return (raw * (np.nextafter(1.0, 0.0) / np.linalg.norm(raw, 2)))[None]


# Instances found by nightly searches, kept as explicit examples: float rounding made each
# look like a violation (or made ||A_i|| < 1 look true when it is false in exact arithmetic).
_NIGHTLY_J = np.full((1, 4, 4), -0.23912027991609183)
_NIGHTLY_J[0, 0, 0] = -0.3930935661969945
_NIGHTLY_PAIR = np.stack([np.full((3, 3), -0.36602540378443854), np.full((3, 3), -0.36602540378443865)])
_NIGHTLY_PAIR[0, 0, 0] = _NIGHTLY_PAIR[1, 0, 1] = 0.0


@given(residuals=residual_stacks())
@example(residuals=_all_ones_just_below_norm_one(4))
@example(residuals=_NIGHTLY_J)
@example(residuals=_NIGHTLY_PAIR)
def test_near_identity_products_have_positive_determinant(residuals):
    check(residuals)


def test_exact_recheck_settles_the_nightly_borderline_instances():
    """The nightly instances satisfy ||A_i|| < 1 in float but not exactly (the re-check then
    drops them); at the all-ones stack just below norm one the lemma is attained exactly."""
    for residuals in (_NIGHTLY_J, _NIGHTLY_PAIR):
        instance = {"residuals": residuals}
        evidence.check_true(CLAIM, instance, holds=not near_identity_exactly(residuals),
                            what="||A_i|| < 1 fails in exact arithmetic")
        evidence.check_true(CLAIM, instance, holds=det_sign_exact(residuals) is None and
                            eigen_margin_exact(residuals) is None,
                            what="the exact re-checks decline the instance (hypothesis fails exactly)")
    tight = _all_ones_just_below_norm_one(4)  # lambda_min(I + A) = 1 - ||A|| exactly
    instance = {"residuals": tight}
    evidence.check_true(CLAIM, instance, holds=near_identity_exactly(tight), what="||A|| < 1 in exact arithmetic")
    margin, one = eigen_margin_exact(tight)
    evidence.check_close(CLAIM, instance, error=float(abs(margin - one)), tol=EXACT_RECHECK_ATOL,
                         what="|exact eigen margin - 1| at the attained case")


def test_eigenvalue_lemma_is_tight():
    """A_i = -r I attains lambda = 1 - ||A_i||: slack 0 up to rounding."""
    residuals = np.stack([-0.9 * np.eye(3), 0.5 * np.eye(3)])
    slack = check(residuals)
    evidence.check_close(CLAIM, {"residuals": residuals}, error=abs(slack), tol=LEMMA_TIGHTNESS_ATOL,
                         what="|slack| of the lemma at A_i = -r I")


def test_check_catches_planted_constant():
    """Planted: lambda >= 1 - ||A_i|| / 2 (the lemma with half the norm)."""
    def half_norm_margin(residuals):
        d = residuals.shape[-1]
        return min((np.linalg.eigvals(np.eye(d) + Ai).real.min() + np.linalg.norm(Ai, 2) / 2
                    for Ai in residuals if np.isreal(np.linalg.eigvals(np.eye(d) + Ai)).any()), default=np.inf)

    expect_caught(CLAIM, "1 - ||A_i||/2 in place of 1 - ||A_i||", residual_stacks(),
                  lambda residuals: half_norm_margin(residuals) < 1 - eigenvalue_atol(residuals.shape[-1]),
                  describe=lambda residuals: f"{residuals.tolist()}")


def test_check_catches_broken_hypothesis():
    """Drop ||A_i|| < 1 (allow norms up to 2.5): a negative determinant must be found."""
    expect_caught(CLAIM, "hypothesis ||A_i|| < 1 dropped (norms up to 2.5)", residual_stacks(max_norm=2.5),
                  lambda residuals: det_sign_of_product(residuals) < 0,
                  describe=lambda residuals: f"{residuals.tolist()} (det < 0)")
