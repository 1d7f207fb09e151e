r"""Hypothesis strategies for the nonlinear (residual-layer) claims, C2.

A :class:`LayerCase` is a residual layer :math:`f(x) = x + A\sigma(Bx)` whose certified
residual Lipschitz bound ``alpha = layer.residual_lipschitz_bound()`` equals a drawn target,
valid by construction: ``A`` is rescaled (the bound is positively homogeneous in ``A``),
never filtered. Hypothesis draws only small things (sizes, activation, a seed, the target
alpha, the scale of ``B``); the matrices come from ``np.random.default_rng(seed)``, so
shrinking moves toward d = k = 1, seed 0 and alpha -> MIN_ALPHA, i.e. toward the identity.

Sample points and pairs are drawn from generators seeded by ``(seed, stream)``: an instance
is reproduced from its ``instance`` dict alone.

House style (see ``strategies/__init__``): the public strategies (plural nouns) take
keyword-only arguments, validate them when called (``InvalidArgument`` names the argument and
the condition) and delegate the drawing to a private ``@st.composite``; the ``make_*``
builders (parameters to one instance, used by strategies and reproductions) stand apart.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra.numpy import arrays

from resclaims.impl.residual_layer import ACTIVATIONS, ResidualLayer


def row_norms(X: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row (point) of an (n, d) array."""
    return np.linalg.norm(X, axis=1)


def _floats(lo: float, hi: float, **kw) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False, **kw)


# --- argument validation (at call time, as Hypothesis' own strategies do) -------------------

