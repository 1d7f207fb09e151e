r"""Residual layers :math:`f(x) = x + A\,\sigma(Bx)` and their Lipschitz facts ([B18]_, slide
"Representing with near-identities"; [BEL18]_).

The slide thinks of each layer of a deep network as a near-identity map

.. math:: h_i(x) = x + A\,\sigma(Bx), \qquad A \in \mathbb{R}^{d \times k},\;
          B \in \mathbb{R}^{k \times d},

with :math:`\sigma` applied entrywise. Its Jacobian is

.. math:: Df(x) = I + A \operatorname{diag}\bigl(\sigma'(Bx)\bigr) B,
          \qquad \sigma'(Bx) \in [0, s_{\max}]^k,

with :math:`s_{\max} = 1/4` (sigmoid), :math:`1` (tanh), :math:`1` (ReLU). The slide "Proof
ideas (1)" uses :math:`\|f - \mathrm{Id}\|_L \le \alpha < 1`; this module computes a
certified :math:`\alpha` (:meth:`ResidualLayer.residual_lipschitz_bound`) and the inverse
:math:`f^{-1}` by the contraction :math:`x \leftarrow y - A\sigma(Bx)`
(:meth:`ResidualLayer.inverse`).

.. [B18] P. L. Bartlett. Optimization Properties of Deep Residual Networks. Slides, 2018;
   slides "Representing with near-identities" and "Stationary points: Proof ideas (1)".
.. [BEL18] P. L. Bartlett, S. N. Evans, P. M. Long. Representing smooth functions as
   compositions of near-identity functions with implications for deep network optimization.
   arXiv:1804.05012.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._validation import finite_array, positive_int, positive_real

__all__ = [
    "ACTIVATIONS",
    "SLOPE_MAX",
    "VERTEX_ENUMERATION_MAX_K",
    "ConvergenceError",
    "ResidualLayer",
    "activation",
    "activation_derivative",
    "lipschitz_ratio_samples",
]

#: Activation names understood by :class:`ResidualLayer`.
ACTIVATIONS = ("sigmoid", "tanh", "relu")

#: :math:`s_{\max} = \sup_z \sigma'(z)`: sigmoid :math:`\sigma(1-\sigma) \le 1/4` (at 0),
#: tanh :math:`1 - \tanh^2 \le 1` (at 0), ReLU 1 (on :math:`z > 0`). The infimum is 0 for all
#: three, so :math:`\sigma'(z) \in [0, s_{\max}]`.
SLOPE_MAX = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}

#: Up to this width k the Lipschitz bound enumerates the 2^k vertices of the slope box.
VERTEX_ENUMERATION_MAX_K = 12


class ConvergenceError(RuntimeError):
    """The fixed-point iteration of :meth:`ResidualLayer.inverse` did not reach ``tol``."""


def _activation_name(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"activation must be one of {ACTIVATIONS}, got {value!r}")
    if value not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {value!r}")
    return value


def activation(name: str, Z) -> np.ndarray:
    r"""Entrywise activation :math:`\sigma(Z)`.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu"}
    Z : array_like, any shape
        Finite real pre-activations.

    Returns
    -------
    ndarray, same shape as ``Z``

    Notes
    -----
    The sigmoid is evaluated as :math:`(1 + \tanh(z/2))/2`, which never overflows.

    Examples
    --------
    >>> activation("sigmoid", [0.0, 1e4]).tolist()
    [0.5, 1.0]
    """
    name = _activation_name(name)
    Z = finite_array("Z", Z)
    return _sigma(name, Z)


def activation_derivative(name: str, Z) -> np.ndarray:
    r"""Entrywise derivative :math:`\sigma'(Z) \in [0, s_{\max}]`.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu"}
    Z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``Z``

    Notes
    -----
    ReLU is not differentiable at 0; the value 0 is returned there (an element of the
    subdifferential :math:`[0, 1]`, so every bound of this module still applies).

    Examples
    --------
    >>> activation_derivative("sigmoid", [0.0]).tolist(), activation_derivative("relu", [-1.0, 0.0, 2.0]).tolist()
    ([0.25], [0.0, 0.0, 1.0])
    """
    name = _activation_name(name)
    Z = finite_array("Z", Z)
    return _dsigma(name, Z)


def _sigma(name: str, Z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * Z))
    if name == "tanh":
        return np.tanh(Z)
    return np.maximum(Z, 0.0)


def _dsigma(name: str, Z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        t = np.tanh(0.5 * Z)
        return 0.25 * (1.0 - t * t)  # sigma (1 - sigma) = (1 - tanh^2(z/2)) / 4
    if name == "tanh":
        t = np.tanh(Z)
        return 1.0 - t * t
    return (Z > 0.0).astype(np.float64)


def _points(name: str, X, d: int) -> tuple[np.ndarray, bool]:
    """``X`` as an (n, d) array, and whether it was a single point of shape (d,)."""
    X = finite_array(name, X)
    if X.ndim == 1 and X.shape[0] == d:
        return X[None, :], True
    if X.ndim == 2 and X.shape[1] == d:
        return X, False
    raise ValueError(f"{name} must have shape ({d},) or (n, {d}), got {X.shape}")


@dataclass(frozen=True, eq=False)
class ResidualLayer:
    r"""The residual layer :math:`f(x) = x + A\,\sigma(Bx)` of the slide ([B18]_, [BEL18]_).

    Parameters
    ----------
    A : array_like, shape (d, k)
        Output weights.
    B : array_like, shape (k, d)
        Input weights.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        The entrywise nonlinearity :math:`\sigma`.

    Raises
    ------
    ValueError, TypeError
        If ``A`` or ``B`` is not a finite real matrix, their shapes are not (d, k) and
        (k, d), or ``activation`` is not a known name; the message names the argument.

    Notes
    -----
    The arrays are stored as read-only float64 copies, so a layer is immutable. Equality is
    identity (``eq=False``): comparing arrays elementwise has no single truth value.

    Examples
    --------
    >>> import numpy as np
    >>> layer = ResidualLayer(A=[[0.8], [0.0]], B=[[1.0, 0.0]], activation="tanh")
    >>> layer.residual_lipschitz_bound()
    0.8
    >>> y = layer(np.array([0.3, -1.0]))
    >>> np.allclose(layer.inverse(y), [0.3, -1.0])
    True
    >>> layer.jacobian([0.0, 0.0]).tolist()
    [[1.8, 0.0], [0.0, 1.0]]
    """

    A: np.ndarray
    B: np.ndarray
    activation: str = "sigmoid"

    def __post_init__(self) -> None:
        A = finite_array("A", self.A, ndim=2)
        B = finite_array("B", self.B, ndim=2)
        if B.shape != (A.shape[1], A.shape[0]):
            raise ValueError(
                f"B must have shape (k, d) = {(A.shape[1], A.shape[0])} for A of shape "
                f"(d, k) = {A.shape}, got {B.shape}"
            )
        name = _activation_name(self.activation)
        A, B = A.copy(), B.copy()
        A.setflags(write=False)
        B.setflags(write=False)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", B)
        object.__setattr__(self, "activation", name)

    @property
    def d(self) -> int:
        """Input and output dimension."""
        return self.A.shape[0]

    @property
    def k(self) -> int:
        """Width of the hidden layer."""
        return self.A.shape[1]

    @property
    def slope_max(self) -> float:
        r""":math:`s_{\max} = \sup_z \sigma'(z)` of the activation (see ``SLOPE_MAX``)."""
        return SLOPE_MAX[self.activation]

    def residual(self, X) -> np.ndarray:
        r"""The residual part :math:`A\,\sigma(Bx)`.

        Parameters
        ----------
        X : array_like, shape (d,) or (n, d)
            One point or n points (rows).

        Returns
        -------
        ndarray, same shape as ``X``
        """
        X2, single = _points("X", X, self.d)
        R = _sigma(self.activation, X2 @ self.B.T) @ self.A.T
        return R[0] if single else R

    def __call__(self, X) -> np.ndarray:
        r""":math:`f(x) = x + A\,\sigma(Bx)` for X of shape (d,) or (n, d) (same shape out)."""
        X2, single = _points("X", X, self.d)
        Y = X2 + _sigma(self.activation, X2 @ self.B.T) @ self.A.T
        return Y[0] if single else Y

    def jacobian(self, x) -> np.ndarray:
        r"""Exact Jacobian :math:`Df(x) = I + A \operatorname{diag}(\sigma'(Bx)) B`.

        Parameters
        ----------
        x : array_like, shape (d,)

        Returns
        -------
        ndarray, shape (d, d)

        Notes
        -----
        For ReLU at a kink (:math:`(Bx)_j = 0`) the slope 0 is used, see
        :func:`activation_derivative`.
        """
        x = finite_array("x", x, ndim=1)
        if x.shape != (self.d,):
            raise ValueError(f"x must have shape ({self.d},), got {x.shape}")
        s = _dsigma(self.activation, self.B @ x)
        return np.eye(self.d) + (self.A * s) @ self.B

    def jacobians(self, X) -> np.ndarray:
        r"""Exact Jacobians :math:`Df(x_j) = I + A \operatorname{diag}(\sigma'(Bx_j)) B` of many points.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Points (rows).

        Returns
        -------
        ndarray, shape (n, d, d)
            Row ``j`` is :meth:`jacobian` of ``X[j]`` (same ReLU convention at a kink).

        Examples
        --------
        >>> layer = ResidualLayer(A=[[0.8], [0.0]], B=[[1.0, 0.0]], activation="tanh")
        >>> layer.jacobians([[0.0, 0.0], [0.0, 5.0]])[:, 0, 0].tolist()
        [1.8, 1.8]
        """
        X = finite_array("X", X, ndim=2)
        if X.shape[1] != self.d:
            raise ValueError(f"X must have shape (n, {self.d}), got {X.shape}")
        S = _dsigma(self.activation, X @ self.B.T)  # (n, k) slopes
        return np.eye(self.d) + np.einsum("ik,nk,kj->nij", self.A, S, self.B)

    def residual_lipschitz_bound(self) -> float:
        r"""Certified upper bound :math:`\alpha \ge \|f - \mathrm{Id}\|_L` (Euclidean norm).

        Returns
        -------
        float
            :math:`\max_{s \in \{0, s_{\max}\}^k} \|A \operatorname{diag}(s) B\|_2` for
            :math:`k \le 12`, else :math:`s_{\max}\|A\|_2\|B\|_2`.

        Notes
        -----
        The Jacobian of :math:`x \mapsto A\sigma(Bx)` is :math:`A\operatorname{diag}(s)B`
        with :math:`s = \sigma'(Bx) \in [0, s_{\max}]^k`, and the Lipschitz constant of a
        map on the convex :math:`\mathbb{R}^d` is the supremum of the norm of its Jacobian
        (mean value inequality; for ReLU, on almost every segment). The spectral norm is
        convex in :math:`s` (a norm of an affine function), so its supremum over the box
        is attained at a vertex: the enumeration is exact for the box, hence an upper bound
        (not always attained: not every pattern :math:`s` is realised by some :math:`Bx`).
        With reduced QR factorizations :math:`A = Q_A R_A`, :math:`B^\top = Q_B R_B`,
        :math:`\|A \operatorname{diag}(s) B\|_2 = \|R_A \operatorname{diag}(s) R_B^\top\|_2`:
        the 2^k matrices are r x r (r = min(d, k)), stacked, and their spectral norms taken
        in one batched SVD, O(d k^2 + 2^k r^3) in all.
        For :math:`k > 12` (``VERTEX_ENUMERATION_MAX_K``) the enumeration is replaced by the
        cruder :math:`s_{\max}\|A\|_2\|B\|_2`, which bounds every vertex. Rounding makes the
        returned value exact only to a few ulps (relative).
        """
        return self._lipschitz_bound

    @cached_property
    def _lipschitz_bound(self) -> float:
        smax = self.slope_max
        if self.k > VERTEX_ENUMERATION_MAX_K:
            return float(smax * np.linalg.norm(self.A, 2) * np.linalg.norm(self.B, 2))
        # A = Q_A R_A, B^T = Q_B R_B (reduced QR, orthonormal columns): ||A S B||_2 =
        # ||R_A S R_B^T||_2, so the 2^k spectral norms are of r x r matrices, r = min(d, k).
        R_A = np.linalg.qr(self.A, mode="r")
        R_B = np.linalg.qr(self.B.T, mode="r")
        S = smax * np.array(list(itertools.product((0.0, 1.0), repeat=self.k)))  # (2^k, k)
        M = np.einsum("ik,mk,jk->mij", R_A, S, R_B)  # R_A diag(s) R_B^T, shape (2^k, r, r)
        return float(np.max(np.linalg.norm(M, 2, axis=(1, 2))))

    def inverse(self, Y, *, tol: float = 1e-12, max_iter: int = 10_000, return_iterations: bool = False):
        r"""Inverse :math:`f^{-1}(y)` by the fixed-point iteration :math:`x \leftarrow y - A\sigma(Bx)`.

        Parameters
        ----------
        Y : array_like, shape (d,) or (n, d)
            One point or n points (rows).
        tol : float, default 1e-12
            Stop when the a-posteriori error bound
            :math:`\frac{\alpha}{1-\alpha}\|x_t - x_{t-1}\| \le \mathrm{tol}\,(1 + \|y\|)`
            holds for every row (Banach fixed-point theorem, :math:`\alpha` =
            :meth:`residual_lipschitz_bound`).
        max_iter : int, default 10000
        return_iterations : bool, default False
            Also return the number of iterations taken.

        Returns
        -------
        X : ndarray, same shape as ``Y``
            With :math:`f(X) = Y` and :math:`\|X - f^{-1}(Y)\| \le \mathrm{tol}(1 + \|Y\|)`
            per row (to rounding).
        iterations : int
            Only if ``return_iterations``.

        Raises
        ------
        ValueError
            If :math:`\alpha \ge 1`: the map need not be invertible and the iteration need
            not converge, so no answer is given. Also for invalid ``Y``, ``tol``,
            ``max_iter``.
        ConvergenceError
            If the error bound is not below ``tol`` after ``max_iter`` iterations (e.g. a
            ``tol`` below the rounding floor, or ``max_iter`` too small for :math:`\alpha`
            close to 1).

        Notes
        -----
        :math:`x \mapsto y - A\sigma(Bx)` is a contraction with factor :math:`\alpha < 1`, so
        its fixed point, the unique solution of :math:`f(x) = y`, is reached from
        :math:`x_0 = y` at the linear rate :math:`\alpha^t` ([B18]_, "Proof ideas (1)",
        item 1). The a-priori count is
        :math:`t \approx \log(\mathrm{tol}(1-\alpha)/\|x_1 - x_0\|)/\log\alpha`.
        """
        tol = positive_real("tol", tol)
        max_iter = positive_int("max_iter", max_iter)
        alpha = self.residual_lipschitz_bound()
        if not alpha < 1.0:
            raise ValueError(
                f"inverse needs residual_lipschitz_bound() < 1 for a guaranteed inverse, got {alpha!r}"
            )
        Y2, single = _points("Y", Y, self.d)
        factor = alpha / (1.0 - alpha)
        threshold = tol * (1.0 + np.linalg.norm(Y2, axis=1))
        X = Y2.copy()
        for it in range(1, max_iter + 1):
            X_new = Y2 - _sigma(self.activation, X @ self.B.T) @ self.A.T
            step = np.linalg.norm(X_new - X, axis=1)
            X = X_new
            if np.all(factor * step <= threshold):
                out = X[0] if single else X
                return (out, it) if return_iterations else out
        worst = float(np.max(factor * step / threshold))
        raise ConvergenceError(
            f"inverse did not converge in max_iter={max_iter} iterations (alpha={alpha!r}): "
            f"error bound is {worst:.3g} x tol; raise max_iter or tol"
        )


def lipschitz_ratio_samples(f, X1, X2) -> np.ndarray:
    r"""Difference quotients :math:`\|f(x_i) - f(y_i)\| / \|x_i - y_i\|` of pairs (rows).

    Each ratio is a lower bound of :math:`\|f\|_L` (definition on the slide "Representing
    with near-identities", [B18]_).

    Parameters
    ----------
    f : callable
        Maps an (n, d) array of points (rows) to an (n, m) array.
    X1, X2 : array_like, shape (n, d)
        The pairs; :math:`x_i \ne y_i` for every row.

    Returns
    -------
    ndarray, shape (n,)

    Raises
    ------
    ValueError
        If the shapes differ, a pair coincides, or ``f`` returns the wrong number of rows.

    Examples
    --------
    >>> import numpy as np
    >>> lipschitz_ratio_samples(lambda X: 3.0 * X, np.zeros((2, 2)), np.eye(2)).tolist()
    [3.0, 3.0]
    """
    X1 = finite_array("X1", X1, ndim=2)
    X2 = finite_array("X2", X2, ndim=2)
    if X1.shape != X2.shape:
        raise ValueError(f"X1 and X2 must have the same shape, got {X1.shape} and {X2.shape}")
    dist = np.linalg.norm(X1 - X2, axis=1)
    if np.any(dist == 0.0):
        raise ValueError(f"X1 and X2 must differ in every row; row {int(np.argmin(dist))} coincides")
    F1, F2 = np.asarray(f(X1), dtype=float), np.asarray(f(X2), dtype=float)
    if F1.ndim != 2 or F1.shape[0] != X1.shape[0] or F1.shape != F2.shape:
        raise ValueError(f"f must map (n, d) to (n, m) arrays, got {F1.shape} and {F2.shape}")
    return np.linalg.norm(F1 - F2, axis=1) / dist
