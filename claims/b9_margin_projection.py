r"""B9 (step 2). Frobenius projection onto the matrices with margin :math:`\gamma` [derived;
used by power projection, slide "Positive (not necessarily symmetric) linear functions"].

Statement of record (derived; slide "Power projection algorithm idea", step 2: "project onto the
set of linear maps with margin :math:`\gamma`"): the map :math:`\Pi_\gamma` below is that
projection, onto the closed set :math:`\mathcal{M}_\gamma` (so that a nearest point exists).

.. math::

   \Pi_\gamma(A) \in \mathcal{M}_\gamma \ \wedge\ \forall B \in \mathcal{M}_\gamma:\
   \|A - \Pi_\gamma(A)\|_F \le \|A - B\|_F,\quad \mathcal{M}_\gamma =
   \{B : \lambda_{\min}(\tfrac12(B + B^\top)) \ge \gamma\}

with :math:`\Pi_\gamma(A) = V\max(\Lambda, \gamma)V^\top + \tfrac12(A - A^\top)` where
:math:`\tfrac12(A + A^\top) = V\Lambda V^\top`.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def sym_margin(B: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(0.5 * (B + B.T))[0])


CLAIM = Claim(
    id="b9_margin_projection",
    title="Margin projection: clipping the symmetric part's eigenvalues at gamma is the Frobenius projection",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("gamma_positive", r"\gamma > 0", lambda inst: inst["gamma"] > 0, edge=lambda inst: inst["gamma"]),
        Hypothesis("competitor_in_set", r"B \in \mathcal{M}_\gamma",
                   lambda inst: sym_margin(np.asarray(inst["B"])) >= inst["gamma"] * (1 - 1e-12),
                   edge=lambda inst: sym_margin(np.asarray(inst["B"])) - inst["gamma"]),
    ),
    conclusion=r"\lambda_{\min}(\tfrac12(\Pi + \Pi^\top)) \ge \gamma(1 - \tau)\ \text{and}\ "
    r"\|A - \Pi_\gamma(A)\|_F \le \|A - B\|_F",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("BHL18", "1802.06093", "power projection, projection step"),
        Reference("Bartlett 2018 slides", None, 'slide "Power projection algorithm idea", step 2'),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
)