def _check_integer(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {minimum}")


def _check_real(name: str, value, *, at_least: float | None = None, above: float | None = None,
                below: float | None = None) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and math.isfinite(value)
    bounds = []
    if at_least is not None:
        ok = ok and value >= at_least
        bounds.append(f">= {at_least!r}")
    if above is not None:
        ok = ok and value > above
        bounds.append(f"> {above!r}")
    if below is not None:
        ok = ok and value < below
        bounds.append(f"< {below!r}")
    if not ok:
        raise InvalidArgument(f"{name}={value!r} must be a finite number" + "".join(
            f" {'and ' if i else ''}{b}" for i, b in enumerate(bounds)))


def _check_order(lo_name: str, lo: float, hi_name: str, hi: float) -> None:
    if not lo <= hi:
        raise InvalidArgument(f"{lo_name}={lo!r} must be <= {hi_name}={hi!r}")


def _check_choices(name: str, values, allowed) -> tuple:
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise InvalidArgument(f"{name}={values!r} must be a non-empty tuple of names from {tuple(allowed)}")
    values = tuple(values)
    if not values or any(v not in allowed for v in values):
        raise InvalidArgument(f"{name}={values!r} must be a non-empty tuple of names from {tuple(allowed)}")
    return values


def _check_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be a bool")


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


def residual_layers(
    *,
    max_d: int = 6,
    max_k: int = 6,
    activations: tuple[str, ...] = ACTIVATIONS,
    min_alpha: float = MIN_ALPHA,
    max_alpha: float = 0.95,
    wide: bool = True,
) -> st.SearchStrategy[LayerCase]:
    r"""Residual layers with certified :math:`\|f - \mathrm{Id}\|_L \le \alpha`,
    :math:`\alpha \in [` ``min_alpha``, ``max_alpha`` :math:`]`.

    ``k`` is in 1..``max_k`` or, if ``wide``, one of ``WIDE_KS`` (the fallback bound).
    ``max_alpha > 1`` breaks the contraction hypothesis (for sensitivity tests).
    """
    _check_integer("max_d", max_d, 1)
    _check_integer("max_k", max_k, 1)
    activations = _check_choices("activations", activations, ACTIVATIONS)
    _check_real("min_alpha", min_alpha, above=0.0)
    _check_real("max_alpha", max_alpha, above=0.0)
    _check_order("min_alpha", min_alpha, "max_alpha", max_alpha)
    _check_bool("wide", wide)
    return _residual_layers(max_d=max_d, max_k=max_k, activations=activations, min_alpha=min_alpha,
                            max_alpha=max_alpha, wide=wide)


@st.composite
def _residual_layers(draw, *, max_d, max_k, activations, min_alpha, max_alpha, wide) -> LayerCase:
    d = draw(st.integers(1, max_d))
    k = draw(st.integers(1, max_k) | st.sampled_from(WIDE_KS)) if wide else draw(st.integers(1, max_k))
    activation = draw(st.sampled_from(activations))
    seed = draw(st.integers(0, 2**32 - 1))
    alpha = draw(_floats(min_alpha, max_alpha))
    b_scale = draw(_floats(0.1, 5.0))
    return make_layer_case(d=d, k=k, activation=activation, seed=seed, alpha=alpha, b_scale=b_scale)


def make_unit_layer_case(*, activation: str, a: float = 0.5) -> LayerCase:
    r"""The one-unit layer :math:`f(x) = x + a\,\sigma(x)` on :math:`\mathbb{R}` (d = k = 1,
    B = 1): its certificate is :math:`\alpha = |a|\,s_{\max}` exactly, so it is the instance
    of the symbolic checks of :math:`s_{\max}` and of the activations' derivative bounds."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} must be one of {ACTIVATIONS}")
    return LayerCase(ResidualLayer([[float(a)]], [[1.0]], activation), 0, 1.0)


# --- linear maps h(x) = Mx (C2 (4)) --------------------------------------------------------

#: Entries of :func:`linear_map_matrices` below this magnitude are set to 0: ``np.linalg.norm``
#: squares its input, which underflows below ~1e-154 and would test numpy, not the claim.
UNDERFLOW_FLOOR = 1e-100


def linear_map_matrices(*, max_d: int = 6, bound: float = 3.0) -> st.SearchStrategy[np.ndarray]:
    """Any real d x d matrix, entries in [-bound, bound] (zero, singular, non-normal included),
    entries below ``UNDERFLOW_FLOOR`` in magnitude set to 0. Shrinks toward d = 1, M = 0."""
    _check_integer("max_d", max_d, 1)
    _check_real("bound", bound, above=0.0)
    entries = _floats(-bound, bound).map(lambda v: v if abs(v) >= UNDERFLOW_FLOOR else 0.0)
    return st.integers(1, max_d).flatmap(lambda d: arrays(np.float64, (d, d), elements=entries))


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


def make_smooth_map(case: LayerCase, *, stream: int, scale: float = 1.0) -> SmoothMap:
    """A random d -> d map from the case's seed (for ``g`` and for the direction ``Delta``)."""
    rng = case.rng(stream)
    d = case.layer.d
    m = int(rng.integers(1, 5))
    return SmoothMap(scale * rng.standard_normal((d, d)) / np.sqrt(d),
                     scale * rng.standard_normal((d, m)),
                     rng.standard_normal((m, d)))


# --- C1 / C3: smooth invertible maps and compositions (tests/test_c1_*.py, test_c3_*.py) ----

from resclaims.impl.functional_gradient import AffineLayer  # noqa: E402
from resclaims.impl.smooth_residual_map import SmoothResidualMap  # noqa: E402


def _layer_seed(seed: int, j: int) -> int:
    return (seed + 7919 * j) % 2**32


@dataclass(frozen=True, eq=False)
class MapCase:
    r"""A normalised smooth map :math:`h = J_0^{-1} f_K \circ \cdots \circ f_1` (tanh layers) on the
    box :math:`\mathcal{X} = [-r, r]^d`, with its recipe (for the report)."""

    h: SmoothResidualMap
    seed: int
    layer_alpha: float
    b_scale: float
    radius: float

    @property
    def instance(self) -> dict:
        h = self.h
        return {"d": h.d, "depth": len(h.layers), "width": h.layers[0].k, "activation": "tanh",
                "seed": self.seed, "layer_alpha": max(f.residual_lipschitz_bound() for f in h.layers),
                "b_scale": self.b_scale, "radius": self.radius, "smoothness": h.smoothness_bound(),
                "lipschitz": h.lipschitz_bound(), "inverse_lipschitz": h.inverse_lipschitz_bound(),
                "det_Dh0": float(np.linalg.det(h.jacobian(np.zeros(h.d))))}

    def rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream])

    def points(self, n: int, *, stream: int = 0) -> np.ndarray:
        """``n`` uniform points of the box, then its 2^d corners and the origin. (n + 2^d + 1, d)."""
        d, r = self.h.d, self.radius
        corners = r * np.array(list(itertools.product((-1.0, 1.0), repeat=d)))
        return np.vstack([self.rng(stream).uniform(-r, r, (n, d)), corners, np.zeros((1, d))])

    def __repr__(self) -> str:
        h = self.h
        return (f"make_map_case(d={h.d}, depth={len(h.layers)}, width={h.layers[0].k}, seed={self.seed}, "
                f"layer_alpha={self.layer_alpha!r}, b_scale={self.b_scale!r}, radius={self.radius!r})")


