r"""A smooth invertible map as a composition of near-identities, and the Lipschitz seminorm
of each layer ([B18]_, slides "Representing with near-identities: Theorem" and "Key ideas";
[BEL18]_, Thm 1).

With :math:`h(0) = 0`, :math:`Dh(0) = I` and a schedule :math:`0 < a_1 < \cdots < a_m = 1`,
put :math:`g_a(x) = h(ax)/a` (:math:`g_0 = \mathrm{Id}`) and

.. math:: h_i = g_{a_i} \circ g_{a_{i-1}}^{-1}, \qquad i = 1, \dots, m,

so that :math:`h_i \circ \cdots \circ h_1 = g_{a_i}` ("Key ideas", item 2) and
:math:`h_m \circ \cdots \circ h_1 = g_1 = h`. Layer :math:`i` acts on the image domain
:math:`S_i = g_{a_{i-1}}(\mathcal{X})`; at :math:`z = g_{a_{i-1}}(x)` its Jacobian is
:math:`Dh_i(z) = Dh(a_i x)\,Dh(a_{i-1} x)^{-1}`, so everything about :math:`h_i` on
:math:`S_i` is computed from points :math:`x \in \mathcal{X}` without any inverse.

The domain :math:`\mathcal{X}` is the box :math:`[-r, r]^d`. The slide does not give the
schedule ([unverified]); :func:`linear_schedule` and :func:`geometric_schedule` are two
natural ones, and any validated user schedule works.

.. [B18] P. L. Bartlett. Optimization Properties of Deep Residual Networks. Slides, 2018.
.. [BEL18] P. L. Bartlett, S. N. Evans, P. M. Long. Representing smooth functions as
   compositions of near-identity functions with implications for deep network optimization.
   arXiv:1804.05012.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from ._validation import finite_array, positive_int, positive_real
from .smooth_residual_map import SmoothResidualMap

__all__ = [
    "LipschitzEstimate",
    "NearIdentityDecomposition",
    "estimate_layer_lipschitz",
    "estimate_max_layer_lipschitz",
    "geometric_schedule",
    "linear_schedule",
    "validate_schedule",
]

#: Stand-in for an infinite ||Dh_i(z) - I|| where Dh(a_{i-1} x) is singular (a fold), so
#: that the local optimizer stays finite.
_HUGE = 1e300


def validate_schedule(schedule) -> np.ndarray:
    r"""Check a schedule :math:`0 < a_1 < \cdots < a_m = 1` and return it as float64, shape (m,).

    Raises
    ------
    ValueError
        Naming the violated condition: not one-dimensional, not finite, :math:`a_1 \le 0`,
        not strictly increasing, or :math:`a_m \ne 1`.

    Examples
    --------
    >>> validate_schedule([0.25, 0.5, 1.0]).tolist()
    [0.25, 0.5, 1.0]
    >>> validate_schedule([0.5, 0.5, 1.0])
    Traceback (most recent call last):
    ...
    ValueError: schedule must be strictly increasing, got a_2 = 0.5 <= a_1 = 0.5
    """
    a = finite_array("schedule", schedule, ndim=1)
    if not a[0] > 0.0:
        raise ValueError(f"schedule must have a_1 > 0, got a_1 = {float(a[0])!r}")
    steps = np.diff(a)
    if np.any(steps <= 0.0):
        i = int(np.argmax(steps <= 0.0))
        raise ValueError(f"schedule must be strictly increasing, got a_{i + 2} = {float(a[i + 1])!r} <= a_{i + 1} = {float(a[i])!r}")
    if a[-1] != 1.0:
        raise ValueError(f"schedule must end with a_m = 1, got a_m = {float(a[-1])!r}")
    return a


def linear_schedule(m: int) -> np.ndarray:
    r"""The uniform schedule :math:`a_i = i/m`, shape (m,).

    Examples
    --------
    >>> linear_schedule(4).tolist()
    [0.25, 0.5, 0.75, 1.0]
    """
    m = positive_int("m", m)
    return np.arange(1, m + 1) / m


def geometric_schedule(m: int, a1: float | None = None) -> np.ndarray:
    r"""The geometric schedule :math:`a_i = a_1^{(m - i)/(m - 1)}`, shape (m,).

    Parameters
    ----------
    m : int
    a1 : float in (0, 1), default ``1/m``
        The first scale; :math:`a_1 = 1/m` keeps :math:`\|h_1 - \mathrm{Id}\|_L = O(1/m)`
        and makes every ratio :math:`a_i / a_{i-1} = a_1^{-1/(m-1)} = 1 + O(\log m / m)`.
        Ignored for ``m = 1`` (the schedule is then :math:`a_1 = 1`).

    Examples
    --------
    >>> geometric_schedule(3, a1=0.25).tolist()
    [0.25, 0.5, 1.0]
    """
    m = positive_int("m", m)
    if m == 1:
        return np.ones(1)
    a1 = 1.0 / m if a1 is None else positive_real("a1", a1)
    if not a1 < 1.0:
        raise ValueError(f"a1 must be in (0, 1), got {a1!r}")
    a = a1 ** ((m - np.arange(1, m + 1)) / (m - 1))
    a[-1] = 1.0
    return validate_schedule(a)


def _deviation_norms(J_next: np.ndarray, J_prev: np.ndarray) -> np.ndarray:
    r""":math:`\|J_{\mathrm{next}} J_{\mathrm{prev}}^{-1} - I\|_2` per row of two (..., d, d) stacks
    (``_HUGE`` where :math:`J_{\mathrm{prev}}` is singular)."""
    shape = J_next.shape[:-2]
    d = J_next.shape[-1]
    Jn, Jp = J_next.reshape(-1, d, d), J_prev.reshape(-1, d, d)
    try:
        D = np.swapaxes(np.linalg.solve(np.swapaxes(Jp, 1, 2), np.swapaxes(Jn, 1, 2)), 1, 2)
        out = np.linalg.norm(D - np.eye(d), 2, axis=(1, 2))
    except np.linalg.LinAlgError:
        out = np.array([_deviation_norms(a[None], b[None])[0] if np.linalg.matrix_rank(b) == d else _HUGE
                        for a, b in zip(Jn, Jp)])
    return np.minimum(np.nan_to_num(out, nan=_HUGE, posinf=_HUGE), _HUGE).reshape(shape)


class NearIdentityDecomposition:
    r"""The layers :math:`h_i = g_{a_i} \circ g_{a_{i-1}}^{-1}` of :math:`h` for one schedule.

    Parameters
    ----------
    h : SmoothResidualMap
        With :math:`h(0) = 0`, :math:`Dh(0) = I`.
    schedule : array_like, shape (m,)
        :math:`0 < a_1 < \cdots < a_m = 1` (:func:`validate_schedule`).

    Notes
    -----
    Layers are numbered from 1 as on the slide. :meth:`layer` and :meth:`compose` need
    :math:`g_{a}^{-1}(z) = h^{-1}(az)/a`, hence an invertible :math:`h`; the Jacobians, pair
    quotients and bounds need only forward evaluations and also work for a map that folds
    (the necessity claim).

    Examples
    --------
    >>> import numpy as np
    >>> from resclaims.impl.residual_layer import ResidualLayer
    >>> h = SmoothResidualMap([ResidualLayer([[0.4]], [[2.0]], "tanh")])
    >>> dec = NearIdentityDecomposition(h, linear_schedule(8))
    >>> X = np.linspace(-1.0, 1.0, 5)[:, None]
    >>> bool(np.allclose(dec.compose(X), h(X)))
    True
    >>> bool(dec.deviation_norms(X).max() < 0.5)    # every layer near the identity
    True
    """

    def __init__(self, h: SmoothResidualMap, schedule) -> None:
        if not isinstance(h, SmoothResidualMap):
            raise TypeError(f"h must be a SmoothResidualMap, got {type(h).__name__}")
        self.h = h
        self.schedule = validate_schedule(schedule)
        self.previous = np.concatenate([[0.0], self.schedule[:-1]])

    @property
    def m(self) -> int:
        """Number of layers."""
        return self.schedule.shape[0]

    def _index(self, i) -> int:
        i = positive_int("i", i)
        if i > self.m:
            raise ValueError(f"i must be a layer index in 1..{self.m}, got {i}")
        return i

    def g(self, a: float, X) -> np.ndarray:
        r""":math:`g_a(x) = h(ax)/a` for rows of ``X`` (:math:`g_0 = \mathrm{Id}`)."""
        X = np.asarray(X, dtype=float)
        return X.copy() if a == 0.0 else self.h(a * X) / a

    def g_inverse(self, a: float, Z, *, tol: float = 1e-12) -> np.ndarray:
        r""":math:`g_a^{-1}(z) = h^{-1}(az)/a`, each layer's preimage certified to
        :math:`\mathrm{tol}\,(1 + \|\cdot\|)` at the scale of :math:`z` (tolerance ``tol * a`` at
        the scale of :math:`az`)."""
        Z = np.asarray(Z, dtype=float)
        return Z.copy() if a == 0.0 else self.h.inverse(a * Z, tol=tol * a) / a

    def layer(self, i: int, Z, *, tol: float = 1e-12) -> np.ndarray:
        r""":math:`h_i(z) = g_{a_i}(g_{a_{i-1}}^{-1}(z))` for rows ``Z`` of shape (n, d)."""
        i = self._index(i)
        return self.g(self.schedule[i - 1], self.g_inverse(self.previous[i - 1], Z, tol=tol))

    def compose(self, X, *, tol: float = 1e-12) -> np.ndarray:
        r""":math:`h_m \circ \cdots \circ h_1(x)`, layer by layer (each with its inverse), for rows
        ``X`` of shape (n, d): equal to :math:`h(x)` up to the inverses' tolerance."""
        Z = finite_array("X", X, ndim=2)
        for i in range(1, self.m + 1):
            Z = self.layer(i, Z, tol=tol)
        return Z

    def deviation_norms(self, X, layers=None) -> np.ndarray:
        r""":math:`\|Dh_i(z) - I\|_2` at :math:`z = g_{a_{i-1}}(x)` for rows ``x`` of ``X``.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Preimage points in :math:`\mathcal{X}`.
        layers : sequence of int, optional
            Layer indices (1-based); default all.

        Returns
        -------
        ndarray, shape (len(layers), n)
            Each entry is a lower bound of :math:`\|h_i - \mathrm{Id}\|_L` on :math:`S_i`
            (a derivative is a limit of difference quotients of pairs in :math:`S_i`).
        """
        X = finite_array("X", X, ndim=2)
        idx = np.arange(1, self.m + 1) if layers is None else np.array([self._index(i) for i in layers])
        scales = np.unique(np.concatenate([self.schedule[idx - 1], self.previous[idx - 1]]))
        J = self.h.jacobians((scales[:, None, None] * X[None]).reshape(-1, X.shape[1]))
        J = J.reshape(scales.size, X.shape[0], X.shape[1], X.shape[1])
        where = {a: k for k, a in enumerate(scales)}
        nxt = J[[where[a] for a in self.schedule[idx - 1]]]
        prv = J[[where[a] for a in self.previous[idx - 1]]]
        return _deviation_norms(nxt, prv)

    def pair_quotients(self, i: int, X1, X2) -> np.ndarray:
        r"""Difference quotients of :math:`h_i - \mathrm{Id}` on pairs of :math:`S_i`.

        For preimage pairs :math:`(x, x')` (rows), with :math:`z = g_{a_{i-1}}(x)`:
        :math:`\|(h_i - \mathrm{Id})(z) - (h_i - \mathrm{Id})(z')\| / \|z - z'\|`, where
        :math:`h_i(z) = g_{a_i}(x)`. Each is a lower bound of :math:`\|h_i - \mathrm{Id}\|_L`
        on :math:`S_i`. Returns shape (n,); pairs with :math:`z = z'` give ``inf`` (then
        :math:`h_i` is not even a function on :math:`S_i`) or ``nan`` (coincident points).
        """
        i = self._index(i)
        a, b = self.previous[i - 1], self.schedule[i - 1]
        X1, X2 = finite_array("X1", X1, ndim=2), finite_array("X2", X2, ndim=2)
        Z1, Z2 = self.g(a, X1), self.g(a, X2)
        R1, R2 = self.g(b, X1) - Z1, self.g(b, X2) - Z2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.linalg.norm(R1 - R2, axis=1) / np.linalg.norm(Z1 - Z2, axis=1)

    def upper_bounds(self, radius: float) -> np.ndarray:
        r"""Certified :math:`U_i \ge \|h_i - \mathrm{Id}\|_L` on :math:`S_i`, :math:`\mathcal{X} = [-r, r]^d`.

        Returns
        -------
        ndarray, shape (m,)
            :math:`U_1 = \alpha a_1 R` and :math:`U_i = \alpha M^2 L R\,(a_i - a_{i-1})` for
            :math:`i \ge 2`, with :math:`R = r\sqrt d`, :math:`\alpha, L, M` the certified
            smoothness, Lipschitz and inverse-Lipschitz constants of :math:`h`
            (``inf`` where :math:`h` is not certified invertible).

        Notes
        -----
        [derived] :math:`Dh_i(z) - I = (Dh(a_i x) - Dh(a_{i-1} x))\,Dh(a_{i-1} x)^{-1}` has norm
        at most :math:`\alpha (a_i - a_{i-1})\|x\| M`. On the convex hull of :math:`S_i`,
        :math:`\|z\| \le \sup_{S_i}\|g_{a_{i-1}}\| \le L R` and
        :math:`\|x\| = \|g_{a_{i-1}}^{-1}(z)\| \le M\|z\|`; the mean value inequality on the
        hull bounds the seminorm on :math:`S_i`. For :math:`i = 1`, :math:`S_1 = \mathcal{X}`
        is convex and :math:`Dh(0) = I`, so :math:`\|Dh(a_1 x) - I\| \le \alpha a_1 R`. With
        the linear schedule every :math:`U_i = O(1/m)`; the bound grows with :math:`R`.
        """
        r = positive_real("radius", radius)
        R = r * math.sqrt(self.h.d)
        alpha = self.h.smoothness_bound()
        M, L = self.h.inverse_lipschitz_bound(), self.h.lipschitz_bound()
        steps = self.schedule - self.previous
        U = alpha * M * M * L * R * steps
        U[0] = alpha * self.schedule[0] * R
        return U


