r"""A4. Balanced factorization [slide "Balanced factorization"; BHL18].

Statement of record (slide "Balanced factorization"): *We can write any matrix* :math:`A`, *with
singular values* :math:`\sigma_1, \dots, \sigma_d`, *as* :math:`A = A_L \cdots A_1`, *where the
singular values of each* :math:`A_i` *are* :math:`\sigma_1^{1/L}, \dots, \sigma_d^{1/L}`. Idea:
polar decomposition :math:`A = RP`, :math:`A_i = R^{1/L} P_i`,
:math:`P_i = R^{(i-1)/L} P^{1/L} R^{-(i-1)/L}`.

.. math::

   \forall A \in \mathbb{R}^{d\times d},\ L \ge 1:\ \exists A_1,\dots,A_L \in
   \mathbb{R}^{d\times d},\ A = A_L\cdots A_1,\ \sigma_j(A_i) = \sigma_j(A)^{1/L}

Checked normwise, to rounding, for every sign of :math:`\det A`, singular :math:`A` included.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def singular_value_residual(A: np.ndarray, factors: np.ndarray) -> float:
    r""":math:`\max_{i,j} |\sigma_j(A_i)^L - \sigma_j(A)| / \sigma_1(A)`.

    Equivalent to :math:`\sigma_j(A_i) = \sigma_j(A)^{1/L}` (singular values are
    non-negative) and well conditioned: an SVD fixes :math:`\sigma_j` only to
    :math:`\epsilon\sigma_1`, which :math:`x \mapsto x^{1/L}` would amplify to
    :math:`\epsilon^{1/L}` near 0; in the L-th power the error stays :math:`O(L\epsilon\sigma_1)`.
    """
    L = factors.shape[0]
    s = np.linalg.svd(A, compute_uv=False)
    return float(np.max(np.abs(np.linalg.svd(factors, compute_uv=False) ** L - s)) / max(s[0], 1e-300))


CLAIM = Claim(
    id="a4_balanced_factorization",
    title="Balanced factorization: A = A_L...A_1 with sigma(A_i) = sigma(A)^{1/L}",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("real_square", r"A \in \mathbb{R}^{d\times d}\ \text{finite}",
                   lambda inst: np.isrealobj(inst["A"]) and np.all(np.isfinite(inst["A"]))),
        Hypothesis("depth", r"L \in \mathbb{Z},\ L \ge 1", lambda inst: int(inst["L"]) >= 1),
    ),
    conclusion=r"\|A_L\cdots A_1 - A\|_F \le \tau_{prod}\|A\|_2,\ "
    r"\max_{i,j}|\sigma_j(A_i)^L - \sigma_j(A)| \le \tau_{\sigma}\,\sigma_1(A),\ A_i\ \text{real}",
    kind=Kind.EXISTENCE,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Balanced factorization"'),
        Reference("BHL18", "1802.06093", "balanced factorization (power projection)"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="The slide's construction needs det A > 0 for a real R^{1/L}; the statement says "
    "'any matrix', which the implementation meets for det A < 0 by a reflection folded into "
    "A_1 and for singular A by the freedom in the polar factor.",
)
