"""Measurement helpers shared by the convergence claims B2 and B6 (rates, iteration counts,
fitted exponents, a reference gradient-descent loop for planted bugs).

Everything here measures; the claims' bounds live in ``claims/b2_*.py`` and ``claims/b6_*.py``.
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Callable

import numpy as np

from tolerances import EPS

#: Window of loss values over which a linear rate is fitted: below the transient (the loss has
#: fallen 10 orders from a start of at most ~1) and above the rounding floor of the loss.
RATE_WINDOW = (1e-24, 1e-12)


def loss_floor(d: int, L: int, norm: float) -> float:
    """Rounding floor of the loss 1/2 ||Theta_{1:L} - Phi||_F^2 computed from a product.

    Each of the d^2 residual entries carries about L d eps ||Phi|| of rounding from L products
    of d x d matrices; the loss is half their sum of squares. 10 is headroom for the constant
    (the observed floors at d = 8, L = 32 are ~1e-30, this gives ~1e-26). The rate windows and
    every accuracy eps of the tests stay many orders above it.
    """
    return 0.5 * d * d * (10.0 * L * d * EPS * max(1.0, norm)) ** 2


def first_hits(losses: np.ndarray, eps) -> np.ndarray:
    """First iteration t with ``losses[t] <= eps``, or -1 where the loss never gets there.

    ``losses`` has shape (T + 1,) or (T + 1, B) (NaN/inf count as not reached); ``eps`` is a
    scalar or a 1-D array of thresholds. The result has shape ``eps.shape + losses.shape[1:]``.
    """
    losses = np.asarray(losses, dtype=float)
    eps = np.asarray(eps, dtype=float)
    with np.errstate(invalid="ignore"):
        below = losses[None, ...] <= eps.reshape(-1, *([1] * losses.ndim))  # (E, T+1, ...)
    out = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    return out.reshape(eps.shape + losses.shape[1:])


def fit_log_rate(losses: np.ndarray, window=RATE_WINDOW) -> float:
    """Fitted linear rate ``-d ln(loss)/dt`` over the iterations whose loss lies in ``window``
    (least squares on ln loss against t); NaN if fewer than 3 points fall inside."""
    losses = np.asarray(losses, dtype=float)
    t = np.arange(losses.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mask = np.isfinite(losses) & (losses >= window[0]) & (losses <= window[1])
    if mask.sum() < 3:
        return float("nan")
    return float(-np.polyfit(t[mask], np.log(losses[mask]), 1)[0])


def fit_exponent(x, y) -> float:
    """Slope of log y against log x (least squares): the fitted exponent of y ~ x^p."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def fit_slope(x, y) -> float:
    """Least-squares slope of y against x."""
    return float(np.polyfit(np.asarray(x, dtype=float), np.asarray(y, dtype=float), 1)[0])


def unit_directions(rng: np.random.Generator, count: int, d: int) -> np.ndarray:
    """``count`` Gaussian d x d directions normalized to unit Frobenius norm, shape (count, d, d)."""
    D = rng.standard_normal((count, d, d))
    return D / np.linalg.norm(D, axis=(1, 2), keepdims=True)


def singular_scale(D: np.ndarray) -> float:
    r"""The smallest s > 0 with :math:`\det(I + sD) = 0`: :math:`1/|\lambda|` for the most negative
    real eigenvalue :math:`\lambda` of D (inf if D has none). Along the ray :math:`I + sD` the
    target becomes singular there, and a product of near-identity layers (positive determinant)
    cannot reach it."""
    lam = np.linalg.eigvals(D)
    real_negative = lam[(np.abs(lam.imag) <= 1e-12 * max(1.0, np.abs(lam).max())) & (lam.real < 0)].real
    return float(1.0 / np.abs(real_negative).max()) if real_negative.size else math.inf


def product_error_operator(layers: np.ndarray) -> np.ndarray:
    r"""The linearization of the product's error under one GD step:
    :math:`E \mapsto \sum_i A_iA_i^\top E\,B_i^\top B_i` with :math:`A_i = \Theta_{i+1:L}`,
    :math:`B_i = \Theta_{1:i-1}`, as a symmetric PSD :math:`d^2 \times d^2` matrix (row-major vec).

    Near a minimizer :math:`E_{t+1} \approx (I - \eta\mathcal A)E_t`, so the asymptotic linear rate of
    the loss is :math:`-2\ln(1 - \eta\lambda_{\min}(\mathcal A))`.
    """
    L, d, _ = layers.shape
    prefix = [np.eye(d)]
    for i in range(L):
        prefix.append(layers[i] @ prefix[-1])
    out = np.zeros((d * d, d * d))
    suffix = np.eye(d)
    for i in range(L - 1, -1, -1):
        out += np.kron(suffix @ suffix.T, prefix[i].T @ prefix[i])
        suffix = suffix @ layers[i]
    return 0.5 * (out + out.T)


def linearized_rate(layers: np.ndarray, eta: float) -> float:
    """Asymptotic loss rate ``-2 ln(1 - eta lambda_min)`` of GD at (near) a minimizer ``layers``."""
    lam = float(np.linalg.eigvalsh(product_error_operator(layers))[0])
    return -2.0 * math.log1p(-eta * lam)


# --- a reference GD loop into which a gradient bug can be planted ----------------------------

def _suffix_products(layers: np.ndarray) -> list:
    """suffix[i] = Theta_{i+1:L} = Theta_L ... Theta_{i+1}."""
    L, d, _ = layers.shape
    out = [None] * L
    S = np.eye(d)
    for i in range(L - 1, -1, -1):
        out[i] = S
        S = S @ layers[i]
    return out


def true_gradient(layers, prefix, suffix, E):
    r""":math:`\Theta_{i+1:L}^\top E\,\Theta_{1:i-1}^\top` (slide "Gradient descent")."""
    return np.stack([suffix[i].T @ E @ prefix[i].T for i in range(len(layers))])


def reference_gradient_descent(target, depth, step, steps, *, tol=None,
                               gradient: Callable = true_gradient) -> SimpleNamespace:
    """Plain GD from the identity with a pluggable gradient (for planted bugs), mirroring the
    interface of ``impl.deep_linear.gradient_descent`` (``loss``, ``steps``, ``diverged``)."""
    target = np.asarray(target, dtype=float)
    d = target.shape[0]
    layers = np.broadcast_to(np.eye(d), (depth, d, d)).copy()
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            prefix = [np.eye(d)]
            for i in range(depth):
                prefix.append(layers[i] @ prefix[-1])
            E = prefix[-1] - target
            value = 0.5 * float(np.sum(E * E))
            if not np.isfinite(value):
                return SimpleNamespace(loss=np.asarray(losses), steps=t, diverged=True, layers=layers)
            losses.append(value)
            if (tol is not None and value <= tol) or t == steps:
                return SimpleNamespace(loss=np.asarray(losses), steps=t, diverged=False, layers=layers)
            layers = layers - step * gradient(layers, prefix, _suffix_products(layers), E)
    raise AssertionError("unreachable")


def log_ratio_max(losses: np.ndarray, log_bound: np.ndarray, start: int = 1) -> float:
    """max over t >= start of ln(loss(t)) - log_bound(t) (how far above its bound the curve gets)."""
    losses = np.asarray(losses, dtype=float)[start:]
    if losses.size == 0:
        return -math.inf
    with np.errstate(divide="ignore"):
        return float(np.max(np.log(losses) - np.asarray(log_bound)[start:start + losses.size]))
