r"""A fixed-architecture residual network in *parameter* space ([B18]_, slide "Stationary
points: What the theorem says"): its empirical risk and the exact gradient with respect to the
weights.

The network is :math:`h = h_m \circ \cdots \circ h_1` with residual layers
:math:`h_k(z) = z + A_k\sigma(B_k z)` (:class:`~resclaims.impl.residual_layer.ResidualLayer`,
sigmoid, tanh or ReLU), parameters :math:`\theta = (A_1, B_1, \dots, A_m, B_m)`, and risk
:math:`Q(\theta) = \frac1{2n}\sum_j\|h(x_j) - y_j\|^2`. The slide remarks that a stationary
point of :math:`Q(\theta)` can be suboptimal, because the downhill direction in function space
(:mod:`~resclaims.impl.functional_gradient`) can be orthogonal to every direction the
architecture can move in.

.. [B18] P. L. Bartlett. Optimization Properties of Deep Residual Networks. Slides, 2018.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validation import finite_array
from .residual_layer import ResidualLayer, activation, activation_derivative

__all__ = ["ResidualNetwork"]


class ResidualNetwork:
    r"""The residual network :math:`h_m \circ \cdots \circ h_1` with parameters :math:`(A_k, B_k)`.

    Parameters
    ----------
    layers : sequence of ResidualLayer
        One dimension d for all; the activation may differ per layer.

    Examples
    --------
    >>> import numpy as np
    >>> net = ResidualNetwork([ResidualLayer([[0.5]], [[-1.0]], "relu")])
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]])
    >>> net.risk(X, Y)                    # unit dead on x > 0: h = Id
    1.25
    >>> net.gradient_vector(X, Y).tolist()   # exactly zero: a stationary point
    [0.0, 0.0]
    """

    def __init__(self, layers: Sequence[ResidualLayer]) -> None:
        self.layers = tuple(layers)
        if not self.layers:
            raise ValueError("layers must contain at least one ResidualLayer, got none")
        for j, f in enumerate(self.layers):
            if not isinstance(f, ResidualLayer):
                raise TypeError(f"layers[{j}] must be a ResidualLayer, got {type(f).__name__}")
            if f.d != self.layers[0].d:
                raise ValueError(f"layers must share one dimension d; layers[{j}] has d={f.d}")

    @property
    def d(self) -> int:
        return self.layers[0].d

    def _sample(self, X, Y) -> tuple[np.ndarray, np.ndarray]:
        X = finite_array("X", X, ndim=2)
        Y = finite_array("Y", Y, ndim=2)
        if X.shape != Y.shape or X.shape[1] != self.d:
            raise ValueError(f"X and Y must both have shape (n, {self.d}), got {X.shape} and {Y.shape}")
        return X, Y

    def __call__(self, X) -> np.ndarray:
        Z = finite_array("X", X, ndim=2)
        for f in self.layers:
            Z = f(Z)
        return Z

    def risk(self, X, Y) -> float:
        r""":math:`Q(\theta) = \frac1{2n}\sum_j \|h(x_j) - y_j\|^2`."""
        X, Y = self._sample(X, Y)
        R = self(X) - Y
        return 0.5 * float(np.mean(np.sum(R * R, axis=1)))

    def gradient(self, X, Y) -> list[tuple[np.ndarray, np.ndarray]]:
        r"""Exact :math:`(\partial Q/\partial A_k, \partial Q/\partial B_k)` per layer (backpropagation).

        Returns
        -------
        list of (ndarray (d, k), ndarray (k, d))

        Notes
        -----
        With :math:`u = B_k z_{k-1}`, :math:`s = \sigma(u)` and :math:`g = \partial Q/\partial z_k`
        (rows): :math:`\partial Q/\partial A_k = g^\top s`,
        :math:`\partial Q/\partial B_k = ((g A_k) \odot \sigma'(u))^\top z_{k-1}`, and
        :math:`\partial Q/\partial z_{k-1} = g + ((g A_k) \odot \sigma'(u)) B_k`, starting from
        :math:`g = (h(X) - Y)/n`. ReLU uses :math:`\sigma'(0) = 0`.
        """
        X, Y = self._sample(X, Y)
        states = [X]
        for f in self.layers:
            states.append(f(states[-1]))
        g = (states[-1] - Y) / X.shape[0]
        grads = []
        for f, Z in zip(reversed(self.layers), reversed(states[:-1])):
            U = Z @ f.B.T
            gu = (g @ f.A) * activation_derivative(f.activation, U)
            grads.append((g.T @ activation(f.activation, U), gu.T @ Z))
            g = g + gu @ f.B
        return grads[::-1]

    def gradient_vector(self, X, Y) -> np.ndarray:
        """:meth:`gradient` flattened in the order of :meth:`parameters`."""
        return np.concatenate([np.concatenate([dA.ravel(), dB.ravel()]) for dA, dB in self.gradient(X, Y)])

    def parameters(self) -> np.ndarray:
        r""":math:`\theta` flattened: :math:`A_1, B_1, \dots, A_m, B_m` (row-major)."""
        return np.concatenate([np.concatenate([f.A.ravel(), f.B.ravel()]) for f in self.layers])

    def with_parameters(self, theta) -> "ResidualNetwork":
        """A network of the same architecture with the flattened parameters ``theta``."""
        theta = finite_array("theta", theta, ndim=1)
        size = sum(2 * f.A.size for f in self.layers)
        if theta.shape != (size,):
            raise ValueError(f"theta must have shape ({size},), got {theta.shape}")
        layers, at = [], 0
        for f in self.layers:
            A = theta[at:at + f.A.size].reshape(f.A.shape)
            B = theta[at + f.A.size:at + 2 * f.A.size].reshape(f.B.shape)
            layers.append(ResidualLayer(A, B, f.activation))
            at += 2 * f.A.size
        return ResidualNetwork(layers)
