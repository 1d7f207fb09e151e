"""Measurement helpers shared by the convergence claims B2 and B6 (rates, iteration counts,
fitted exponents, and the preconditions under which each of them is measurable).

Everything here measures; the claims' bounds live in ``claims/b2_*.py`` and ``claims/b6_*.py``,
the tolerances and thresholds in ``tests/tolerances.py``, and the reference gradient descent
(into which the tests plant gradient bugs) in ``tests/oracles.py``.
"""
from __future__ import annotations

import math

import numpy as np

from tolerances import (
    COUNT_FIT_MIN, EXPONENT_QUANTIZATION_SHARE, FIT_MIN_POINTS, RATE_FIT_FLOOR_SLACK, RATE_WINDOW,
    REAL_EIGENVALUE_RTOL)


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


def _window_mask(losses: np.ndarray, window) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(losses) & (losses >= window[0]) & (losses <= window[1])


def fit_log_rate(losses: np.ndarray, window=RATE_WINDOW) -> float:
    """Fitted linear rate ``-d ln(loss)/dt`` over the iterations whose loss lies in ``window``
    (least squares on ln loss against t); NaN if fewer than FIT_MIN_POINTS points fall inside.
    Call :func:`rate_unmeasurable` first: it says whether the fit measures a rate at all."""
    losses = np.asarray(losses, dtype=float)
    t = np.arange(losses.size)
    mask = _window_mask(losses, window)
    if mask.sum() < FIT_MIN_POINTS:
        return float("nan")
    return float(-np.polyfit(t[mask], np.log(losses[mask]), 1)[0])


def rate_unmeasurable(losses: np.ndarray, *, floor: float, window=RATE_WINDOW) -> str | None:
    """Why a linear rate cannot be fitted to ``losses`` over ``window`` (``None`` if it can).

    Preconditions, all computed from the data: the loss's rounding floor ``floor`` (from the
    sizes and eps, e.g. :func:`tolerances.gd_loss_floor`, a pessimistic estimate) lies below
    RATE_FIT_FLOOR_SLACK * window[0], so that the losses inside the window are not rounding;
    the trajectory went down to that depth too (the fit is not only the transient above it);
    and at least FIT_MIN_POINTS finite losses lie inside the window. The reasons are fixed strings
    (they name a metric of the report).
    """
    losses = np.asarray(losses, dtype=float)
    depth = window[0] * RATE_FIT_FLOOR_SLACK
    if not floor < depth:
        return "rounding floor of the loss not below the rate window"
    finite = losses[np.isfinite(losses)]
    if finite.size == 0 or not finite.min() < depth:
        return "loss did not reach the lower end of the rate window"
    if _window_mask(losses, window).sum() < FIT_MIN_POINTS:
        return "too few losses inside the rate window"
    return None


def counts_unmeasurable(counts) -> str | None:
    """Why iteration counts cannot be fitted by a slope of T against ln(1/eps) (``None`` if they
    can): every count was reached (>= 0, not the -1 of :func:`first_hits`), there are
    FIT_MIN_POINTS of them, and their range max - min is at least COUNT_FIT_MIN, so that the
    integer quantization of a count (one step) is a small fraction of what the slope reads."""
    counts = np.asarray(counts)
    if counts.size < FIT_MIN_POINTS:
        return "too few iteration counts for a fit"
    if np.any(counts < 0):
        return "an accuracy was not reached: iteration count missing"
    if counts.max() - counts.min() < COUNT_FIT_MIN:
        return "iteration counts too small for a fit (integer quantization)"
    return None


def exponent_quantization(x, counts) -> float:
    """How far the fitted exponent of iteration counts against x can move when every count is off
    by one step: (1/T_min) sum|u_i - mean u| / sum (u_i - mean u)^2, u = ln x (least squares)."""
    u = np.log(np.asarray(x, dtype=float))
    du = u - u.mean()
    return float(np.sum(np.abs(du)) / np.sum(du * du) / np.min(counts))


def exponent_unmeasurable(x, y, *, counts=None, atol: float | None = None) -> str | None:
    """Why a log-log slope of ``y`` against ``x`` is not measurable (``None`` if it is): at least
    FIT_MIN_POINTS points, all positive and finite, with at least two distinct x; and if ``y`` is
    made of iteration ``counts`` (T, or T divided by an exact number), their quantization moves the
    exponent by at most EXPONENT_QUANTIZATION_SHARE of ``atol``, the tolerance the exponent is
    compared with (:func:`exponent_quantization`)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < FIT_MIN_POINTS or x.size != y.size:
        return "too few points for a fitted exponent"
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0) and np.all(y > 0)):
        return "non-positive or non-finite value in a fitted exponent"
    if np.unique(x).size < 2:
        return "a single abscissa: no fitted exponent"
    if counts is not None and not exponent_quantization(x, counts) <= EXPONENT_QUANTIZATION_SHARE * atol:
        return "iteration counts too small for the exponent's tolerance (integer quantization)"
    return None


def fit_exponent(x, y) -> float:
    """Slope of log y against log x (least squares): the fitted exponent of y ~ x^p.
    Call :func:`exponent_unmeasurable` first."""
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
    real = np.abs(lam.imag) <= REAL_EIGENVALUE_RTOL * max(1.0, np.abs(lam).max())
    real_negative = lam[real & (lam.real < 0)].real
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


def log_ratio_max(losses: np.ndarray, log_bound: np.ndarray, start: int = 1) -> float:
    """max over t >= start of ln(loss(t)) - log_bound(t) (how far above its bound the curve gets)."""
    losses = np.asarray(losses, dtype=float)[start:]
    if losses.size == 0:
        return -math.inf
    with np.errstate(divide="ignore"):
        return float(np.max(np.log(losses) - np.asarray(log_bound)[start:start + losses.size]))
