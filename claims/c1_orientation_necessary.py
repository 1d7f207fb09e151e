r"""C1 (necessity). A map that is not invertible, or reverses orientation somewhere, is not a
composition of near-identities [slide "Representing with near-identities: Theorem", hypotheses
2 and 5; BEL18 Thm 1; the slide's "Questions: if the mapping is not invertible?"].

Statement of record (derived from slide "Representing with near-identities: Theorem", hypotheses 2 and 5;
BEL18 Thm 1): *if* :math:`\|h_i - \mathrm{Id}\|_L < 1` *for every* :math:`i`, *then*
:math:`h_m \circ \cdots \circ h_1` *is injective and orientation preserving:*
:math:`\det D(h_m \circ \cdots \circ h_1)(x) > 0` *wherever it is differentiable. Hence a map
with* :math:`\det Dh(x) \le 0` *somewhere on* :math:`\mathcal{X}`, *or that is not injective
there, has no decomposition into layers with* :math:`\|h_i - \mathrm{Id}\|_L < 1`; this is why
the theorem assumes invertibility and positive orientation.

.. math::

   \|h_i - \mathrm{Id}\|_L < 1\ \forall i \implies h_m \circ \cdots \circ h_1\ \text{injective},\
   \det D(h_m \circ \cdots \circ h_1) > 0;\ \text{so}\ \det Dh(x) \le 0\ \text{somewhere (or}\ h\
   \text{not injective)} \implies \text{no such decomposition}

Why [derived]: :math:`Dh_i(z) = I + E` with :math:`\|E\|_2 \le \alpha_i < 1`, so every real
eigenvalue is at least :math:`1 - \alpha_i > 0` and every eigenvalue has modulus at least
:math:`1 - \alpha_i`: :math:`\det Dh_i(z) \ge (1 - \alpha_i)^d > 0`, and the chain rule
multiplies the determinants. Injectivity is C2 (1), composed.

Checked two ways: (1) the lemma :math:`\det D(h_m \circ \cdots \circ h_1)(x) \ge
\prod_i (1 - \alpha_i)^d` on chains of residual layers with certified :math:`\alpha_i < 1`;
(2) the slide's construction applied to maps that fold (:math:`h = J_0^{-1}(x - c\,u\tanh(u^\top
x))`, :math:`c > 1`: :math:`Dh(0) = I` but :math:`\det Dh < 0` beyond the fold) fails at every
depth :math:`m` and schedule: some layer has :math:`\|h_i - \mathrm{Id}\|_L \ge 1`, found by
the certified lower estimator.
"""
from __future__ import annotations

import math
from typing import Sequence

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def determinant_lower_bound(alphas: Sequence[float], d: int) -> float:
    r""":math:`\prod_i (1 - \alpha_i)^d`, the least :math:`\det` of a chain of near-identities."""
    return math.prod((1.0 - a) ** d for a in alphas)


CLAIM = Claim(
    id="c1_orientation_necessary",
    title="Near-identity layers compose to injective, orientation-preserving maps: folds cannot be decomposed",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("near_identity_layers", r"\|h_i - \mathrm{Id}\|_L \le \alpha_i < 1\ \text{(certified)}\ \forall i",
                   lambda inst: max(inst["alphas"]) < 1.0),
    ),
    conclusion=r"\det D(h_m \circ \cdots \circ h_1)(x) \ge \prod_i (1 - \alpha_i)^d > 0",
    kind=Kind.IMPOSSIBILITY,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Representing with near-identities: Theorem", hypotheses 2, 5'),
        Reference("BEL18", "1804.05012", "Thm 1 (hypotheses invertible, positively oriented)"),
        Reference("Bartlett 2018 slides", None, 'slide "Deep compositions of near-identities: Questions"'),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    notes="The linear case (det A <= 0) is a1_det_positive_necessary. The demonstration on folding "
    "maps is a constructive consequence, not a search for counterexamples: a lower estimate >= 1 "
    "proves that the slide's construction fails there; a failure to find one would be an "
    "estimator weakness (the test then errors). Contrast: the same procedure on a bijection "
    "(c < 1) finds every layer below 1.",
    tags=("nonlinear", "C1", "necessity"),
)
