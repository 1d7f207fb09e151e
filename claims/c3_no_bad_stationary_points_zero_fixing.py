r"""C3, corrected. No bad stationary points in function space for compositions of
near-identities that fix 0 [slide "Stationary points: Result" and "Proof ideas (1), (2)"; BEL18].

Statement of record (slide "Stationary points: Result", with a hypothesis added [derived]): the
slide's statement (``c3_no_bad_stationary_points``) with the added hypothesis :math:`h_i(0) = 0` for
every :math:`i`, where :math:`Q(h) = \frac12\mathbb{E}\|h(X) - Y\|^2`, :math:`h^* = \mathbb{E}[Y \mid X]`,
:math:`h = h_m \circ \cdots \circ h_1`.

.. math::

   \|h_i - \mathrm{Id}\|_L \le \varepsilon < 1,\ h_i(0) = 0\ \forall i \implies \forall i:\
   \|D_{h_i}Q(h)\| \ge \frac{(1 - \varepsilon)^{m-1}}{\|h - h^*\|}\,(Q(h) - Q(h^*))

The slide's proof ("Proof ideas (2)"), checked step by step on finite samples: (1) the
projection theorem :math:`Q(h) = \frac12\mathbb{E}\|h - h^*\|^2 + Q(h^*)`; (2) the derivative
:math:`D_{h_i}Q(h)(\Delta) = \mathbb{E}[(h(X) - Y)^\top J_{>i}\,\Delta(z_{i-1})]` (against
central differences); (3) the direction :math:`\Delta(z_{i-1}(x)) = J_{>i}^{-1}(h - h^*)(x)`
gives :math:`D_{h_i}Q(h)(\Delta) = \mathbb{E}\|h - h^*\|^2`; (4) since the layers are
near-identities that fix 0, :math:`\|\Delta\| \le \|h - h^*\|/(1 - \varepsilon)^{m-1}`. Steps
(3)-(4) give the bound with an extra factor 2 (:math:`\mathbb{E}\|h - h^*\|^2 = 2(Q(h) -
Q(h^*))`): the slide's constant is loose by at least 2, and the ratio 2 is attained (one
sample, :math:`h = \mathrm{Id}`).
"""
from __future__ import annotations

from ._functional_risk import NEAR_IDENTITY_COMPOSITION, ZERO_FIXING
from .engine.model import Claim, Expected, Kind, Provenance, Reference, statement_of_record

CLAIM = Claim(
    id="c3_no_bad_stationary_points_zero_fixing",
    title="||D_{h_i} Q(h)|| >= (1 - eps)^{m-1} (Q(h) - Q(h*)) / ||h - h*|| when every h_i(0) = 0",
    statement=statement_of_record(__doc__),
    hypotheses=NEAR_IDENTITY_COMPOSITION + (ZERO_FIXING,),
    conclusion=r"\min_i \frac{D_{h_i}Q(h)(\Delta_i)}{\|\Delta_i\|} \ge \frac{(1 - \varepsilon)^{m-1}}{\|h - h^*\|}"
    r"(Q(h) - Q(h^*)),\ \Delta_i = J_{>i}^{-1}(h - h^*)\ \text{(the slide's direction; a lower bound of the dual norm)}",
    kind=Kind.LOWER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, 'slides "Stationary points: Result", "Proof ideas (1), (2)"'),
        Reference("BEL18", "1804.05012", "function-space stationary points"),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    notes="Checked on linear compositions (I + A_i, ||A_i|| <= eps exactly) and tanh residual "
    "compositions (certified eps), with repeated inputs so that Q(h*) > 0. The exact dual norm "
    "(finite sample) is also computed and must dominate the slide's direction. Sensitivity: a "
    "planted constant 3, the hypothesis h_i(0) = 0 dropped (translations, sigmoid layers), "
    "eps < 1 dropped, and a derivative that forgets the upstream Jacobian must be caught.",
    tags=("nonlinear", "C3", "frechet"),
)
