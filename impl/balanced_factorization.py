r"""Balanced factorization :math:`A = A_L \cdots A_1` with every :math:`A_i` having the singular
values :math:`\sigma_1(A)^{1/L}, \dots, \sigma_d(A)^{1/L}` ([BHL18]_, slide "Balanced
factorization").

Construction of the slide: polar decomposition :math:`A = RP` (:math:`R` orthogonal,
:math:`P \succeq 0`), then

.. math:: A_i = R^{1/L} P_i, \qquad P_i = R^{(i-1)/L} P^{1/L} R^{-(i-1)/L},

so that :math:`A_i = R^{i/L} P^{1/L} R^{-(i-1)/L}` and the product telescopes to :math:`RP`.
All powers of :math:`R` come from **one** real Schur decomposition (``RotationSchur``) and
:math:`P^{1/L}` from the SVD that gives the polar decomposition; each factor then costs two
d x d matrix products, :math:`A_i = W_i G W_{i-1}^\top` with :math:`W_k = Q\,T(k\theta/L)`
(plane rotations of the Schur basis, O(d^2) each) and :math:`G = Q^\top P^{1/L} Q`.

.. [BHL18] P. L. Bartlett, D. P. Helmbold, P. M. Long. Gradient descent with identity
   initialization efficiently learns positive definite linear transformations by deep
   residual networks. ICML 2018, arXiv:1802.06093.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import positive_int, square_matrix
from .rotation_power import RotationSchur


@dataclass(frozen=True)
class PolarSO:
    r"""Polar decomposition :math:`A = R\,P\,J` with :math:`R \in SO(d)`, :math:`P \succeq 0`.

    ``J`` is ``None`` (identity) when :math:`\det A \ge 0`; when :math:`\det A < 0` it is
    the reflection :math:`I - 2 v v^\top` along the right singular vector of the smallest
    singular value, which makes :math:`A J` have a rotation as polar factor.

    Attributes
    ----------
    R : ndarray, shape (d, d)
    V : ndarray, shape (d, d)
        Right singular vectors (columns), so that :math:`P = V \operatorname{diag}(s) V^\top`.
    s : ndarray, shape (d,)
        Singular values of ``A``, descending.
    reflection : ndarray, shape (d, d) or None
    """

    R: np.ndarray
    V: np.ndarray
    s: np.ndarray
    reflection: np.ndarray | None

    @property
    def P(self) -> np.ndarray:
        return (self.V * self.s) @ self.V.T

    def P_power(self, t: float) -> np.ndarray:
        r""":math:`P^t` from the singular values (no further decomposition)."""
        return (self.V * self.s**t) @ self.V.T


def polar_so(A) -> PolarSO:
    r"""Polar decomposition with a rotation as orthogonal factor, through one SVD.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Any finite real square matrix (singular and :math:`\det A < 0` included).

    Returns
    -------
    PolarSO
        With :math:`A = R P J` (``J`` = ``reflection`` or identity) to rounding.

    Notes
    -----
    For a singular ``A`` with :math:`\det(U V^\top) = -1`, flipping the left singular vector of
    a zero singular value changes nothing in ``A`` and puts ``R`` in :math:`SO(d)`.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0.0, -2.0], [1.0, 0.0]])
    >>> pol = polar_so(A)
    >>> np.allclose(pol.R @ pol.P, A), round(float(np.linalg.det(pol.R)), 12)
    (True, 1.0)
    """
    A = square_matrix("A", A)
    U, s, Vt = np.linalg.svd(A)
    V = Vt.T
    reflection = None
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        if s[-1] == 0.0:  # singular: u_d is free
            U = U.copy()
            U[:, -1] *= -1
        else:  # det A < 0: A J = U S (V J)^T with v_d flipped; P is unchanged
            v = V[:, -1:]
            reflection = np.eye(A.shape[0]) - 2.0 * (v @ v.T)
            V = V.copy()
            V[:, -1] *= -1
    return PolarSO(R=U @ V.T, V=V, s=s, reflection=reflection)


def balanced_factorization(A, L) -> np.ndarray:
    r"""Factors :math:`A_1, \dots, A_L` of the balanced factorization of ``A``.

    Parameters
    ----------
    A : array_like, shape (d, d)
        Any finite real square matrix.
    L : int
        Number of factors, :math:`L \ge 1`.

    Returns
    -------
    ndarray, shape (L, d, d)
        ``factors[i - 1]`` is :math:`A_i`, so ``A == factors[L-1] @ ... @ factors[0]``;
        every factor is real with singular values :math:`\sigma_j(A)^{1/L}`.

    Raises
    ------
    ValueError, TypeError
        If ``A`` is not a finite real square matrix or ``L`` is not an integer >= 1.

    Notes
    -----
    The slide's construction needs :math:`R \in SO(d)` for a real :math:`R^{1/L}`. For
    :math:`\det A < 0` (outside the slide's construction, inside its statement "any matrix")
    the factorization of :math:`A J` is computed and :math:`A_1` is replaced by :math:`A_1 J`,
    with :math:`J` the reflection of :func:`polar_so`; singular values are unchanged. The
    factors then satisfy the balance condition :math:`A_{i+1}^\top A_{i+1} = A_i A_i^\top` for
    :math:`i \ge 2` only.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[-1.0, 0.5], [0.0, -3.0]])      # negative eigenvalues, det > 0
    >>> F = balanced_factorization(A, 4)
    >>> np.allclose(F[3] @ F[2] @ F[1] @ F[0], A)
    True
    >>> np.allclose(np.linalg.svd(F[2], compute_uv=False), np.linalg.svd(A, compute_uv=False) ** 0.25)
    True
    """
    L = positive_int("L", L)
    polar = polar_so(A)
    schur = RotationSchur.of(polar.R)  # the only Schur decomposition
    d = schur.d
    G = schur.Q.T @ polar.P_power(1.0 / L) @ schur.Q  # P^{1/L} in Schur coordinates
    W = schur.rotated_bases(np.arange(L + 1) / L)  # W_k = Q T(k/L), R^{k/L} = W_k Q^T
    # A_i = R^{i/L} P^{1/L} R^{-(i-1)/L} = W_i G W_{i-1}^T: one large product, then L batched ones.
    WG = (W[1:].reshape(L * d, d) @ G).reshape(L, d, d)
    factors = WG @ np.swapaxes(W[:-1], -1, -2)
    if polar.reflection is not None:
        factors[0] = factors[0] @ polar.reflection
    return factors
