r"""Empirical risk of a composition :math:`h = h_m \circ \cdots \circ h_1` and its Fréchet
derivative with respect to one layer ([B18]_, slides "Stationary points: Result" and
"Proof ideas (2)"; [BEL18]_).

With :math:`(X, Y)` uniform on a sample :math:`(x_j, y_j)_{j=1}^n`,
:math:`Q(h) = \frac12\mathbb{E}\|h(X) - Y\|^2` is the empirical risk and
:math:`h^*(x) = \mathbb{E}[Y \mid X = x]` is the mean of the :math:`y_j` with :math:`x_j = x`.
Perturbing layer :math:`i` by :math:`\Delta` changes :math:`h(x)` by
:math:`J_{>i}(x)\Delta(z_{i-1}(x))` to first order, where :math:`z_k = h_k \circ \cdots
\circ h_1(x)` and :math:`J_{>i}(x) = D(h_m \circ \cdots \circ h_{i+1})(z_i(x))`, so

.. math:: D_{h_i}Q(h)(\Delta) = \mathbb{E}\big[(h(X) - Y)^\top J_{>i}(X)\,\Delta(z_{i-1}(X))\big].

The slide measures :math:`\Delta` in the induced norm :math:`\|\Delta\| = \sup_{z \ne 0}
\|\Delta(z)\|/\|z\|`. On a sample, :math:`D_{h_i}Q(h)` depends on :math:`\Delta` only at
the points :math:`z_{i-1}(x_j)`, where the constraint :math:`\|\Delta\| \le 1` reads
:math:`\|\Delta(z)\| \le \|z\|` independently per point, so the dual norm is exact:

.. math:: \|D_{h_i}Q(h)\| = \frac1n \sum_{z} \Big\|\sum_{j: z_{i-1}(x_j) = z}
          J_{>i}(x_j)^\top (h(x_j) - y_j)\Big\|\,\|z\|.

.. [B18] P. L. Bartlett. Optimization Properties of Deep Residual Networks. Slides, 2018.
.. [BEL18] P. L. Bartlett, S. N. Evans, P. M. Long. arXiv:1804.05012.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ._validation import finite_array, positive_int, square_matrix

__all__ = ["AffineLayer", "CompositionRisk", "conditional_means"]


class AffineLayer:
    r"""An affine layer :math:`z \mapsto Wz + b` (a linear layer when :math:`b = 0`).

    Parameters
    ----------
    W : array_like, shape (d, d)
    b : array_like, shape (d,), optional (default 0)

    Notes
    -----
    :math:`\|(W\cdot + b) - \mathrm{Id}\|_L = \|W - I\|_2` exactly (slide "Proof ideas (1)",
    item 4: for a linear map the Lipschitz seminorm is the operator norm); a translation has
    seminorm 0 whatever :math:`b`.

    Examples
    --------
    >>> layer = AffineLayer([[1.0]], [-0.75])
    >>> layer([[1.0]]).tolist(), layer.residual_lipschitz_bound()
    ([[0.25]], 0.0)
    """

    def __init__(self, W, b=None) -> None:
        self.W = square_matrix("W", W)
        self.b = np.zeros(self.W.shape[0]) if b is None else finite_array("b", b, ndim=1)
        if self.b.shape != (self.W.shape[0],):
            raise ValueError(f"b must have shape ({self.W.shape[0]},), got {self.b.shape}")

    @property
    def d(self) -> int:
        return self.W.shape[0]

    def __call__(self, Z) -> np.ndarray:
        return np.asarray(Z, dtype=float) @ self.W.T + self.b

    def jacobians(self, Z) -> np.ndarray:
        """``W`` at every row of ``Z``: shape (n, d, d)."""
        return np.broadcast_to(self.W, (np.shape(Z)[0], self.d, self.d)).copy()

    def residual_lipschitz_bound(self) -> float:
        r""":math:`\|W - I\|_2`, exactly :math:`\|(W\cdot + b) - \mathrm{Id}\|_L`."""
        return float(np.linalg.norm(self.W - np.eye(self.d), 2))


def conditional_means(X, Y) -> np.ndarray:
    r""":math:`h^*(x_j) = \mathbb{E}[Y \mid X = x_j]` for the uniform distribution on the sample.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (n, p)

    Returns
    -------
    ndarray, shape (n, p)
        Row ``j`` is the mean of the ``Y`` rows whose ``X`` row equals ``X[j]`` exactly.

    Examples
    --------
    >>> conditional_means([[0.0], [1.0], [0.0]], [[1.0], [5.0], [3.0]]).tolist()
    [[2.0], [5.0], [2.0]]
    """
    X = finite_array("X", X, ndim=2)
    Y = finite_array("Y", Y, ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows (samples), got {X.shape[0]} and {Y.shape[0]}")
    _, group, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    sums = np.zeros((counts.size, Y.shape[1]))
    np.add.at(sums, group, Y)
    return (sums / counts[:, None])[group]


def _group_sum_norms(Z: np.ndarray, V: np.ndarray) -> float:
    r""":math:`\sum_z \|\sum_{j: z_j = z} v_j\|\,\|z\|` over the distinct rows ``z`` of ``Z``."""
    _, group = np.unique(Z, axis=0, return_inverse=True)
    group = group.ravel()
    sums = np.zeros((group.max() + 1, V.shape[1]))
    np.add.at(sums, group, V)
    first = np.unique(group, return_index=True)[1]
    return float(np.sum(np.linalg.norm(sums, axis=1) * np.linalg.norm(Z[first], axis=1)))


class CompositionRisk:
    r"""Empirical risk :math:`Q(h)` of :math:`h = h_m \circ \cdots \circ h_1` on a sample, and
    :math:`D_{h_i}Q(h)`.

    Parameters
    ----------
    layers : sequence
        :math:`h_1, \dots, h_m`: callables mapping (n, d) to (n, d) with a
        ``jacobians(Z) -> (n, d, d)`` method (``ResidualLayer``, :class:`AffineLayer`).
    X, Y : array_like, shape (n, d)
        The sample; :math:`(X, Y)` is uniform on its rows.

    Notes
    -----
    Layers are numbered from 1 as on the slide. Everything is computed once, at construction
    (the states :math:`z_0, \dots, z_m` and the upstream Jacobians).

    Examples
    --------
    >>> import numpy as np
    >>> risk = CompositionRisk([AffineLayer([[1.0]]), AffineLayer([[1.0]])], [[1.0], [2.0]], [[2.0], [2.0]])
    >>> risk.risk(), risk.optimal_risk(), risk.distance_to_optimum()     # h = Id, h* = (2, 2)
    (0.25, 0.0, 1.0)
    >>> risk.derivative_norm(2)   # (|1 - 2| * 1 + |2 - 2| * 2) / 2
    0.5
    """

    def __init__(self, layers: Sequence, X, Y) -> None:
        self.layers = tuple(layers)
        if not self.layers:
            raise ValueError("layers must contain at least one layer, got none")
        self.X = finite_array("X", X, ndim=2)
        self.Y = finite_array("Y", Y, ndim=2)
        if self.X.shape != self.Y.shape:
            raise ValueError(f"X and Y must have the same shape (n, d), got {self.X.shape} and {self.Y.shape}")
        Z = [self.X]
        for k, layer in enumerate(self.layers, 1):
            out = np.asarray(layer(Z[-1]), dtype=float)
            if out.shape != self.X.shape:
                raise ValueError(f"layers[{k - 1}] must map (n, d) to (n, d), got {out.shape}")
            Z.append(out)
        self.states = Z
        self.h_star = conditional_means(self.X, self.Y)
        n, d = self.X.shape
        # upstream[i] = J_{>i} at every sample (product of the layer Jacobians after layer i)
        upstream = [np.broadcast_to(np.eye(d), (n, d, d))]
        for k in range(self.m, 1, -1):
            upstream.append(upstream[-1] @ self.layers[k - 1].jacobians(Z[k - 1]))
        self._upstream = upstream[::-1]  # index i - 1 -> J_{>i}

    @property
    def m(self) -> int:
        return len(self.layers)

    def _index(self, i) -> int:
        i = positive_int("i", i)
        if i > self.m:
            raise ValueError(f"i must be a layer index in 1..{self.m}, got {i}")
        return i

    @property
    def residuals(self) -> np.ndarray:
        r""":math:`h(x_j) - y_j`, shape (n, d)."""
        return self.states[-1] - self.Y

    def risk(self) -> float:
        r""":math:`Q(h) = \frac1{2n}\sum_j \|h(x_j) - y_j\|^2`."""
        return 0.5 * float(np.mean(np.sum(self.residuals**2, axis=1)))

    def optimal_risk(self) -> float:
        r""":math:`Q(h^*)`, zero when the :math:`x_j` are distinct."""
        return 0.5 * float(np.mean(np.sum((self.h_star - self.Y) ** 2, axis=1)))

    def distance_to_optimum(self) -> float:
        r""":math:`\|h - h^*\| = \max_{x_j \ne 0} \|h(x_j) - h^*(x_j)\|/\|x_j\|` over the support
        (``inf`` if :math:`h(0) \ne h^*(0)` at a sample point :math:`x_j = 0`)."""
        gap = np.linalg.norm(self.states[-1] - self.h_star, axis=1)
        norm = np.linalg.norm(self.X, axis=1)
        if np.any((norm == 0.0) & (gap > 0.0)):
            return float("inf")
        return float(np.max(gap[norm > 0.0] / norm[norm > 0.0], initial=0.0))

    def upstream_jacobians(self, i: int) -> np.ndarray:
        r""":math:`J_{>i}(x_j) = D(h_m \circ \cdots \circ h_{i+1})(z_i(x_j))`, shape (n, d, d)."""
        return self._upstream[self._index(i) - 1]

    def derivative(self, i: int, delta: Callable[[np.ndarray], np.ndarray]) -> float:
        r""":math:`D_{h_i}Q(h)(\Delta) = \frac1n\sum_j (h(x_j) - y_j)^\top J_{>i}(x_j)\,\Delta(z_{i-1}(x_j))`."""
        V = np.asarray(delta(self.states[self._index(i) - 1]), dtype=float)
        return float(np.mean(np.einsum("ni,nij,nj->n", self.residuals, self.upstream_jacobians(i), V)))

    def derivative_norm(self, i: int) -> float:
        r"""Exact :math:`\|D_{h_i}Q(h)\|` in the induced norm (module docstring)."""
        W = np.einsum("nji,nj->ni", self.upstream_jacobians(i), self.residuals)  # J^T r
        return _group_sum_norms(self.states[self._index(i) - 1], W) / self.X.shape[0]

    def slide_direction(self, i: int) -> tuple[float, float]:
        r"""The slide's direction ("Proof ideas (2)", item 3): :math:`\Delta(z_{i-1}(x)) =
        J_{>i}(x)^{-1}(h(x) - h^*(x))`, for which :math:`D_{h_i}Q(h)(\Delta) =
        \mathbb{E}\|h(X) - h^*(X)\|^2`.

        Returns
        -------
        value : float
            :math:`D_{h_i}Q(h)(\Delta)/\|\Delta\|`, a certified lower bound of
            :math:`\|D_{h_i}Q(h)\|` (0 if :math:`h = h^*` on the sample).
        norm : float
            :math:`\|\Delta\| = \max_z \|\Delta(z)\|/\|z\|` over the points
            :math:`z = z_{i-1}(x_j)` (``inf`` if :math:`\Delta(0) \ne 0` is needed).
        """
        i = self._index(i)
        gap = self.states[-1] - self.h_star
        V = np.linalg.solve(self.upstream_jacobians(i), gap[:, :, None])[:, :, 0]
        Z = self.states[i - 1]
        value = float(np.mean(np.einsum("ni,nij,nj->n", self.residuals, self.upstream_jacobians(i), V)))
        vnorm, znorm = np.linalg.norm(V, axis=1), np.linalg.norm(Z, axis=1)
        if np.any((znorm == 0.0) & (vnorm > 0.0)):
            return 0.0, float("inf")
        norm = float(np.max(vnorm[znorm > 0.0] / znorm[znorm > 0.0], initial=0.0))
        return (value / norm if norm > 0.0 else 0.0), norm

    def perturbed_risk(self, i: int, delta: Callable[[np.ndarray], np.ndarray], t: float) -> float:
        r""":math:`Q` of the composition with :math:`h_i` replaced by :math:`h_i + t\Delta`."""
        i = self._index(i)
        Z = self.states[i - 1]
        Z = self.layers[i - 1](Z) + t * np.asarray(delta(Z), dtype=float)
        for layer in self.layers[i:]:
            Z = layer(Z)
        return 0.5 * float(np.mean(np.sum((Z - self.Y) ** 2, axis=1)))
