r"""Near-identity factorization :math:`A = (I + A_m)\cdots(I + A_1)` with
:math:`\max_i\|A_i\| = O(1/m)` ([HM16]_ Thm 2.1; slide "Products of near-identity matrices").

.. [HM16] M. Hardt, T. Ma. Identity Matters in Deep Learning. ICLR 2017, arXiv:1611.04231.
"""
from __future__ import annotations

import numpy as np

from ._validation import positive_det_matrix, positive_int
from .balanced_factorization import balanced_factorization


def near_identity_factorization(A, m) -> np.ndarray:
    r"""Residual parts :math:`A_1, \dots, A_m` with :math:`A = (I + A_m)\cdots(I + A_1)`.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Real, finite, with :math:`\det A > 0` (necessary: each :math:`I + A_i` with
        :math:`\|A_i\| < 1` has positive determinant). Negative eigenvalues are allowed
        (no real logarithm is needed).
    m : int
        Number of layers, :math:`m \ge 1`.

    Returns
    -------
    ndarray, shape (m, d, d)
        ``residuals[i - 1]`` is :math:`A_i`.

    Raises
    ------
    ValueError, TypeError
        If ``A`` is not a finite real square matrix with positive determinant, or ``m`` is
        not an integer >= 1.

    Notes
    -----
    HM16 prove Thm 2.1 with their own construction. This one is the balanced factorization
    (:func:`~resclaims.impl.balanced_factorization.balanced_factorization` with ``L = m``):
    :math:`I + A_i = R^{1/m} P_i` with :math:`A = RP`, :math:`P_i` orthogonally similar to
    :math:`P^{1/m}`. Hence, with :math:`\gamma = \max(|\log\sigma_{\max}|, |\log\sigma_{\min}|)`
    and rotation angles at most :math:`\pi`,
    :math:`\|A_i\| \le \|R^{1/m} - I\|\,\|P^{1/m}\| + \|P^{1/m} - I\|
    \le 2\sin(\pi/2m)\,e^{\gamma/m} + e^{\gamma/m} - 1`, which is below HM16's explicit
    :math:`2(\sqrt\pi + \sqrt{3\gamma})^2/m` whenever :math:`m \ge 3\gamma`.

    Examples
    --------
    >>> import numpy as np
    >>> A = -np.eye(2)                      # det > 0, no real logarithm
    >>> res = near_identity_factorization(A, 8)
    >>> prod = np.eye(2)
    >>> for Ai in res:
    ...     prod = (np.eye(2) + Ai) @ prod
    >>> np.allclose(prod, A), bool(np.linalg.norm(res, 2, axis=(1, 2)).max() < np.pi / 8)
    (True, True)
    """
    A = positive_det_matrix("A", A)
    m = positive_int("m", m)
    residuals = balanced_factorization(A, m)
    residuals -= np.eye(A.shape[0])
    return residuals
