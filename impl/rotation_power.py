r"""Real powers :math:`R^t` of rotations :math:`R \in SO(d)` through the real Schur form.

A rotation is normal, so its real Schur form is block diagonal: :math:`R = Q\,T\,Q^\top` with
2 x 2 rotation blocks (angles :math:`\theta_j \in (-\pi, \pi)`), +1 and -1 on the diagonal.
-1 eigenvalues of :math:`R \in SO(d)` come in an even number; each pair spans a plane on which
:math:`R` is the rotation by :math:`\pi`. Then :math:`R^t = Q\,T(t\theta)\,Q^\top` is real, is a
rotation, and satisfies :math:`R^s R^t = R^{s+t}` and :math:`R^1 = R`.

This is the matrix power the balanced factorization needs ([BHL18]_, slide "Balanced
factorization"): ``scipy.linalg.fractional_matrix_power`` returns complex arrays for
rotations and ``logm`` is unreliable near angle :math:`\pi`, so neither is used.

.. [BHL18] P. L. Bartlett, D. P. Helmbold, P. M. Long, arXiv:1802.06093.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ._validation import finite_real, square_matrix

#: Rotations are accepted if ``||R^T R - I||_F <= ORTHOGONALITY_TOL * d``.
ORTHOGONALITY_TOL = 1e-8


@dataclass(frozen=True)
class RotationSchur:
    r"""One real Schur decomposition of a rotation, from which every power is formed.

    Attributes
    ----------
    Q : ndarray, shape (d, d)
        Orthogonal; columns ``2j, 2j+1`` (``j < len(angles)``) span the j-th rotation
        plane, the remaining columns the fixed space (eigenvalue +1).
    angles : ndarray, shape (p,)
        Rotation angles in :math:`(-\pi, \pi]`; a pair of -1 eigenvalues gives :math:`\pi`.
    """

    Q: np.ndarray
    angles: np.ndarray

    @classmethod
    def of(cls, R) -> "RotationSchur":
        """Decompose ``R`` (``R^T R = I``, ``det R = +1``); raise ``ValueError`` otherwise."""
        R = square_matrix("R", R)
        d = R.shape[0]
        if np.linalg.norm(R.T @ R - np.eye(d)) > ORTHOGONALITY_TOL * d:
            raise ValueError("R must be orthogonal (R^T R = I)")
        T, Z = scipy.linalg.schur(R, output="real")
        planes, angles, minus_ones, fixed = [], [], [], []
        i = 0
        while i < d:
            if i + 1 < d and T[i + 1, i] != 0.0:  # standardized 2x2 block: complex pair
                planes.append((i, i + 1))
                angles.append(np.arctan2(T[i + 1, i] - T[i, i + 1], T[i, i] + T[i + 1, i + 1]))
                i += 2
            else:
                (minus_ones if T[i, i] < 0 else fixed).append(i)
                i += 1
        if len(minus_ones) % 2:
            raise ValueError("R must have det +1 (it has an odd number of eigenvalues -1)")
        for a, b in zip(minus_ones[::2], minus_ones[1::2]):  # -I on a plane = rotation by pi
            planes.append((a, b))
            angles.append(np.pi)
        order = [k for plane in planes for k in plane] + fixed
        return cls(Q=Z[:, order], angles=np.asarray(angles, dtype=float))

    @property
    def d(self) -> int:
        return self.Q.shape[0]

    def rotated_bases(self, t) -> np.ndarray:
        r"""The bases :math:`Q\,T(t_k\theta)` for each exponent ``t_k``, shape (n, d, d).

        :math:`T(\phi)` is the block-diagonal rotation in Schur coordinates, so that
        :math:`R^{t} = Q\,T(t\theta)\,Q^\top`. Each basis costs O(d^2) (plane rotations of
        column pairs of ``Q``, no matrix product).
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))[:, None]
        p = self.angles.size
        c, s = np.cos(t * self.angles)[:, None, :], np.sin(t * self.angles)[:, None, :]  # (n, 1, p)
        x, y = self.Q[:, 0 : 2 * p : 2], self.Q[:, 1 : 2 * p : 2]  # (d, p)
        out = np.empty((t.shape[0], self.d, self.d))
        out[:, :, 0 : 2 * p : 2] = c * x + s * y
        out[:, :, 1 : 2 * p : 2] = c * y - s * x
        out[:, :, 2 * p :] = self.Q[:, 2 * p :]
        return out

    def power(self, t) -> np.ndarray:
        r"""The real matrix power :math:`R^t` (a rotation), shape (d, d)."""
        t = finite_real("t", t)
        return self.rotated_bases(t)[0] @ self.Q.T


def rotation_power(R, t) -> np.ndarray:
    r"""Real power :math:`R^t` of a rotation through its real Schur form.

    Parameters
    ----------
    R : array_like, shape (d, d)
        A rotation: orthogonal with determinant +1 (angle :math:`\pi` and :math:`-I` in even
        dimension are accepted).
    t : float
        The exponent; each rotation angle :math:`\theta` becomes :math:`t\theta`.

    Returns
    -------
    ndarray, shape (d, d)
        A real rotation with ``rotation_power(R, 1) == R`` up to rounding.

    Raises
    ------
    ValueError
        If ``R`` is not square, not finite, not orthogonal, or has determinant -1.

    Examples
    --------
    >>> import numpy as np
    >>> half = rotation_power(-np.eye(2), 0.5)   # rotation by pi/2
    >>> np.allclose(half @ half, -np.eye(2)), np.allclose(half.T @ half, np.eye(2))
    (True, True)
    """
    return RotationSchur.of(R).power(t)
