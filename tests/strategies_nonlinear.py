r"""Hypothesis strategies for the nonlinear (residual-layer) claims, C2.

A :class:`LayerCase` is a residual layer :math:`f(x) = x + A\sigma(Bx)` whose certified
residual Lipschitz bound ``alpha = layer.residual_lipschitz_bound()`` equals a drawn target,
valid by construction: ``A`` is rescaled (the bound is positively homogeneous in ``A``),
never filtered. Hypothesis draws only small things (sizes, activation, a seed, the target
alpha, the scale of ``B``); the matrices come from ``np.random.default_rng(seed)``, so
shrinking moves toward d = k = 1, seed 0 and alpha -> MIN_ALPHA, i.e. toward the identity.

Sample points and pairs are drawn from generators seeded by ``(seed, stream)``: an instance
is reproduced from its ``instance`` dict alone.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from hypothesis import strategies as st

from resclaims.impl.residual_layer import ACTIVATIONS, ResidualLayer


def row_norms(X: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row (point) of an (n, d) array."""
    return np.linalg.norm(X, axis=1)


def _floats(lo: float, hi: float, **kw) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False, **kw)


#: Smallest certified alpha drawn. Below it ||Df(z) - I|| (formed as (I + A S B) - I) is at
#: rounding level relative to alpha, and the checks would only measure rounding.
MIN_ALPHA = 1e-6

#: Widths beyond ``VERTEX_ENUMERATION_MAX_K`` (12), drawn now and then so that the fallback
#: bound s_max ||A||_2 ||B||_2 of ``residual_lipschitz_bound`` is exercised too.
WIDE_KS = (13, 16)

#: At most this many slope patterns are turned into vertex points (random ones beyond).
MAX_VERTEX_POINTS = 64

#: Smallest separation of a probe pair, relative to 1 + ||x||: keeps the rounding of a
#: difference quotient (tests/tolerances.quotient_atol) below 1e-11.
MIN_RELATIVE_SEPARATION = 1e-3


@dataclass(frozen=True, eq=False)
class LayerCase:
    """A residual layer with its recipe (for the report) and seeded sample streams."""

    layer: ResidualLayer
    seed: int
    b_scale: float

    @cached_property
    def alpha(self) -> float:
        return self.layer.residual_lipschitz_bound()

    @property
    def instance(self) -> dict:
        """What the evidence engine stores: small, and enough to rebuild the layer."""
        L = self.layer
        return {"d": L.d, "k": L.k, "activation": L.activation, "seed": self.seed,
                "b_scale": self.b_scale, "alpha": self.alpha, "A": L.A, "B": L.B}

    def rng(self, stream: int) -> np.random.Generator:
        """An independent generator per use (points, pairs, auxiliary maps)."""
        return np.random.default_rng([self.seed, stream])

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        L = self.layer
        return (f"make_layer_case(d={L.d}, k={L.k}, activation={L.activation!r}, "
                f"seed={self.seed}, alpha={self.alpha!r}, b_scale={self.b_scale!r})")


def make_layer_case(*, d: int, k: int, activation: str, seed: int, alpha: float, b_scale: float) -> LayerCase:
    r"""The layer with ``B = b_scale * G / sqrt(d)`` and ``A`` rescaled to the bound ``alpha``.

    ``G`` and the direction of ``A`` are standard normal from ``default_rng(seed)``; the
    returned bound equals ``alpha`` to a few ulps (homogeneity of the vertex enumeration).
    """
    rng = np.random.default_rng(seed)
    A0 = rng.standard_normal((d, k))
    B = b_scale * rng.standard_normal((k, d)) / np.sqrt(d)
    base = ResidualLayer(A0, B, activation).residual_lipschitz_bound()
    return LayerCase(ResidualLayer(A0 * (alpha / base), B, activation), seed, b_scale)


@st.composite
def residual_layers(
    draw,
    *,
    max_d: int = 6,
    max_k: int = 6,
    activations: tuple[str, ...] = ACTIVATIONS,
    min_alpha: float = MIN_ALPHA,
    max_alpha: float = 0.95,
    wide: bool = True,
) -> LayerCase:
    r"""Residual layers with certified :math:`\|f - \mathrm{Id}\|_L \le \alpha`,
    :math:`\alpha \in [` ``min_alpha``, ``max_alpha`` :math:`]`.

    ``k`` is in 1..``max_k`` or, if ``wide``, one of ``WIDE_KS`` (the fallback bound).
    ``max_alpha > 1`` breaks the contraction hypothesis (for sensitivity tests).
    """
    d = draw(st.integers(1, max_d))
    k = draw(st.integers(1, max_k) | st.sampled_from(WIDE_KS)) if wide else draw(st.integers(1, max_k))
    activation = draw(st.sampled_from(activations))
    seed = draw(st.integers(0, 2**32 - 1))
    alpha = draw(_floats(min_alpha, max_alpha))
    b_scale = draw(_floats(0.1, 5.0))
    return make_layer_case(d=d, k=k, activation=activation, seed=seed, alpha=alpha, b_scale=b_scale)