def make_map_case(*, d: int, depth: int, width: int, seed: int, layer_alpha: float, b_scale: float,
                  radius: float) -> MapCase:
    """``depth`` tanh layers of :func:`make_layer_case`, each with certified bound ``layer_alpha``."""
    layers = [make_layer_case(d=d, k=width, activation="tanh", seed=_layer_seed(seed, j), alpha=layer_alpha,
                              b_scale=b_scale).layer for j in range(depth)]
    return MapCase(SmoothResidualMap(layers), seed, layer_alpha, b_scale, radius)


def invertible_maps(*, max_d: int = 3, max_depth: int = 3, max_width: int = 3,
                    max_layer_alpha: float = 0.8, max_b_scale: float = 3.0) -> st.SearchStrategy[MapCase]:
    r"""Maps satisfying every hypothesis of the C1 theorem by construction: each layer has
    certified :math:`\|f_j - \mathrm{Id}\|_L \le` ``layer_alpha`` :math:`< 1` (so :math:`h` is
    invertible with :math:`M \le \|J_0\|\prod_j 1/(1 - \alpha_j)`), tanh makes :math:`h` smooth,
    and :math:`Dh(0) = I`. ``layer_alpha`` in [0.05, ``max_layer_alpha``], ``b_scale`` in
    [0.2, ``max_b_scale``]. Shrinks toward d = depth = width = 1, small alpha, radius 1."""
    _check_integer("max_d", max_d, 1)
    _check_integer("max_depth", max_depth, 1)
    _check_integer("max_width", max_width, 1)
    _check_real("max_layer_alpha", max_layer_alpha, at_least=0.05, below=1.0)
    _check_real("max_b_scale", max_b_scale, at_least=0.2)
    return _invertible_maps(max_d=max_d, max_depth=max_depth, max_width=max_width,
                            max_layer_alpha=max_layer_alpha, max_b_scale=max_b_scale)


@st.composite
def _invertible_maps(draw, *, max_d, max_depth, max_width, max_layer_alpha, max_b_scale) -> MapCase:
    d = draw(st.integers(1, max_d))
    depth = draw(st.integers(1, max_depth))
    width = draw(st.integers(1, max_width))
    seed = draw(st.integers(0, 2**32 - 1))
    layer_alpha = draw(_floats(0.05, max_layer_alpha))
    b_scale = draw(_floats(0.2, max_b_scale))
    radius = draw(st.sampled_from([1.0, 0.5, 2.0]))
    return make_map_case(d=d, depth=depth, width=width, seed=seed, layer_alpha=layer_alpha, b_scale=b_scale,
                         radius=radius)


def fold_radius(c: float) -> float:
    r"""Half-width of a box that contains the fold of :math:`x - c\,u\tanh(u^\top x)` (c > 1):
    :math:`\cosh^2(t^*) = c`, so the box reaches 1.5 :math:`t^*` + 0.5 along :math:`u`."""
    return 1.5 * float(np.arccosh(np.sqrt(c))) + 0.5


def make_fold_case(*, d: int, c: float, seed: int, radius: float | None = None) -> MapCase:
    r""":math:`h = J_0^{-1}(x - c\,u\tanh(u^\top x))`, :math:`u` a unit vector from ``seed``.

    For :math:`c > 1`, :math:`\det Dh` changes sign where :math:`\cosh^2(u^\top x) = c`: the map
    folds (not injective) and reverses orientation beyond the fold, while :math:`Dh(0) = I`.
    For :math:`c < 1` it is a smooth bijection (the contrast case).
    """
    u = np.random.default_rng([seed, 5]).standard_normal(d)
    u /= np.linalg.norm(u)
    layer = ResidualLayer(-c * u[:, None], u[None, :], "tanh")
    r = fold_radius(max(c, 1.0 + 1e-9)) if radius is None else radius
    return MapCase(SmoothResidualMap([layer]), seed, c, 1.0, r)


