"""Every numerical tolerance of the suite, each with its reason.

Scaled as c * (problem size) * eps and compared normwise; one-sided for inequalities
(``lhs <= rhs * (1 + rtol) + atol``, see ``resclaims.claims.evidence``). Loosening one of
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
    """Relative error of singular values of one factor (Weyl: perturbation / sigma)."""
    return 50.0 * d * L * EPS


#: Inequality checks between quantities computed in floating point: the bound's own
#: rounding (a few ulps of each operand), not a fudge factor.
BOUND_RTOL = 1e-9
