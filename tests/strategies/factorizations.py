r"""Hypothesis strategies for the factorization and projection claims (A1-A4, B9).

Each public strategy validates its (keyword-only) arguments when it is called, raising
``InvalidArgument`` that names the argument and the violated condition, and then returns a
strategy that builds valid instances by construction (rescaling, never filtering). Matrices are
drawn from ``np.random.default_rng(seed)`` with the seed drawn by Hypothesis, or elementwise,
so shrinking moves toward the smallest sizes, seed 0 and zero scales.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from resclaims.impl.margin_projection import project_to_margin
from strategies.matrices import check_integer, check_real


# --- A1: stacks of residuals A_i -------------------------------------------------------------

def residual_stacks(*, max_d: int = 5, max_m: int = 12, max_norm: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    r"""Stacks ``(m, d, d)`` of residuals :math:`A_i` with spectral norms drawn in ``[0, max_norm)``
    (a random direction rescaled: valid by construction). Shrinks to ``d = m = 1``, :math:`A_1 = 0`."""
    check_integer("max_d", max_d)
    check_integer("max_m", max_m)
    check_real("max_norm", max_norm, low=0.0, high=math.inf, low_open=True, high_open=True)
    return _residual_stacks(max_d, max_m, float(max_norm))


@st.composite
def _residual_stacks(draw, max_d, max_m, max_norm):
    d, m = draw(st.integers(1, max_d)), draw(st.integers(1, max_m))
    raw = draw(arrays(np.float64, (m, d, d), elements=st.floats(-1, 1, allow_subnormal=False)))
    norms = np.linalg.norm(raw, 2, axis=(1, 2))
    target = draw(arrays(np.float64, m, elements=st.floats(0, max_norm, exclude_max=True)))
    scale = np.divide(target, norms, out=np.zeros(m), where=norms > 0)
    return raw * scale[:, None, None]


# --- A2: the linear residual model ------------------------------------------------------------

def residual_models(*, max_d: int = 4, max_m: int = 5, max_tau: float = 0.95,
                    min_lambda: float = 0.05) -> st.SearchStrategy[tuple]:
    r"""``(residuals, A, covariance)`` of the linear residual model: :math:`\|A_i\|_2 = \tau_i \le`
    ``max_tau`` exactly (the top singular value), or the scaled identities :math:`A_i = \pm\tau_i I`
    where the bound is attained; :math:`\Sigma` with spectrum in :math:`[\lambda_{lo}, 3]`,
    :math:`\lambda_{lo} \ge` ``min_lambda`` (``min_lambda = 0`` draws :math:`\lambda_{lo} \in \{0, 1/2\}`,
    so a singular covariance)."""
    check_integer("max_d", max_d)
    check_integer("max_m", max_m)
    check_real("max_tau", max_tau, low=0.0, high=1.0)
    check_real("min_lambda", min_lambda, low=0.0, high=1.0)
    return _residual_models(max_d, max_m, float(max_tau), float(min_lambda))


@st.composite
def _residual_models(draw, max_d, max_m, max_tau, min_lambda):
    d, m = draw(st.integers(1, max_d)), draw(st.integers(1, max_m))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    tau = st.one_of(st.just(max_tau), st.floats(0.0, max_tau))  # the edge ||A_i|| = max_tau, often
    taus = np.array(draw(st.lists(tau, min_size=m, max_size=m)))
    if draw(st.booleans()):
        signs = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=m, max_size=m)))
        residuals = np.einsum("l,ij->lij", signs * taus, np.eye(d))
    else:
        s = rng.uniform(size=(m, d))
        s[:, 0] = 1.0
        U = np.linalg.qr(rng.standard_normal((m, d, d)))[0]
        V = np.linalg.qr(rng.standard_normal((m, d, d)))[0]
        residuals = taus[:, None, None] * ((U * s[:, None, :]) @ np.swapaxes(V, -1, -2))
    A = draw(st.floats(0.0, 3.0)) * rng.standard_normal((d, d))
    lam_lo = draw(st.floats(min_lambda, 1.0)) if min_lambda > 0 else draw(st.sampled_from([0.0, 0.5]))
    lam = lam_lo + (3.0 - lam_lo) * rng.uniform(size=d)
    lam[0] = lam_lo
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return residuals, A, (Q * lam) @ Q.T


# --- A3: least-squares samples ----------------------------------------------------------------

def regression_samples(*, max_n: int = 30, max_d: int = 5, max_k: int = 4,
                       max_theta_scale: float = 10.0) -> st.SearchStrategy[tuple]:
    r"""``(X, Y, Theta)``: ``n <= max_n`` inputs in :math:`\mathbb{R}^d` of rank ``r <= d`` (so
    rank-deficient ``X`` occur), outputs in :math:`\mathbb{R}^k`, and a map ``Theta`` (k x d) scaled
    by a factor in ``[0, max_theta_scale]``."""
    check_integer("max_n", max_n)
    check_integer("max_d", max_d)
    check_integer("max_k", max_k)
    check_real("max_theta_scale", max_theta_scale, low=0.0, high=math.inf, high_open=True)
    return _regression_samples(max_n, max_d, max_k, float(max_theta_scale))


@st.composite
def _regression_samples(draw, max_n, max_d, max_k, max_theta_scale):
    n, d, k = draw(st.integers(1, max_n)), draw(st.integers(1, max_d)), draw(st.integers(1, max_k))
    r = draw(st.integers(1, d))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(n, r)) @ rng.normal(size=(r, d))
    return X, rng.normal(size=(n, k)), rng.normal(size=(k, d)) * draw(st.floats(0, max_theta_scale))


# --- B9: margin projection and power projection ------------------------------------------------

def margin_projection_instances(*, max_d: int = 6) -> st.SearchStrategy[tuple]:
    r"""``(A, gamma, B)``: ``A`` arbitrary, :math:`\gamma \in [0.01, 5]`, and a competitor ``B`` in
    :math:`\mathcal{M}_\gamma` by construction: the projection of ``A`` plus a feasible step (skew +
    PSD), random or small (where the optimality inequality is nearly tight)."""
    check_integer("max_d", max_d)
    return _margin_projection_instances(max_d)


@st.composite
def _margin_projection_instances(draw, max_d):
    d = draw(st.integers(1, max_d))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = rng.normal(size=(d, d)) * draw(st.floats(0.01, 10))
    gamma = draw(st.floats(0.01, 5))
    step = draw(st.floats(0, 1))
    E = rng.normal(size=(d, d))
    E = E - E.T + (E @ E.T if draw(st.booleans()) else np.eye(d))  # skew + PSD: stays feasible
    B = project_to_margin(A, gamma) + step * E * draw(st.sampled_from([1e-6, 1e-3, 1.0]))
    return A, gamma, B


def margin_targets(*, max_d: int = 4) -> st.SearchStrategy[tuple]:
    r"""``(Phi, gamma)``: :math:`\Phi = S + \gamma I + K`, ``S`` PSD, ``K`` skew, so
    :math:`\lambda_{\min}(\tfrac12(\Phi + \Phi^\top)) \ge \gamma` by construction; ``S = 0`` puts the
    margin exactly at :math:`\gamma`, a large ``K`` makes :math:`\Phi` far from normal."""
    check_integer("max_d", max_d)
    return _margin_targets(max_d)


@st.composite
def _margin_targets(draw, max_d):
    d = draw(st.integers(1, max_d))
    gamma = draw(st.floats(0.1, 1.5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    S = rng.standard_normal((d, d))
    S = draw(st.floats(0.0, 1.0)) * S @ S.T / d
    K = rng.standard_normal((d, d))
    K = draw(st.floats(0.0, 1.5)) * (K - K.T) / 2
    return S + gamma * np.eye(d) + K, gamma
