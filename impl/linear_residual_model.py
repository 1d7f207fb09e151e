r"""The linear residual model of [HM16]_ Sec. 2 (slide "Some intuition: linear functions").

Data :math:`y = Ax + \varepsilon` with :math:`\mathbb{E}xx^\top = \Sigma`, noise independent of
:math:`x` with mean 0 and covariance :math:`\sigma^2 I`; parameters :math:`A_1, \dots, A_m` of
the product :math:`\Theta = (I + A_m)\cdots(I + A_1)`. The population risk is

.. math::  f(A_1, \dots, A_m) = \mathbb{E}\|\Theta x - y\|^2
           = \operatorname{tr}\big((\Theta - A)\Sigma(\Theta - A)^\top\big) + d\sigma^2,

whose gradient is :math:`\nabla_{A_i} f = 2(\Theta_{i+1:m})^\top(\Theta - A)\Sigma(\Theta_{1:i-1})^\top`:
the deep linear gradient (:func:`~resclaims.impl.deep_linear.gradient`) of the network with a
fixed first layer :math:`\Sigma^{1/2}` and target :math:`A\Sigma^{1/2}`, times 2.

.. [HM16] M. Hardt, T. Ma. Identity matters in deep learning. ICLR 2017, arXiv:1611.04231.
"""
from __future__ import annotations

import numpy as np

from ._validation import finite_array, finite_real, square_matrix
from .deep_linear import gradient


def population_risk_and_gradient(residuals, A, covariance=None, noise_variance: float = 0.0):
    r"""Population risk :math:`f` and its gradients :math:`\nabla_{A_i} f`.

    Parameters
    ----------
    residuals : array_like, shape (m, d, d)
        :math:`A_1, \dots, A_m` (``residuals[0]`` acts first).
    A : array_like, shape (d, d)
        The model matrix.
    covariance : array_like, shape (d, d), optional
        :math:`\Sigma = \mathbb{E}xx^\top`, symmetric positive semidefinite (identity by default).
    noise_variance : float
        :math:`\sigma^2 \ge 0`.

    Returns
    -------
    risk : float
    grads : ndarray, shape (m, d, d)

    Examples
    --------
    >>> f, g = population_risk_and_gradient(np.zeros((2, 1, 1)), np.array([[3.0]]), noise_variance=0.5)
    >>> f, g.ravel().tolist()  # (1 - 3)^2 + 0.5; 2 (1 - 3)
    (4.5, [-4.0, -4.0])
    """
    residuals = finite_array("residuals", residuals, ndim=3)
    A = square_matrix("A", A)
    d = A.shape[0]
    if residuals.shape[1:] != (d, d):
        raise ValueError(f"residuals must have shape (m, {d}, {d}) like A, got {residuals.shape}")
    noise_variance = finite_real("noise_variance", noise_variance)
    if noise_variance < 0:
        raise ValueError(f"noise_variance must be >= 0, got {noise_variance}")
    if covariance is None:
        root = np.eye(d)
    else:
        covariance = square_matrix("covariance", covariance)
        if covariance.shape != (d, d) or not np.allclose(covariance, covariance.T, rtol=0, atol=1e-12 * np.abs(covariance).max()):
            raise ValueError(f"covariance must be a symmetric {d} x {d} matrix")
        lam, V = np.linalg.eigh(0.5 * (covariance + covariance.T))
        if lam[0] < -1e-12 * max(1.0, lam[-1]):
            raise ValueError(f"covariance must be positive semidefinite, got eigenvalue {lam[0]:.3g}")
        root = (V * np.sqrt(np.clip(lam, 0.0, None))) @ V.T
    layers = np.concatenate([root[None], residuals + np.eye(d)])
    grads, half_excess = gradient(layers, A @ root)
    return 2.0 * half_excess + d * noise_variance, 2.0 * grads[1:]
