r"""Smooth invertible maps :math:`h : \mathbb{R}^d \to \mathbb{R}^d` normalised to
:math:`h(0) = 0`, :math:`Dh(0) = I`, built from residual layers ([B18]_, slide
"Representing with near-identities: Theorem"; [BEL18]_, Thm 1).

The theorem needs :math:`h` differentiable and invertible, smooth
(:math:`\|Dh(y) - Dh(x)\| \le \alpha\|y - x\|`), with a Lipschitz inverse
(:math:`\|h^{-1}\|_L \le M`) and positively oriented. Its proof first normalises
:math:`h(0) = 0`, :math:`Dh(0) = I` ("Key ideas", item 1). This module builds such maps as

.. math:: h(x) = J_0^{-1}\,(f_K \circ \cdots \circ f_1)(x), \qquad
          f_j(x) = x + A_j \tanh(B_j x), \qquad J_0 = D(f_K \circ \cdots \circ f_1)(0),

with exact Jacobians, certified constants (:meth:`SmoothResidualMap.lipschitz_bound`,
:meth:`~SmoothResidualMap.inverse_lipschitz_bound`, :meth:`~SmoothResidualMap.smoothness_bound`)
and an inverse by the layers' certified fixed-point iterations. The smoothness :math:`\alpha`
grows with the scale of the :math:`B_j` (at fixed :math:`\|f_j - \mathrm{Id}\|_L`), and
:math:`M` with the layers' Lipschitz bounds: both are controlled by the recipe of the layers.

.. [B18] P. L. Bartlett. Optimization Properties of Deep Residual Networks. Slides, 2018.
.. [BEL18] P. L. Bartlett, S. N. Evans, P. M. Long. Representing smooth functions as
   compositions of near-identity functions with implications for deep network optimization.
   arXiv:1804.05012.
"""
from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from ._validation import finite_array, positive_int, positive_real
from .residual_layer import ResidualLayer

__all__ = ["CURVATURE_MAX", "SmoothResidualMap"]

#: :math:`\sup_z |\tanh''(z)| = 4/(3\sqrt3)`, attained where :math:`\tanh^2 z = 1/3`
#: (:math:`\tanh'' = -2\tanh(1 - \tanh^2)`).
CURVATURE_MAX = {"tanh": 4.0 / (3.0 * math.sqrt(3.0))}


def _layers(layers) -> tuple[ResidualLayer, ...]:
    layers = tuple(layers) if not isinstance(layers, ResidualLayer) else (layers,)
    if not layers:
        raise ValueError("layers must contain at least one ResidualLayer, got none")
    for j, f in enumerate(layers):
        if not isinstance(f, ResidualLayer):
            raise TypeError(f"layers[{j}] must be a ResidualLayer, got {type(f).__name__}")
        if f.activation not in CURVATURE_MAX:
            raise ValueError(
                f"layers[{j}].activation must be one of {tuple(CURVATURE_MAX)} (smooth, sigma(0) = 0), "
                f"got {f.activation!r}"
            )
        if f.d != layers[0].d:
            raise ValueError(f"layers must share one dimension d; layers[{j}] has d={f.d}, layers[0] has d={layers[0].d}")
    return layers