def folding_maps(*, min_c: float = 1.2, max_c: float = 4.0, max_d: int = 3) -> st.SearchStrategy[MapCase]:
    """:func:`make_fold_case` with c in [``min_c``, ``max_c``]: not invertible, orientation
    reversed beyond the fold (c > 1), or, with ``max_c < 1``, a positively oriented bijection."""
    _check_real("min_c", min_c, above=0.0)
    _check_real("max_c", max_c, above=0.0)
    _check_order("min_c", min_c, "max_c", max_c)
    _check_integer("max_d", max_d, 1)
    return _folding_maps(min_c=min_c, max_c=max_c, max_d=max_d)


@st.composite
def _folding_maps(draw, *, min_c, max_c, max_d) -> MapCase:
    return make_fold_case(d=draw(st.integers(1, max_d)), c=draw(_floats(min_c, max_c)),
                          seed=draw(st.integers(0, 2**32 - 1)))


@dataclass(frozen=True, eq=False)
class CompositionCase:
    r"""Layers :math:`h_1, \dots, h_m` and a sample :math:`(x_j, y_j)` for the C3 claims."""

    layers: tuple
    X: np.ndarray
    Y: np.ndarray
    kind: str
    seed: int
    recipe: str = ""

    @property
    def epsilon(self) -> float:
        r""":math:`\varepsilon = \max_i \|h_i - \mathrm{Id}\|_L` (exact for affine layers, certified for residual ones)."""
        return max(f.residual_lipschitz_bound() for f in self.layers)

    @property
    def zero_fixing(self) -> bool:
        r"""Whether every :math:`h_i(0) = 0`."""
        d = self.X.shape[1]
        return all(np.array_equal(f(np.zeros((1, d))), np.zeros((1, d))) for f in self.layers)

    @property
    def instance(self) -> dict:
        return {"kind": self.kind, "seed": self.seed, "m": len(self.layers), "n": self.X.shape[0],
                "d": self.X.shape[1], "epsilon": self.epsilon, "zero_fixing": self.zero_fixing,
                "recipe": self.recipe, "X": self.X, "Y": self.Y}

    def __repr__(self) -> str:
        return self.recipe or f"CompositionCase(kind={self.kind!r}, m={len(self.layers)}, n={self.X.shape[0]}, seed={self.seed})"


#: Layer kinds of :func:`compositions`: zero-fixing (linear, tanh residual) and not
#: (affine with a translation, sigmoid residual: h(0) = A/2).
ZERO_FIXING_KINDS = ("linear", "tanh")
OFFSET_KINDS = ("affine", "sigmoid")


def make_composition_case(*, kind: str, m: int, n: int, d: int, seed: int, epsilon: float = 0.5,
                          duplicates: int = 0, target_scale: float = 1.0) -> CompositionCase:
    r"""``m`` layers of one kind with :math:`\|h_i - \mathrm{Id}\|_L \le` ``epsilon`` and a sample.

    ``linear``/``affine``: :math:`W = I + \varepsilon_i G/\|G\|_2` (and, for ``affine``, a
    translation of norm up to 2); ``tanh``/``sigmoid``: :func:`make_layer_case` with bound
    :math:`\varepsilon_i`; :math:`\varepsilon_i` uniform in :math:`(0, \varepsilon]`. Inputs are
    Gaussian; the last ``duplicates`` rows repeat earlier inputs with other targets (so that
    :math:`Q(h^*) > 0`); targets are Gaussian of scale ``target_scale``.
    """
    rng = np.random.default_rng([seed, 17])
    eps = rng.uniform(0.0, 1.0, m) * epsilon
    layers = []
    for i in range(m):
        if kind in ("linear", "affine"):
            G = rng.standard_normal((d, d))
            b = rng.standard_normal(d) * rng.uniform(0, 2.0 / np.sqrt(d)) if kind == "affine" else None
            layers.append(AffineLayer(np.eye(d) + eps[i] * G / np.linalg.norm(G, 2), b))
        else:
            layers.append(make_layer_case(d=d, k=int(rng.integers(1, 4)), activation=kind, seed=_layer_seed(seed, i),
                                          alpha=max(eps[i], MIN_ALPHA), b_scale=float(rng.uniform(0.3, 3.0))).layer)
    X = rng.standard_normal((n, d))
    dup = min(duplicates, n - 1)
    if dup:
        X[n - dup:] = X[rng.integers(0, n - dup, dup)]
    Y = target_scale * rng.standard_normal((n, d))
    recipe = (f"make_composition_case(kind={kind!r}, m={m}, n={n}, d={d}, seed={seed}, epsilon={epsilon!r}, "
              f"duplicates={duplicates}, target_scale={target_scale!r})")
    return CompositionCase(tuple(layers), X, Y, kind, seed, recipe)