# --- sample points and pairs ----------------------------------------------------------------

def vertex_points(case: LayerCase, *, scale: float = 30.0) -> np.ndarray:
    r"""Points whose slope pattern :math:`\sigma'(Bx)` is (near) a vertex of :math:`\{0, s_{\max}\}^k`.

    For every pattern :math:`s`, :math:`x = B^+ w` with :math:`w_j = 0` (sigmoid, tanh:
    maximal slope) or :math:`+1` (ReLU) on the units that are on and :math:`-` ``scale`` /
    :math:`-1` on the others. When :math:`k \le d` and :math:`B` has full row rank the
    pattern is realised, so :math:`\|Df(x) - I\|_2` reaches the vertex value: the bound
    alpha is attained (ReLU) or approached (smooth) at these points. Shape (2^k, d); for
    2^k > ``MAX_VERTEX_POINTS``, that many patterns drawn from the case's seed.
    """
    L = case.layer
    on_value, off_value = (1.0, -1.0) if L.activation == "relu" else (0.0, -scale)
    if 2**L.k <= MAX_VERTEX_POINTS:
        patterns = np.array(list(itertools.product((0.0, 1.0), repeat=L.k)))
    else:
        patterns = case.rng(99).integers(0, 2, (MAX_VERTEX_POINTS, L.k)).astype(float)
        patterns[0] = 1.0
    W = np.where(patterns == 1.0, on_value, off_value)
    return W @ np.linalg.pinv(L.B).T


def sample_points(case: LayerCase, n: int, *, stream: int = 0) -> np.ndarray:
    """``n`` points: the origin, then Gaussian points of log-uniform scale in [0.1, 3]. (n, d)."""
    rng = case.rng(stream)
    X = rng.standard_normal((n, case.layer.d)) * np.exp(rng.uniform(np.log(0.1), np.log(3.0), (n, 1)))
    X[0] = 0.0
    return X


def probe_pairs(case: LayerCase, n: int, *, which: str, stream: int = 1) -> tuple[np.ndarray, np.ndarray]:
    r"""Pairs :math:`(x, x + h u)` that probe the local Lipschitz constant of the layer.

    Base points: :func:`sample_points` and :func:`vertex_points`. Directions ``u``: half
    random unit vectors, half the right singular vector of :math:`Df(x)` for its largest
    (``which="top"``) or smallest (``which="bottom"``) singular value, so that the
    difference quotient approaches :math:`\sigma_{\max}(Df(x))` or
    :math:`\sigma_{\min}(Df(x))`. Separations :math:`h` are log-uniform in
    :math:`[10^{-3}, 1] (1 + \|x\|)`. Returns two (m, d) arrays with distinct rows.
    """
    if which not in ("top", "bottom"):
        raise ValueError(f"which must be 'top' or 'bottom', got {which!r}")
    L = case.layer
    rng = case.rng(stream)
    X = np.vstack([sample_points(case, n, stream=stream + 100), vertex_points(case)])
    m = X.shape[0]
    U = rng.standard_normal((m, L.d))
    for i in range(0, m, 2):
        _, _, Vt = np.linalg.svd(L.jacobian(X[i]))
        U[i] = Vt[0] if which == "top" else Vt[-1]
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    h = np.exp(rng.uniform(np.log(MIN_RELATIVE_SEPARATION), 0.0, (m, 1))) * (1.0 + np.linalg.norm(X, axis=1, keepdims=True))
    return X, X + h * U


# --- auxiliary maps for F(g) = f o g --------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SmoothMap:
    r""":math:`x \mapsto N x + P \tanh(Q x)` (no near-identity assumption), vectorized over rows."""

    N: np.ndarray
    P: np.ndarray
    Q: np.ndarray

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return X @ self.N.T + np.tanh(X @ self.Q.T) @ self.P.T


def smooth_maps(case: LayerCase, *, stream: int, scale: float = 1.0) -> SmoothMap:
    """A random d -> d map from the case's seed (for ``g`` and for the direction ``Delta``)."""
    rng = case.rng(stream)
    d = case.layer.d
    m = int(rng.integers(1, 5))
    return SmoothMap(scale * rng.standard_normal((d, d)) / np.sqrt(d),
                     scale * rng.standard_normal((d, m)),
                     rng.standard_normal((m, d)))
