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

**Why this is the slide's faithful reading** [derived]. The slide measures perturbations in the
induced norm :math:`\|g\| = \sup_{x \ne 0}\|g(x)\|/\|x\|`, finite for a continuous :math:`g` only
if :math:`g(0) = 0`. :math:`D_{h_i}Q(h)` is a linear functional on the space :math:`F` of
perturbations :math:`\Delta` of finite induced norm (all fix 0), and :math:`\|D_{h_i}Q(h)\|` is its
dual norm, a sup over those :math:`\Delta`. Taking the layers in the same space,
:math:`h_i \in \mathrm{Id} + F`, is the hypothesis :math:`h_i(0) = 0` added here, and it is what step
(4) uses: :math:`\|z_{i-1}(x)\| \ge (1 - \varepsilon)^{i-1}\|x\|`. The slide's words (only
:math:`\|h_i - \mathrm{Id}\|_L \le \varepsilon`) admit :math:`h_i(0) \ne 0` and are refuted
(``c3_no_bad_stationary_points``), by a family on which every quantity is finite and the
derivative's norm is already the faithful one. On that family (one sample :math:`x`,
:math:`h_1(z) = z - c`, :math:`h_2 = \mathrm{Id}`) the members fail :math:`h_1(0) = 0`; the
zero-fixing layer with the same :math:`h_1(x)` is :math:`h_1(z) = (1 - c/x)z`, of least
:math:`\varepsilon = |c/x|`; it has the same states, hence the same dual norms, and the bound holds
on it, at :math:`i = 2` with ratio :math:`2|x - c|/(|x| - |c|) \ge 2` (2 for :math:`0 \le c/x < 1`),
at :math:`i = 1` with :math:`2|x|/(|x| - |c|)`.
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
    notes="Why this is the slide's faithful reading: its induced norm ||g|| = sup_{x != 0} ||g(x)||/||x|| is "
    "finite for a continuous g only if g(0) = 0; D_{h_i}Q(h) is a linear functional on the perturbations "
    "Delta of finite induced norm (all fix 0), and ||D_{h_i}Q(h)|| is its dual norm over them; taking the "
    "layers in the same space, h_i in Id + F, is the hypothesis h_i(0) = 0 added here, and it is what the "
    "proof's step (4), ||z_{i-1}(x)|| >= (1 - eps)^{i-1} ||x||, uses. The slide's words admit h_i(0) != 0 and "
    "are refuted (c3_no_bad_stationary_points), with the derivative's norm already the faithful one. On that "
    "claim's counterexample family (one sample x, h_1(z) = z - c, h_2 = Id, r = h(x) - y) the members fail "
    "h_1(0) = 0 (counted as not held); their zero-fixing counterparts h_1(z) = (1 - c/x) z have the same "
    "sample states, hence the same exact dual norms (checked), need eps = |c/x| < 1, and satisfy the bound "
    "at i = 2 with ratio 2|x - c|/(|x| - |c|) >= 2 (a Hypothesis search of the family); checked at the translation's "
    "eps = 0 instead, they violate it (caught for c/x in (1/2, 1)). "
    "Also checked on linear compositions (I + A_i, ||A_i|| <= eps exactly) and tanh residual "
    "compositions (certified eps), with repeated inputs so that Q(h*) > 0. The exact dual norm "
    "(finite sample) is also computed and must dominate the slide's direction. Sensitivity: a "
    "planted constant 3, the hypothesis h_i(0) = 0 dropped (translations, sigmoid layers), "
    "eps < 1 dropped, and a derivative that forgets the upstream Jacobian must be caught.",
    tags=("nonlinear", "C3", "frechet"),
)
