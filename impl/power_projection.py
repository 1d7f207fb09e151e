r"""Power projection for a positive, not necessarily symmetric target ([BHL18]_ Sec. 6; slide
"Power projection algorithm idea").

Each iteration (the slide's three steps):

1. a gradient step :math:`\Theta_i \leftarrow \Theta_i - \eta\nabla_{\Theta_i}\ell` on every layer;
2. the product :math:`\Theta_{1:L}` is projected (Frobenius) onto the matrices with margin
   :math:`\gamma` (:func:`~resclaims.impl.margin_projection.project_to_margin`);
3. the layers are reset to the balanced factorization of the projected product
   (:func:`~resclaims.impl.balanced_factorization.balanced_factorization`), so that every layer
   has singular values :math:`\sigma_j^{1/L}` of the product.

Notes
-----
BHL18's exact algorithm (step-size schedule, constants) is not on the slide [unverified]; this
is the slide's version. A target with margin :math:`\gamma` lies in the (convex) margin set, so
step 2 never increases the distance to it, and step 3 leaves the product unchanged.

.. [BHL18] P. L. Bartlett, D. P. Helmbold, P. M. Long, arXiv:1802.06093.
"""
from __future__ import annotations

import numpy as np

from ._validation import positive_real
from .balanced_factorization import balanced_factorization
from .deep_linear import Trajectory, _descent_arguments, _Recorder, _Stepper, descend, product
from .margin_projection import project_to_margin


def power_projection(target, depth, step, margin, steps, *, tol=None,
                     record=("loss", "margin", "singular_values"), keep_iterates=False) -> Trajectory:
    r"""Run power projection from the balanced factorization of the projected identity.

    Parameters
    ----------
    target : array_like, shape (d, d)
        :math:`\Phi`, with margin :math:`\ge \gamma` for the convergence claim (not required
        to run).
    depth : int
        :math:`L \ge 1`.
    step : float
        :math:`\eta > 0`.
    margin : float
        :math:`\gamma > 0` of the projection.
    steps : int
        Maximum number of iterations (>= 0).
    tol : float, optional
        Stop when :math:`\ell \le` ``tol``.
    record : tuple of str
        Per-iterate quantities (see :data:`~resclaims.impl.deep_linear.RECORDABLE`); each
        iterate is the rebalanced one after step 3.
    keep_iterates : bool

    Returns
    -------
    Trajectory

    Examples
    --------
    >>> Phi = np.array([[1.0, 1.0], [-1.0, 0.5]])  # margin 0.5, not symmetric
    >>> run = power_projection(Phi, depth=4, step=0.05, margin=0.25, steps=2000, tol=1e-12)
    >>> run.converged, bool(run.margin.min() >= 0.25 - 1e-12)
    (True, True)
    """
    margin = positive_real("margin", margin)
    target, depth, step, steps, tol, _, _ = _descent_arguments(target, depth, step, steps, tol, 0.0, None)
    layers = balanced_factorization(project_to_margin(np.eye(target.shape[0]), margin), depth)
    def reset(stepped):  # steps 2 and 3
        P = product(stepped)
        if not np.isfinite(P).all():  # overflow: diverged, reported by the next evaluation
            return stepped
        return balanced_factorization(project_to_margin(P, margin), depth)

    return descend(_Stepper(layers, target, step, 0.0), _Recorder(record, keep_iterates), steps, tol, after_step=reset)