def compositions(*, kinds: tuple[str, ...] = ZERO_FIXING_KINDS, max_m: int = 6, max_n: int = 12,
                 max_d: int = 4, max_epsilon: float = 0.9) -> st.SearchStrategy[CompositionCase]:
    r"""Compositions with :math:`\|h_i - \mathrm{Id}\|_L \le \varepsilon <` ``max_epsilon`` and a
    sample (``max_epsilon >= 1`` breaks the hypothesis, for sensitivity tests); shrinks toward
    one layer, one point, d = 1."""
    kinds = _check_choices("kinds", kinds, ZERO_FIXING_KINDS + OFFSET_KINDS)
    _check_integer("max_m", max_m, 1)
    _check_integer("max_n", max_n, 1)
    _check_integer("max_d", max_d, 1)
    _check_real("max_epsilon", max_epsilon, at_least=0.01)
    return _compositions(kinds=kinds, max_m=max_m, max_n=max_n, max_d=max_d, max_epsilon=max_epsilon)


@st.composite
def _compositions(draw, *, kinds, max_m, max_n, max_d, max_epsilon) -> CompositionCase:
    return make_composition_case(
        kind=draw(st.sampled_from(kinds)), m=draw(st.integers(1, max_m)), n=draw(st.integers(1, max_n)),
        d=draw(st.integers(1, max_d)), seed=draw(st.integers(0, 2**32 - 1)),
        epsilon=draw(_floats(0.01, max_epsilon)), duplicates=draw(st.integers(0, 3)),
        target_scale=draw(_floats(0.1, 3.0)))


def layer_chains(*, max_m: int = 4, max_d: int = 4, max_k: int = 4, min_alpha: float = MIN_ALPHA,
                 max_alpha: float = 0.95,
                 activations: tuple[str, ...] = ACTIVATIONS) -> st.SearchStrategy[list[LayerCase]]:
    r"""Chains :math:`f_1, \dots, f_m` of residual layers of one dimension d, each with certified
    :math:`\|f_j - \mathrm{Id}\|_L = \alpha_j \in [` ``min_alpha``, ``max_alpha`` :math:`]`."""
    _check_integer("max_m", max_m, 1)
    _check_integer("max_d", max_d, 1)
    _check_integer("max_k", max_k, 1)
    _check_real("min_alpha", min_alpha, above=0.0)
    _check_real("max_alpha", max_alpha, above=0.0)
    _check_order("min_alpha", min_alpha, "max_alpha", max_alpha)
    activations = _check_choices("activations", activations, ACTIVATIONS)
    return _layer_chains(max_m=max_m, max_d=max_d, max_k=max_k, min_alpha=min_alpha, max_alpha=max_alpha,
                         activations=activations)


@st.composite
def _layer_chains(draw, *, max_m, max_d, max_k, min_alpha, max_alpha, activations) -> list[LayerCase]:
    d = draw(st.integers(1, max_d))
    return [make_layer_case(d=d, k=draw(st.integers(1, max_k)), activation=draw(st.sampled_from(activations)),
                            seed=draw(st.integers(0, 2**32 - 1)), alpha=draw(_floats(min_alpha, max_alpha)),
                            b_scale=draw(_floats(0.1, 5.0)))
            for _ in range(draw(st.integers(1, max_m)))]


def _scaled_to_alpha(A0: np.ndarray, B: np.ndarray, activation_name: str, alpha: float) -> ResidualLayer:
    """The layer with A rescaled so that its certified bound equals ``alpha`` (homogeneous in A)."""
    base = ResidualLayer(A0, B, activation_name).residual_lipschitz_bound()
    return ResidualLayer(A0 * (alpha / base), B, activation_name)


