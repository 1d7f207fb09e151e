r"""Least-squares map and empirical quadratic risk (slide "why wlog?": the projection theorem).

With :math:`(x, y)` uniform on a sample :math:`(x_k, y_k)_{k=1}^n`, the least-squares map
:math:`\Phi` minimizes :math:`\mathbb{E}\|\Phi x - y\|^2 = \frac1n\sum_k\|\Phi x_k - y_k\|^2`.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from ._validation import finite_array


def _sample(X, Y) -> tuple[np.ndarray, np.ndarray]:
    X = finite_array("X", X, ndim=2)
    Y = finite_array("Y", Y, ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows (samples), got {X.shape[0]} and {Y.shape[0]}")
    return X, Y


def least_squares_map(X, Y) -> np.ndarray:
    r"""The least-squares map :math:`\Phi = \arg\min_\Phi \frac1n\sum_k \|\Phi x_k - y_k\|^2`.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one sample per row.
    Y : array_like, shape (n, k)
        Outputs, one sample per row.

    Returns
    -------
    ndarray, shape (k, d)
        The minimum-norm minimizer (``scipy.linalg.lstsq``), which satisfies the normal
        equations :math:`\Phi X^\top X = Y^\top X` also when ``X`` is rank deficient.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> np.allclose(least_squares_map(X, X @ np.array([[2.0, 0.0], [1.0, 3.0]]).T), [[2.0, 0.0], [1.0, 3.0]])
    True
    """
    X, Y = _sample(X, Y)
    coef, *_ = scipy.linalg.lstsq(X, Y)
    return coef.T


def empirical_risk(Theta, X, Y) -> float:
    r""":math:`\frac1n\sum_k \|\Theta x_k - y_k\|^2` for ``Theta`` of shape (k, d).

    Examples
    --------
    >>> empirical_risk([[1.0]], [[1.0], [2.0]], [[0.0], [0.0]])   # (1 + 4) / 2
    2.5
    """
    X, Y = _sample(X, Y)
    Theta = finite_array("Theta", Theta, ndim=2)
    if Theta.shape != (Y.shape[1], X.shape[1]):
        raise ValueError(f"Theta must have shape {(Y.shape[1], X.shape[1])} (outputs x inputs), got {Theta.shape}")
    R = X @ Theta.T - Y
    return float(np.einsum("ij,ij->", R, R) / X.shape[0])
