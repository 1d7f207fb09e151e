r"""The differential oracle of the deep linear engine: the slide's formulas, written plainly.

``impl/deep_linear.py`` is the system under test (fused BLAS calls, batched stacks); this module
is the one independent reference the tests compare it with, and there is no third copy. It is
generic in the number type: the same code runs on float arrays, on numpy object arrays of
``mpmath.mpf`` (the 50-digit re-checks) and on SymPy matrices (exact rational runs), because it
only uses ``@``, ``.T``, ``+``, ``-`` and scalar products.

Notation of the slide "Gradient descent": :math:`\Theta_{i:j} = \Theta_j\cdots\Theta_i`,
:math:`\ell(\Theta) = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2`,
:math:`\nabla_{\Theta_i}\ell = \Theta_{i+1:L}^\top(\Theta_{1:L} - \Phi)\Theta_{1:i-1}^\top`, and the
penalized loss adds :math:`\tfrac{\kappa}{2}\sum_i\|\Theta_i - I\|_F^2`.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Callable, Sequence

import numpy as np


def mp_array(a) -> np.ndarray:
    """A float array as a numpy object array of ``mpmath.mpf`` (each float converted exactly), the
    input of the oracle's high-precision runs (inside ``mpmath.workdps``)."""
    import mpmath

    return np.vectorize(mpmath.mpf, otypes=[object])(np.asarray(a, dtype=float))


def start_radius(start) -> float:
    """:math:`\\max_i \\|\\Theta_i^{(0)} - I\\|_2` of the start layers actually used (float arrays or a
    list of SymPy matrices): the datum the hypothesis "identity start" is computed from."""
    start = np.array([np.array(th.tolist() if hasattr(th, "tolist") else th, dtype=float) for th in start])
    return float(np.max(np.linalg.norm(start - np.eye(start.shape[-1]), 2, axis=(1, 2))))


def identity_like(target):
    """The identity of the number type of ``target`` (SymPy matrix or numpy array)."""
    if hasattr(target, "is_Matrix"):
        import sympy

        return sympy.eye(target.shape[0])
    target = np.asarray(target)
    return np.eye(target.shape[0], dtype=target.dtype)


def partial_products(layers: Sequence, identity) -> tuple[list, list]:
    r"""``prefix[i]`` :math:`= \Theta_{1:i-1}` and ``suffix[i]`` :math:`= \Theta_{i+1:L}` (0-based:
    the layers before and after ``layers[i]``), and the full product is ``suffix[0] @ layers[0]``."""
    L = len(layers)
    prefix, suffix = [identity] * L, [identity] * L
    for i in range(1, L):
        prefix[i] = layers[i - 1] @ prefix[i - 1]
    for i in range(L - 2, -1, -1):
        suffix[i] = suffix[i + 1] @ layers[i + 1]
    return prefix, suffix


def slide_gradient(layers: Sequence, prefix: list, suffix: list, residual) -> list:
    r""":math:`\Theta_{i+1:L}^\top\,E\,\Theta_{1:i-1}^\top` for every layer, :math:`E = \Theta_{1:L} - \Phi`."""
    return [suffix[i].T @ residual @ prefix[i].T for i in range(len(layers))]


def reference_loss(layers: Sequence, target):
    """:math:`\\tfrac12\\|\\Theta_{1:L} - \\Phi\\|_F^2` in the number type of the inputs."""
    identity = identity_like(target)
    prefix, suffix = partial_products(layers, identity)
    E = suffix[0] @ layers[0] - target
    return sum(e * e for e in np.asarray(E).ravel()) / 2


def reference_gradient(layers: Sequence, target, *, penalty=0) -> list:
    r"""The slide's gradient of :math:`\ell` (+ :math:`\kappa(\Theta_i - I)`), a list of matrices."""
    identity = identity_like(target)
    prefix, suffix = partial_products(layers, identity)
    grads = slide_gradient(layers, prefix, suffix, suffix[0] @ layers[0] - target)
    return [g + penalty * (theta - identity) for g, theta in zip(grads, layers)] if penalty else grads


def reference_gradient_descent(target, depth: int, step, steps: int, *, penalty=0, start=None, tol=None,
                               keep_iterates: bool = False, gradient: Callable = slide_gradient) -> SimpleNamespace:
    r"""Gradient descent from the identity (or ``start``), every layer updated from the same iterate:
    :math:`\Theta_i \leftarrow \Theta_i - \eta(\nabla_{\Theta_i}\ell + \kappa(\Theta_i - I))`.

    ``gradient(layers, prefix, suffix, E)`` can be replaced to plant a bug. Returns ``loss`` (the
    losses at t = 0..steps, as floats where the type allows), ``steps`` (iterations done),
    ``diverged`` (a float loss became non-finite), ``layers`` and, with ``keep_iterates``,
    ``iterates`` (every iterate, a list of lists of matrices). Stops at ``loss <= tol``.
    """
    identity = identity_like(target)
    layers = [identity] * depth if start is None else list(start)
    losses, iterates = [], [list(layers)]
    for t in range(steps + 1):
        prefix, suffix = partial_products(layers, identity)
        E = suffix[0] @ layers[0] - target
        value = sum(e * e for e in np.asarray(E).ravel()) / 2
        if isinstance(value, float) and not np.isfinite(value):
            return SimpleNamespace(loss=np.asarray(losses), steps=t, diverged=True, layers=layers,
                                   iterates=iterates if keep_iterates else None)
        losses.append(value)
        if (tol is not None and value <= tol) or t == steps:
            break
        grads = gradient(layers, prefix, suffix, E)
        layers = [theta - step * (g + penalty * (theta - identity)) if penalty else theta - step * g
                  for theta, g in zip(layers, grads)]
        if keep_iterates:
            iterates.append(list(layers))
    loss = np.asarray(losses, dtype=float) if all(isinstance(v, float) for v in losses) else losses
    return SimpleNamespace(loss=loss, steps=t, diverged=False, layers=layers,
                           iterates=iterates if keep_iterates else None)