@dataclass(frozen=True)
class LipschitzEstimate:
    r"""A certified lower estimate of :math:`\|h_i - \mathrm{Id}\|_L` on :math:`S_i`, how it was
    found, and the certified upper bound.

    Attributes
    ----------
    layer : int
        The layer :math:`i` (1-based).
    lower : float
        The largest value found: every candidate is a Jacobian norm
        :math:`\|Dh_i(z) - I\|_2` at a point of :math:`S_i` or a difference quotient of a pair
        of :math:`S_i`, so ``lower`` :math:`\le \|h_i - \mathrm{Id}\|_L` (up to rounding).
    upper : float
        :meth:`NearIdentityDecomposition.upper_bounds` of the layer.
    argmax : ndarray, shape (d,)
        Preimage :math:`x \in \mathcal{X}` of the point (or first point of the pair) attaining ``lower``.
    source : str
        ``"jacobian"`` or ``"pair"``.
    effort : dict
        Search effort: screened points, local starts, local iterations, function evaluations
        (each one Jacobian pair), pairs, and the best Jacobian and pair values.
    """

    layer: int
    lower: float
    upper: float
    argmax: np.ndarray
    source: str
    effort: dict = field(default_factory=dict)


def _box_points(rng: np.random.Generator, n: int, d: int, r: float) -> np.ndarray:
    """``n`` uniform points of [-r, r]^d, then the 2^d corners (d <= 4)."""
    X = rng.uniform(-r, r, (n, d))
    if d <= 4:
        X = np.vstack([X, r * np.array(list(itertools.product((-1.0, 1.0), repeat=d)))])
    return X


