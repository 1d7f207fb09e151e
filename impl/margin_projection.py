r"""Frobenius projection onto the matrices with margin :math:`\gamma` ([BHL18]_, power
projection step 2; slide "Positive (not necessarily symmetric) linear functions").

A matrix :math:`A` has margin :math:`\gamma` when :math:`u^\top A u \ge \gamma` for all unit
:math:`u`, i.e. :math:`\lambda_{\min}(\tfrac12(A + A^\top)) \ge \gamma` (closed set, so that the
projection exists). The set constrains only the symmetric part and the Frobenius norm splits
orthogonally into symmetric and skew parts, so the projection clips the eigenvalues of the
symmetric part at :math:`\gamma` and keeps the skew part [derived].

.. [BHL18] P. L. Bartlett, D. P. Helmbold, P. M. Long, arXiv:1802.06093.
"""
from __future__ import annotations

import numpy as np

from ._validation import positive_real, square_matrix


def margin(A) -> float:
    r"""The margin :math:`\lambda_{\min}(\tfrac12(A + A^\top))` of a square matrix."""
    A = square_matrix("A", A)
    return float(np.linalg.eigvalsh(0.5 * (A + A.T))[0])


def project_to_margin(A, gamma) -> np.ndarray:
    r"""Nearest matrix (Frobenius norm) to ``A`` with margin at least ``gamma``.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Finite real square matrix.
    gamma : float
        The margin, :math:`\gamma > 0`.

    Returns
    -------
    ndarray, shape (d, d)
        :math:`V \max(\Lambda, \gamma) V^\top + \tfrac12(A - A^\top)` where
        :math:`\tfrac12(A + A^\top) = V\Lambda V^\top` (``eigh``).

    Examples
    --------
    >>> import numpy as np
    >>> P = project_to_margin(np.array([[0.0, 1.0], [-1.0, -2.0]]), 0.5)
    >>> P.tolist(), round(margin(P), 12)
    ([[0.5, 1.0], [-1.0, 0.5]], 0.5)
    """
    A = square_matrix("A", A)
    gamma = positive_real("gamma", gamma)
    sym, skew = 0.5 * (A + A.T), 0.5 * (A - A.T)
    lam, V = np.linalg.eigh(sym)
    return (V * np.maximum(lam, gamma)) @ V.T + skew
