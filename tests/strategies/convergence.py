r"""Hypothesis strategies for the convergence claims (B2, B6).

Instances are valid by construction: B2's targets :math:`\Phi = I + sD` sit at an initial loss
:math:`\tfrac12 s^2 \le c_0` by the choice of ``s``; B6's symmetric targets have their spectrum
placed above the margin. Hypothesis draws only small things (sizes, fractions, a seed); matrices
come from ``np.random.default_rng(seed)``. Builders (``make_*``) stand apart from strategies.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from resclaims.claims.b2_linear_convergence import C0, p1
from resclaims.claims.b6_symmetric_positive_convergence import max_step
from tolerances import INSTANCE_EDGE_RTOL

#: The scale s with loss(I) = s^2/2 = c_0, less a few ulps so that rounding keeps loss(I) <= c_0.
EDGE = math.sqrt(2 * C0) * (1 - INSTANCE_EDGE_RTOL)

#: Kinds of unit direction D of B2's targets Phi = I + s D.
DIRECTION_KINDS = ("gaussian", "symmetric", "skew", "negative_rank_one")


def _positive_int(name: str, value) -> None:
    if not (isinstance(value, int) and value >= 1):
        raise InvalidArgument(f"{name}={value!r} must be an integer >= 1")


# --- B2: small initial loss ------------------------------------------------------------------

class SmallLossInstance(NamedTuple):
    """A B2 instance: target, depth, step and accuracy (unpacks as ``Phi, L, eta, eps``)."""

    Phi: np.ndarray
    L: int
    eta: float
    eps: float


def make_direction(kind: str, d: int, rng: np.random.Generator) -> np.ndarray:
    """A unit-Frobenius d x d direction D of the given kind (Phi = I + s D): Gaussian,
    symmetric, skew (toward a rotation; 0 at d = 1 is replaced by the Gaussian), or
    ``negative_rank_one`` = -e_1 e_1^T (toward a singular target)."""
    if kind not in DIRECTION_KINDS:
        raise ValueError(f"kind={kind!r} must be one of {DIRECTION_KINDS}")
    if kind == "negative_rank_one":
        D = np.zeros((d, d))
        D[0, 0] = -1.0
        return D
    G = rng.standard_normal((d, d))
    if kind == "symmetric":
        G = G + G.T
    elif kind == "skew" and d > 1:
        G = G - G.T
    return G / np.linalg.norm(G)


@st.composite
def small_loss_instances(draw, *, max_d: int = 8, max_L: int = 32, kinds=DIRECTION_KINDS) -> SmallLossInstance:
    """(Phi, L, eta, eps) with loss(I) <= c_0 and eta <= 1/(4L) by construction.

    Phi = I + s D, D a unit direction of one of ``kinds`` (:func:`make_direction`),
    s = sqrt(2 f c_0) so that loss(I) = f c_0; f = 1 - u shrinks to the edge f = 1, the step to
    the largest admissible one, eta = 1/(4L), d and L to 1 and eps to 1e-2.
    """
    _positive_int("max_d", max_d)
    _positive_int("max_L", max_L)
    kinds = tuple(kinds)
    if not kinds or any(k not in DIRECTION_KINDS for k in kinds):
        raise InvalidArgument(f"kinds={kinds!r} must be a non-empty subset of {DIRECTION_KINDS}")
    d = draw(st.integers(1, max_d))
    L = draw(st.integers(1, max_L))
    step_fraction = draw(st.sampled_from([1.0, 0.5, 0.25]))
    fraction = 1.0 - draw(st.floats(0.0, 1.0))
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    eps = 10.0 ** -draw(st.floats(2.0, 14.0))
    Phi = np.eye(d) + EDGE * math.sqrt(fraction) * make_direction(kind, d, rng)
    return SmallLossInstance(Phi, L, step_fraction / p1(d, L), eps)


@st.composite
def large_loss_negative_instances(draw, *, max_d: int = 3, max_half_L: int = 4) -> SmallLossInstance:
    """B2's hypothesis dropped: loss(I) > c_0, Phi = I - s e_1 e_1^T with s in [1.05, 2] (a negative
    eigenvalue 1 - s), even L = 2k <= 2 ``max_half_L``, eta = 1/(4L), eps = 1e-4: the conclusion
    must fail (no convergence, B7). Shrinks toward d = 1, L = 2, s = 1.05."""
    _positive_int("max_d", max_d)
    _positive_int("max_half_L", max_half_L)
    d = draw(st.integers(1, max_d))
    L = 2 * draw(st.integers(1, max_half_L))
    s = 1.0 + draw(st.floats(0.05, 1.0))
    Phi = np.eye(d)
    Phi[0, 0] -= s
    return SmallLossInstance(Phi, L, 1.0 / p1(d, L), 1e-4)


# --- B6: symmetric targets with a margin ---------------------------------------------------

class SymmetricPositiveInstance(NamedTuple):
    """A B6 instance (unpacks as ``Phi, gamma, L, eta, eps``)."""

    Phi: np.ndarray
    gamma: float
    L: int
    eta: float
    eps: float


@st.composite
def symmetric_positive_instances(draw, *, max_d: int = 64, max_L: int = 256, min_gamma: float = 0.2,
                                 max_norm: float = 3.0, min_step_fraction: float = 0.25) -> SymmetricPositiveInstance:
    """(Phi, gamma, L, eta, eps) with Phi = U diag(mu) U^T, mu in [gamma(1 + gap), ‖Φ‖], by construction.

    The smallest eigenvalue sits at gamma (1 + gap) with gap in {1e-9, 1e-3, 0.1} (the budget is
    nearly attained as gap -> 0), the largest at ‖Φ‖ <= max(max_norm, lambda_min); U orthogonal
    from a drawn seed; eta = f / (L (1 + ‖Φ‖^2)) with f in [min_step_fraction, 1]. Phi is
    symmetrized exactly. L is drawn from {1, 2, 3} half the time (below the slide's depth condition).
    """
    _positive_int("max_d", max_d)
    _positive_int("max_L", max_L)
    if not (0 < min_gamma <= 0.95):
        raise InvalidArgument(f"min_gamma={min_gamma!r} must lie in (0, 0.95]")
    if not (max_norm > 0 and math.isfinite(max_norm)):
        raise InvalidArgument(f"max_norm={max_norm!r} must be a finite number > 0")
    if not (0 < min_step_fraction <= 1):
        raise InvalidArgument(f"min_step_fraction={min_step_fraction!r} must lie in (0, 1]")
    d = draw(st.integers(1, max_d))
    L = draw(st.one_of(st.integers(1, 3), st.integers(1, max_L)))
    gamma = draw(st.floats(min_gamma, 0.95))
    lam_min = gamma * (1.0 + draw(st.sampled_from([1e-9, 1e-3, 0.1])))
    norm = lam_min + draw(st.floats(0.0, 1.0)) * max(0.0, max_norm - lam_min)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mu = lam_min + rng.uniform(size=d) * (norm - lam_min)
    mu[0] = norm
    if d > 1:
        mu[-1] = lam_min
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    Phi = (U * mu) @ U.T
    Phi = 0.5 * (Phi + Phi.T)
    eta = draw(st.floats(min_step_fraction, 1.0)) * max_step(L, norm)
    eps = 10.0 ** -draw(st.floats(2.0, 12.0))
    return SymmetricPositiveInstance(Phi, gamma, L, eta, eps)


@st.composite
def negative_eigenvalue_instances(draw, *, max_d: int = 6, max_L: int = 16) -> SymmetricPositiveInstance:
    """B6's margin dropped: a :func:`symmetric_positive_instances` draw with its smallest
    eigenvalue replaced by -lambda, lambda in [0.05, 1] (the others positive), exactly symmetric."""
    _positive_int("max_d", max_d)
    _positive_int("max_L", max_L)
    Phi, gamma, L, eta, eps = draw(symmetric_positive_instances(max_d=max_d, max_L=max_L))
    lam, U = np.linalg.eigh(Phi)
    lam[0] = -draw(st.floats(0.05, 1.0))
    Phi = (U * lam) @ U.T
    return SymmetricPositiveInstance(0.5 * (Phi + Phi.T), gamma, L, eta, eps)


class ScaleFamily(NamedTuple):
    """B6's family Phi = mu I_d, gamma = mu/kappa, for mu from ``mu_max`` down (unpacks as
    ``d, L, kappa, mu_max``)."""

    d: int
    L: int
    kappa: float
    mu_max: float


@st.composite
def scale_families(draw, *, max_d: int = 8, max_L: int = 16) -> ScaleFamily:
    """(d, L, kappa, mu_max): a family Phi = mu I_d, gamma = mu / kappa, eta = 1/(L(1 + mu^2)),
    eps = mu^2/100, at fixed (d, L, kappa), kappa in [1.01, 4], mu_max in [0.05, 0.5], L >= 2.
    Along it the polynomial's arguments stay in {L} x {kappa} x [L, L(1 + mu_max^2)]. Shrinks
    toward d = 1, L = 2, kappa = 1.01, mu_max = 0.05."""
    _positive_int("max_d", max_d)
    if not (isinstance(max_L, int) and max_L >= 2):
        raise InvalidArgument(f"max_L={max_L!r} must be an integer >= 2")
    d = draw(st.integers(1, max_d))
    L = draw(st.integers(2, max_L))
    kappa = 1.0 + draw(st.floats(0.01, 3.0))
    mu_max = draw(st.floats(0.05, 0.5))
    return ScaleFamily(d, L, kappa, mu_max)