def make_dead_relu_case(*, m: int, d: int, k: int, n: int, seed: int, alpha: float = 0.5,
                        target_scale: float = 1.0) -> CompositionCase:
    r"""ReLU residual layers whose units are all dead on the sample: inputs
    :math:`x = t u + x_\perp` (:math:`t \in [1/2, 2]`), rows of :math:`B_k` equal to
    :math:`-c u + w` with :math:`w \perp u`, :math:`\|w\| \|x_\perp\| \le c t / 2`, so
    :math:`B_k x < 0`: every layer is the identity on the sample and :math:`\nabla_\theta Q = 0`
    exactly. :math:`A_k` is scaled to the certified bound ``alpha``; targets
    :math:`y = x + ` ``target_scale`` :math:`g`."""
    rng = np.random.default_rng([seed, 29])
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    perp = np.eye(d) - np.outer(u, u)
    t = rng.uniform(0.5, 2.0, (n, 1))
    X = t * u + 0.5 * rng.standard_normal((n, d)) @ perp
    room = 0.5 * float(t.min()) / max(float(np.linalg.norm(X @ perp, axis=1).max()), 1e-6)
    layers = []
    for _ in range(m):
        c = rng.uniform(0.5, 2.0, (k, 1))
        W = rng.standard_normal((k, d)) @ perp
        norms = np.linalg.norm(W, axis=1, keepdims=True)
        W = np.where(norms > 1e-12, W / np.maximum(norms, 1e-12), 0.0) * room * c * rng.uniform(0, 1, (k, 1))
        layers.append(_scaled_to_alpha(rng.standard_normal((d, k)), -c * u + W, "relu", alpha))
    Y = X + target_scale * rng.standard_normal((n, d))
    recipe = f"make_dead_relu_case(m={m}, d={d}, k={k}, n={n}, seed={seed}, alpha={alpha!r}, target_scale={target_scale!r})"
    return CompositionCase(tuple(layers), X, Y, "relu", seed, recipe)


def make_sigmoid_saddle_case(*, m: int, d: int, k: int, n: int, seed: int, b_scale: float = 1.0,
                             target_scale: float = 1.0) -> CompositionCase:
    r"""Sigmoid residual layers with :math:`A_k = 0` (each layer the identity, :math:`h_k(0) = 0`)
    and targets :math:`y = x - r` with the residual :math:`r` orthogonal, as a column of the
    sample, to every column of every :math:`\sigma(XB_k^\top)`: then
    :math:`\partial Q/\partial A_k = r^\top\sigma(XB_k^\top)/n = 0` and
    :math:`\partial Q/\partial B_k = 0` (it carries a factor :math:`A_k`). Needs
    :math:`n > mk`; ``n`` is raised to :math:`mk + 2` if smaller."""
    rng = np.random.default_rng([seed, 31])
    n = max(n, m * k + 2)
    X = rng.standard_normal((n, d))
    Bs = [b_scale * rng.standard_normal((k, d)) for _ in range(m)]
    S = np.hstack([0.5 * (1.0 + np.tanh(0.5 * X @ B.T)) for B in Bs])
    Q, _ = np.linalg.qr(S)
    G = target_scale * rng.standard_normal((n, d))
    R = G - Q @ (Q.T @ G)
    layers = tuple(ResidualLayer(np.zeros((d, k)), B, "sigmoid") for B in Bs)
    recipe = f"make_sigmoid_saddle_case(m={m}, d={d}, k={k}, n={n}, seed={seed}, b_scale={b_scale!r}, target_scale={target_scale!r})"
    return CompositionCase(layers, X, X - R, "sigmoid", seed, recipe)


#: Kinds of :func:`stationary_points`: dead ReLU units, sigmoid saddles.
STATIONARY_KINDS = ("relu", "sigmoid")


def stationary_points(*, kinds: tuple[str, ...] = STATIONARY_KINDS) -> st.SearchStrategy[CompositionCase]:
    """Suboptimal stationary points of fixed ReLU / sigmoid residual architectures (by construction)."""
    kinds = _check_choices("kinds", kinds, STATIONARY_KINDS)
    return _stationary_points(kinds=kinds)


@st.composite
def _stationary_points(draw, *, kinds) -> CompositionCase:
    kind = draw(st.sampled_from(kinds))
    args = dict(m=draw(st.integers(1, 4)), d=draw(st.integers(1, 4)), k=draw(st.integers(1, 3)),
                n=draw(st.integers(1, 12)), seed=draw(st.integers(0, 2**32 - 1)), target_scale=draw(_floats(0.1, 3.0)))
    if kind == "relu":
        return make_dead_relu_case(alpha=draw(_floats(0.01, 0.9)), **args)
    return make_sigmoid_saddle_case(b_scale=draw(_floats(0.1, 3.0)), **args)
