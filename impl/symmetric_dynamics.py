r"""Gradient descent for a symmetric target, as one scalar recurrence per eigenvalue.

For symmetric :math:`\Phi = U\,\mathrm{diag}(\mu)\,U^\top` and the identity start, every iterate of
gradient descent on :math:`\ell(\Theta) = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2` has all layers equal
to :math:`U\,\mathrm{diag}(x^{(t)})\,U^\top` ([BHL18]_ Lemma 6, as restated in [ACGH19]_; slide
"Symmetric maps and positivity"), and the eigenvalue coordinates follow

.. math::  x_j \leftarrow x_j + \eta\, x_j^{L-1} (\mu_j - x_j^L) - \eta\kappa (x_j - 1),

the slide's recurrence :math:`\hat\lambda \leftarrow \hat\lambda + \eta\hat\lambda^{L-1}(\lambda^L - \hat\lambda^L)`
with :math:`\mu = \lambda^L`, plus the penalty :math:`\tfrac\kappa2\sum_i\|\Theta_i - I\|_F^2` of
regularized gradient descent. Claim ``b8_commuting_normal_invariance`` checks that this equals
full gradient descent; the recurrence costs O(d) per step instead of 3L products of d x d
matrices.

.. [BHL18] P. L. Bartlett, D. P. Helmbold, P. M. Long, arXiv:1802.06093.
.. [ACGH19] S. Arora, N. Cohen, N. Golowich, W. Hu, arXiv:1810.02281.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import finite_array, nonnegative_int, positive_int, positive_real, square_matrix
from .deep_linear import _penalty


@dataclass
class ScalarTrajectory:
    """Result of :func:`scalar_recurrence`.

    Attributes
    ----------
    x : ndarray, shape (..., d)
        Final eigenvalue coordinates of each layer.
    loss : ndarray, shape (steps + 1, ...)
        :math:`\\tfrac12\\sum_j (x_j^L - \\mu_j)^2` (+ penalty) at every iterate.
    history : ndarray or None, shape (steps + 1, ..., d)
        Every iterate of ``x``, if asked for.
    steps : int
    converged, diverged : bool
        Every problem reached ``loss <= tol``; some coordinate stopped being finite.
    """

    x: np.ndarray
    loss: np.ndarray
    history: np.ndarray | None
    steps: int
    converged: bool
    diverged: bool


def scalar_recurrence(eigenvalues, depth, step, steps, *, penalty=0.0, tol=None, start=1.0,
                      keep_history=False) -> ScalarTrajectory:
    r"""Run the per-eigenvalue recurrence for a batch of spectra.

    Parameters
    ----------
    eigenvalues : array_like, shape (..., d)
        :math:`\mu_j`, the eigenvalues of :math:`\Phi` (any sign); leading axes are a batch.
    depth : int
        :math:`L \ge 1`.
    step : float
        :math:`\eta > 0`.
    steps : int
        Maximum number of steps (>= 0).
    penalty : float, optional
        :math:`\kappa \ge 0`.
    tol : float, optional
        Stop when every problem of the batch has loss <= ``tol``.
    start : float or array_like
        Initial coordinates (1 = the identity start).
    keep_history : bool
        Keep every iterate.

    Examples
    --------
    >>> run = scalar_recurrence([4.0, 0.25], depth=2, step=0.1, steps=1000)
    >>> run.x.round(12).tolist()  # mu^{1/L}
    [2.0, 0.5]
    >>> scalar_recurrence([-1.0], depth=2, step=1.0, steps=1, keep_history=True).history.ravel().tolist()
    [1.0, -1.0]
    """
    mu = finite_array("eigenvalues", eigenvalues)
    if mu.ndim == 0:
        raise ValueError("eigenvalues must have at least one dimension (..., d)")
    depth = positive_int("depth", depth)
    step = positive_real("step", step)
    steps = nonnegative_int("steps", steps)
    penalty = _penalty(penalty)
    if tol is not None:
        tol = positive_real("tol", tol)
    x = np.broadcast_to(finite_array("start", start), mu.shape).copy()
    losses, history = [], [] if keep_history else None
    diverged = converged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            power = x ** (depth - 1)  # x^{L-1}
            gap = mu - power * x  # mu - x^L
            value = 0.5 * (gap * gap).sum(axis=-1)
            if penalty:
                value = value + 0.5 * penalty * depth * ((x - 1.0) ** 2).sum(axis=-1)
            if not np.all(np.isfinite(value)):
                diverged = True
                break
            losses.append(value)
            if keep_history:
                history.append(x.copy())
            converged = tol is not None and bool(np.all(value <= tol))
            if converged or t == steps:
                break
            delta = step * power * gap
            if penalty:
                delta -= (step * penalty) * (x - 1.0)
            x += delta
    return ScalarTrajectory(x=x, loss=np.asarray(losses), history=None if history is None else np.asarray(history),
                            steps=len(losses) - 1, converged=converged, diverged=diverged)


def symmetric_gradient_descent(target, depth, step, steps, *, penalty=0.0, tol=None) -> tuple[np.ndarray, ScalarTrajectory]:
    r"""Gradient descent from the identity for a symmetric target, through :func:`scalar_recurrence`.

    Returns
    -------
    layers : ndarray, shape (depth, d, d)
        Every layer equals :math:`U\,\mathrm{diag}(x)\,U^\top` (one ``eigh`` of the target).
    run : ScalarTrajectory

    Examples
    --------
    >>> from resclaims.impl.deep_linear import gradient_descent
    >>> Phi = np.array([[1.5, 0.3], [0.3, 0.9]])
    >>> layers, _ = symmetric_gradient_descent(Phi, depth=3, step=0.1, steps=50)
    >>> bool(np.allclose(layers, gradient_descent(Phi, 3, 0.1, 50).layers, atol=1e-13))
    True
    """
    target = square_matrix("target", target)
    if not np.array_equal(target, target.T):
        raise ValueError("target must be symmetric (target == target.T exactly)")
    mu, U = np.linalg.eigh(target)
    run = scalar_recurrence(mu, depth, step, steps, penalty=penalty, tol=tol)
    layer = (U * run.x) @ U.T
    return np.broadcast_to(layer, (positive_int("depth", depth), *layer.shape)).copy(), run
