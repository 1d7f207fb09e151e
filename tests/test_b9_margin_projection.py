"""B9 step 2: the margin projection is the Frobenius-nearest matrix with margin gamma."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from resclaims.claims.engine import evidence
from resclaims.claims.b9_margin_projection import CLAIM, sym_margin
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.margin_projection import project_to_margin
from canaries import expect_caught, raises_violation
from strategies.factorizations import margin_projection_instances
from tolerances import BOUND_RTOL, margin_rounding


def check(A, gamma, B, projection=project_to_margin) -> float:
    P = projection(A, gamma)
    instance = {"A": A, "gamma": gamma, "B": B}
    d = A.shape[0]
    feasibility_gap = gamma - sym_margin(P)
    if feasibility_gap > margin_rounding(d, max(np.abs(A).max(), gamma)):
        return evidence.check_close(CLAIM, instance, error=feasibility_gap, tol=margin_rounding(d, gamma),
                                    what="margin deficit of the projection")
    return evidence.check_upper(CLAIM, instance, lhs=np.linalg.norm(A - P), rhs=np.linalg.norm(A - B),
                                rtol=BOUND_RTOL, atol=margin_rounding(d, np.linalg.norm(A)))


def _polish_args(instance):
    """(A, gamma, B) of a stored instance, with B shifted by (gamma - margin(B))_+ I so that every
    perturbation stays a competitor in M_gamma (the shift is 0 where B already is one)."""
    A, gamma, B = (np.array(instance["A"], dtype=float), float(instance["gamma"]),
                   np.array(instance["B"], dtype=float))
    return A, gamma, B + max(0.0, gamma - sym_margin(B)) * np.eye(B.shape[0])


#: Polish the matrix, the margin and the competitor (kept in the margin set by _polish_args).
POLISH = Polish(check, _polish_args, free=("A", "gamma", "B"))


@given(inst=margin_projection_instances())
def test_projection_is_nearest_with_margin(inst):
    check(*inst)


def _clip_all_eigenvalues(A, gamma):
    """Bug: the skew part dropped (only the clipped symmetric part returned)."""
    sym = 0.5 * (A + A.T)
    lam, V = np.linalg.eigh(sym)
    return (V * np.maximum(lam, gamma)) @ V.T


def _shift(A, gamma):
    """Bug: shift by (gamma - lambda_min) I instead of clipping."""
    return A + max(0.0, gamma - sym_margin(A)) * np.eye(A.shape[0])


def _no_projection(A, gamma):
    """Bug: projection skipped."""
    return A


@pytest.mark.parametrize("bug", [_clip_all_eigenvalues, _shift, _no_projection])
def test_check_catches_planted_bug(bug):
    expect_caught(CLAIM, bug.__doc__.split(":")[1].strip(), margin_projection_instances(),
                  lambda inst: raises_violation(check, *inst, projection=bug),
                  describe=lambda inst: f"d={inst[0].shape[0]}, gamma={inst[1]}")