class SmoothResidualMap:
    r""":math:`h(x) = J_0^{-1}(f_K \circ \cdots \circ f_1)(x)` with :math:`h(0) = 0`, :math:`Dh(0) = I`.

    Parameters
    ----------
    layers : sequence of ResidualLayer
        :math:`f_1, \dots, f_K` (applied in this order), all of one dimension d, activation
        ``"tanh"``.

    Raises
    ------
    ValueError, TypeError
        If ``layers`` is empty, holds something else than a ``ResidualLayer``, mixes
        dimensions or uses a non-smooth or offset activation, or if :math:`J_0` is singular
        (:math:`h` cannot be normalised); the message names the argument.

    Notes
    -----
    Only :math:`\sigma = \tanh` is accepted: with :math:`\sigma(0) = 0` every
    :math:`f_j(0) = 0`, so :math:`h(0) = 0` needs no offset and :math:`g_a(x) = h(ax)/a` is
    evaluated without cancellation at small :math:`a` (an offset :math:`c` would leave an
    absolute rounding :math:`\epsilon\|c\|/a`). A sigmoid layer is a tanh layer with a bias,
    :math:`\sigma(z) = (1 + \tanh(z/2))/2`. The layers need not be near-identities: with some
    :math:`\|f_j - \mathrm{Id}\|_L \ge 1` the map may fold (not invertible, orientation
    reversed somewhere), which the necessity claim uses; :meth:`inverse` then refuses.

    Examples
    --------
    >>> import numpy as np
    >>> f = ResidualLayer([[0.5], [0.0]], [[1.0, 0.0]], "tanh")   # J_0 = diag(1.5, 1)
    >>> h = SmoothResidualMap([f])
    >>> h.jacobian([0.0, 0.0]).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    >>> x = np.array([0.3, -1.0])
    >>> bool(np.allclose(h.inverse(h(x)), x))
    True
    >>> round(h.lipschitz_bound(), 12), round(h.inverse_lipschitz_bound(), 12)  # ||J_0^-1|| 1.5, ||J_0|| / 0.5
    (1.5, 3.0)
    """

    def __init__(self, layers) -> None:
        self.layers = _layers(layers)
        d = self.layers[0].d
        J0 = np.eye(d)
        for f in self.layers:
            J0 = f.jacobian(np.zeros(d)) @ J0
        if not np.all(np.isfinite(J0)) or np.linalg.cond(J0) > 1e12:
            raise ValueError("layers must give an invertible D(f_K o ... o f_1)(0) (h cannot be normalised), "
                             f"got condition number {np.linalg.cond(J0):.3g}")
        self.J0 = J0
        self.J0_inverse = np.linalg.inv(J0)

    @property
    def d(self) -> int:
        """Dimension."""
        return self.layers[0].d

    def _points(self, X) -> tuple[np.ndarray, bool]:
        X = finite_array("X", X)
        if X.ndim == 1 and X.shape == (self.d,):
            return X[None, :], True
        if X.ndim == 2 and X.shape[1] == self.d:
            return X, False
        raise ValueError(f"X must have shape ({self.d},) or (n, {self.d}), got {X.shape}")

    def __call__(self, X) -> np.ndarray:
        r""":math:`h(x)` for X of shape (d,) or (n, d) (same shape out)."""
        Z, single = self._points(X)
        for f in self.layers:
            Z = f(Z)
        Z = Z @ self.J0_inverse.T
        return Z[0] if single else Z

    def jacobians(self, X) -> np.ndarray:
        r"""Exact :math:`Dh(x_j) = J_0^{-1} Df_K(z_{K-1}) \cdots Df_1(z_0)`, :math:`z_0 = x_j`.

        Parameters
        ----------
        X : array_like, shape (n, d)

        Returns
        -------
        ndarray, shape (n, d, d)
        """
        Z, _ = self._points(X)
        J = np.broadcast_to(np.eye(self.d), (Z.shape[0], self.d, self.d))
        for f in self.layers:
            J = f.jacobians(Z) @ J
            Z = f(Z)
        return self.J0_inverse @ J

    def jacobian(self, x) -> np.ndarray:
        r""":math:`Dh(x)` for one point ``x`` of shape (d,); returns (d, d)."""
        x = finite_array("x", x, ndim=1)
        if x.shape != (self.d,):
            raise ValueError(f"x must have shape ({self.d},), got {x.shape}")
        return self.jacobians(x[None, :])[0]

    @cached_property
    def _layer_alphas(self) -> np.ndarray:
        return np.array([f.residual_lipschitz_bound() for f in self.layers])

    @property
    def certified_invertible(self) -> bool:
        r"""True if every :math:`\|f_j - \mathrm{Id}\|_L \le \alpha_j < 1` (certified), so that
        :math:`h` is a bi-Lipschitz bijection of :math:`\mathbb{R}^d`."""
        return bool(np.all(self._layer_alphas < 1.0))

    def inverse(self, Y, *, tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
        r""":math:`h^{-1}(y) = f_1^{-1} \circ \cdots \circ f_K^{-1}(J_0 y)`.

        Parameters
        ----------
        Y : array_like, shape (d,) or (n, d)
        tol : float, default 1e-12
            Passed to each :meth:`ResidualLayer.inverse`: every layer's preimage is certified
            to ``tol * (1 + ||input||)``; the errors add up, amplified by at most
            :math:`\prod_j 1/(1 - \alpha_j)`.
        max_iter : int, default 10000

        Returns
        -------
        ndarray, same shape as ``Y``

        Raises
        ------
        ValueError
            If not :attr:`certified_invertible` (the inverse may not exist), or bad input.
        ConvergenceError
            From a layer whose fixed-point iteration did not reach ``tol``.
        """
        tol = positive_real("tol", tol)
        max_iter = positive_int("max_iter", max_iter)
        if not self.certified_invertible:
            raise ValueError("inverse needs every layer's residual_lipschitz_bound() < 1 (certified_invertible), "
                             f"got {self._layer_alphas.tolist()}")
        Z, single = self._points(Y)
        Z = Z @ self.J0.T
        for f in reversed(self.layers):
            Z = f.inverse(Z, tol=tol, max_iter=max_iter)
        return Z[0] if single else Z

    def lipschitz_bound(self) -> float:
        r"""Certified :math:`L \ge \|h\|_L`: :math:`\|J_0^{-1}\|_2 \prod_j (1 + \alpha_j)`."""
        return float(np.linalg.norm(self.J0_inverse, 2) * np.prod(1.0 + self._layer_alphas))

    def inverse_lipschitz_bound(self) -> float:
        r"""Certified :math:`M \ge \|h^{-1}\|_L`: :math:`\|J_0\|_2 \prod_j 1/(1 - \alpha_j)`
        (``inf`` unless :attr:`certified_invertible`). Also bounds every :math:`\|Dh(x)^{-1}\|_2`."""
        if not self.certified_invertible:
            return math.inf
        return float(np.linalg.norm(self.J0, 2) / np.prod(1.0 - self._layer_alphas))

    def smoothness_bound(self) -> float:
        r"""Certified :math:`\alpha \ge \sup_{x \ne y} \|Dh(y) - Dh(x)\|_2 / \|y - x\|`.

        Notes
        -----
        One layer: :math:`Df(y) - Df(x) = A \operatorname{diag}(\delta) B` with
        :math:`|\delta_k| = |\tanh'(b_k y) - \tanh'(b_k x)| \le c\,\|b_k\|\,\|y - x\|`,
        :math:`c = \sup|\tanh''|` (``CURVATURE_MAX``), so
        :math:`\beta_f = c\,\|A\|_2\|B\|_2\max_k\|b_k\|`. A composition
        :math:`G_k = f_k \circ G_{k-1}` has :math:`\beta_{G_k} \le \beta_{f_k} L_{G_{k-1}}^2
        + (1 + \alpha_k)\beta_{G_{k-1}}` and :math:`L_{G_k} \le (1 + \alpha_k) L_{G_{k-1}}`
        (product rule on :math:`Df_k(G(x))\,DG(x)`); finally :math:`\alpha \le \|J_0^{-1}\|_2\,\beta`.
        """
        beta, lip = 0.0, 1.0
        for f, a in zip(self.layers, self._layer_alphas):
            beta_f = (CURVATURE_MAX[f.activation] * np.linalg.norm(f.A, 2) * np.linalg.norm(f.B, 2)
                      * np.max(np.linalg.norm(f.B, axis=1)))
            beta = beta_f * lip**2 + (1.0 + a) * beta
            lip *= 1.0 + a
        return float(np.linalg.norm(self.J0_inverse, 2) * beta)