def estimate_layer_lipschitz(decomposition: NearIdentityDecomposition, i: int, *, radius: float,
                             screen: int = 64, starts: int = 4, pairs: int = 128,
                             seed: int = 0) -> LipschitzEstimate:
    r"""Lower estimate of :math:`\|h_i - \mathrm{Id}\|_L` on :math:`S_i = g_{a_{i-1}}([-r, r]^d)`.

    Parameters
    ----------
    decomposition : NearIdentityDecomposition
    i : int
        Layer (1-based).
    radius : float
        :math:`r`, the half-width of the box :math:`\mathcal{X}`.
    screen : int, default 64
        Uniform points of the box at which the Jacobian norm is screened (plus the 2^d corners
        for d <= 4).
    starts : int, default 4
        Best screened points used as starts of a local maximisation
        (``scipy.optimize.minimize``, L-BFGS-B on the box).
    pairs : int, default 128
        Difference quotients: half uniform pairs of the box (the domain :math:`S_i` is not
        convex, so a quotient can exceed every Jacobian norm), half pairs around the best point
        at log-uniform separations in :math:`[10^{-4}, 1]\,r`, plus one short pair along the
        top singular direction of :math:`Dh_i - I` there (a pair realising the Jacobian value).
    seed : int, default 0
        Seeds ``numpy.random.default_rng``.

    Returns
    -------
    LipschitzEstimate

    Examples
    --------
    >>> from resclaims.impl.residual_layer import ResidualLayer
    >>> h = SmoothResidualMap([ResidualLayer([[0.4]], [[2.0]], "tanh")])
    >>> est = estimate_layer_lipschitz(NearIdentityDecomposition(h, linear_schedule(4)), 4, radius=1.0)
    >>> bool(0.0 < est.lower <= est.upper), est.effort["local starts"]
    (True, 4)
    """
    i = decomposition._index(i)
    r = positive_real("radius", radius)
    screen, starts = positive_int("screen", screen), positive_int("starts", starts)
    pairs = positive_int("pairs", pairs)
    d = decomposition.h.d
    rng = np.random.default_rng(seed)

    X = _box_points(rng, screen, d, r)
    values = decomposition.deviation_norms(X, [i])[0]
    order = np.argsort(-values)

    a_prev, a_next = decomposition.previous[i - 1], decomposition.schedule[i - 1]
    jacobians = decomposition.h.jacobians

    def negative(x):  # -||Dh_i(z) - I|| at one point, without the batch bookkeeping
        J = jacobians(np.stack([a_next * x, a_prev * x]))
        return -float(_deviation_norms(J[0], J[1] if a_prev > 0 else np.eye(d)))

    best_x, best = X[order[0]], float(values[order[0]])
    iterations = evaluations = 0
    for k in order[:starts]:
        res = scipy.optimize.minimize(negative, X[k], method="L-BFGS-B", bounds=[(-r, r)] * d,
                                      options={"maxiter": 50})
        iterations += int(res.nit)
        evaluations += int(res.nfev)
        if -res.fun > best:
            best, best_x = float(-res.fun), np.clip(res.x, -r, r)

    half = pairs // 2
    U = rng.standard_normal((pairs - half, d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    near = np.clip(best_x + r * np.exp(rng.uniform(np.log(1e-4), 0.0, (pairs - half, 1))) * U, -r, r)
    P1 = np.vstack([rng.uniform(-r, r, (half, d)), np.repeat(best_x[None], pairs - half, 0)])
    P2 = np.vstack([rng.uniform(-r, r, (half, d)), near])
    direction = _top_preimage_direction(decomposition, i, best_x)
    if direction is not None:
        step = 1e-5 * r * direction
        inside = best_x - step if np.any(np.abs(best_x + step) > r) else best_x
        P1, P2 = np.vstack([P1, inside]), np.vstack([P2, inside + step])
    q = decomposition.pair_quotients(i, P1, P2)
    q = np.where(np.isnan(q), -np.inf, q)
    k = int(np.argmax(q))
    pair_best = float(q[k])
    source, lower, argmax = ("pair", pair_best, P1[k]) if pair_best > best else ("jacobian", best, best_x)
    effort = {"screened points": int(X.shape[0]), "local starts": int(min(starts, X.shape[0])),
              "local iterations": iterations, "function evaluations": evaluations + int(X.shape[0]),
              "pairs": int(P1.shape[0]), "jacobian max": best, "pair max": pair_best}
    return LipschitzEstimate(i, lower, float(decomposition.upper_bounds(r)[i - 1]), argmax, source, effort)


def _top_preimage_direction(decomposition: NearIdentityDecomposition, i: int, x: np.ndarray):
    r"""Unit direction :math:`w` at :math:`x` whose image under :math:`Dg_{a_{i-1}}(x)` is the top
    right singular vector of :math:`Dh_i(z) - I` (``None`` at a fold)."""
    a, b = decomposition.previous[i - 1], decomposition.schedule[i - 1]
    Jp = decomposition.h.jacobian(a * x) if a > 0 else np.eye(x.shape[0])
    Jn = decomposition.h.jacobian(b * x)
    try:
        D = np.linalg.solve(Jp.T, Jn.T).T - np.eye(x.shape[0])
        w = np.linalg.solve(Jp, np.linalg.svd(D)[2][0])
    except np.linalg.LinAlgError:
        return None
    norm = np.linalg.norm(w)
    return w / norm if np.isfinite(norm) and norm > 0 else None


def estimate_max_layer_lipschitz(decomposition: NearIdentityDecomposition, *, radius: float,
                                 screen: int = 64, refine: int = 2, starts: int = 2, pairs: int = 64,
                                 seed: int = 0) -> tuple[LipschitzEstimate, np.ndarray]:
    r"""Lower estimate of :math:`\max_i \|h_i - \mathrm{Id}\|_L` over all layers.

    Screens every layer's Jacobian norm at the same ``screen`` points (one batched Jacobian
    evaluation of :math:`h` at all scales :math:`a_i x`), then runs
    :func:`estimate_layer_lipschitz` on the ``refine`` layers with the largest screened values.

    Returns
    -------
    estimate : LipschitzEstimate
        The best refined layer; its ``effort`` adds the screening of all layers.
    screened : ndarray, shape (m,)
        Screened :math:`\max_x \|Dh_i - I\|_2` per layer (each a lower bound).

    Examples
    --------
    >>> from resclaims.impl.residual_layer import ResidualLayer
    >>> h = SmoothResidualMap([ResidualLayer([[0.4]], [[2.0]], "tanh")])
    >>> est, screened = estimate_max_layer_lipschitz(NearIdentityDecomposition(h, linear_schedule(16)), radius=1.0)
    >>> screened.shape, bool(est.lower >= screened.max())
    ((16,), True)
    """
    r = positive_real("radius", radius)
    screen, refine = positive_int("screen", screen), positive_int("refine", refine)
    rng = np.random.default_rng(seed)
    X = _box_points(rng, screen, decomposition.h.d, r)
    screened = decomposition.deviation_norms(X).max(axis=1)
    best = None
    spent = {"local starts": 0, "local iterations": 0, "function evaluations": 0, "pairs": 0}
    for i in np.argsort(-screened, kind="stable")[:refine] + 1:
        # same seed: the refinement starts from the same screened points, so it can only improve
        est = estimate_layer_lipschitz(decomposition, int(i), radius=r, screen=screen, starts=starts,
                                       pairs=pairs, seed=seed)
        for key in spent:
            spent[key] += est.effort[key]
        if best is None or est.lower > best.lower:
            best = est
    effort = {**best.effort, **spent, "layers screened": decomposition.m, "layers refined": min(refine, decomposition.m),
              "function evaluations": spent["function evaluations"] + decomposition.m * X.shape[0]}
    return LipschitzEstimate(best.layer, best.lower, best.upper, best.argmax, best.source, effort), screened
