r"""C1 (representation). The near-identity layers compose to :math:`h` exactly
[slide "Representing with near-identities: Theorem" and "Key ideas"; BEL18 Thm 1].

Statement of record (slide "Representing with near-identities: Theorem" and "Key ideas", items 1-3):
*for a differentiable, invertible, smooth map* :math:`h` *with a
Lipschitz inverse and positive orientation on a bounded domain* :math:`\mathcal{X}`, *for all*
:math:`m` *there are* :math:`h_1, \dots, h_m` *with* :math:`h_m \circ \cdots \circ h_1 = h`
*on* :math:`\mathcal{X}`. The slide's construction ("Key ideas"): normalise :math:`h(0) = 0`,
:math:`Dh(0) = I`, pick :math:`0 < a_1 < \cdots < a_m = 1` and let
:math:`h_i \circ \cdots \circ h_1(x) = h(a_i x)/a_i`, i.e.
:math:`h_i = g_{a_i} \circ g_{a_{i-1}}^{-1}` with :math:`g_a(x) = h(ax)/a`, :math:`g_0 = \mathrm{Id}`.

.. math::

   h(0) = 0,\ Dh(0) = I,\ 0 < a_1 < \cdots < a_m = 1,\ g_a(x) = h(ax)/a:\ h_i = g_{a_i} \circ
   g_{a_{i-1}}^{-1} \implies h_m \circ \cdots \circ h_1 = h\ \text{on}\ \mathcal{X}

The composition telescopes to :math:`g_{a_m} = g_1 = h` for *every* schedule; this claim
checks the implementation of that identity, layer by layer with the iterative inverses
(linear, geometric and random user-supplied schedules), to the inverses' certified tolerance.
The size of the layers is the claim ``c1_near_identity_rate``.
"""
from __future__ import annotations

from ._smooth_map_hypotheses import SCHEDULE, SMOOTH_INVERTIBLE_MAP
from .engine.model import Claim, Expected, Kind, Provenance, Reference, statement_of_record

CLAIM = Claim(
    id="c1_decomposition_exact",
    title="h_m o ... o h_1 = h on X, h_i = g_{a_i} o g_{a_{i-1}}^{-1}, for every schedule",
    statement=statement_of_record(__doc__),
    hypotheses=SMOOTH_INVERTIBLE_MAP + (SCHEDULE,),
    conclusion=r"\max_{x \in \text{sample}} \|h_m \circ \cdots \circ h_1(x) - h(x)\| \le \tau",
    kind=Kind.IDENTITY,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Representing with near-identities: Key ideas", items 1-3'),
        Reference("BEL18", "1804.05012", "Thm 1 (construction)"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="tau = tests/tolerances.decomposition_tol (the inverses' certified accuracy times the "
    "Lipschitz constant L M of the remaining layers, per layer). Sensitivity: an off-by-one layer "
    "index, a schedule that does not end at 1 (hypothesis broken) and a sloppy inverse must be caught.",
    tags=("nonlinear", "C1"),
)
