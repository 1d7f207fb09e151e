r"""C3. No bad stationary points in function space [slide "Stationary points: Result"; BEL18],
as the slide states it.

Statement of record (slide "Stationary points: Result"): *for* :math:`(X, Y)` *with an arbitrary
joint distribution, let* :math:`Q(h) = \frac12\mathbb{E}\|h(X) - Y\|_2^2` *and* :math:`h^*(x) = \mathbb{E}[Y \mid X = x]`.
*Consider* :math:`h = h_m \circ \cdots \circ h_1` *where* :math:`\|h_i - \mathrm{Id}\|_L \le
\varepsilon < 1`. *Then for all* :math:`i` *the inequality below holds, with* :math:`D_{h_i}Q`
*the Fréchet derivative and* :math:`\|\cdot\|` *the induced norm* :math:`\|g\| = \sup_{x \ne 0}\|g(x)\|/\|x\|`. *E.g. if* :math:`(X, Y)` *is uniform on a
training sample,* :math:`Q` *is the empirical risk.*

.. math::

   \|h_i - \mathrm{Id}\|_L \le \varepsilon < 1\ \forall i \implies \forall i:\ \|D_{h_i}Q(h)\| \ge
   \frac{(1 - \varepsilon)^{m-1}}{\|h - h^*\|}\,(Q(h) - Q(h^*))

**False as written**: nothing makes the layers fix 0, and a layer that moves a sample point
toward 0 kills the derivative with respect to the next layer, because a perturbation
:math:`\Delta` of finite induced norm is small near 0 (:math:`\|\Delta(z)\| \le \|\Delta\|\|z\|`).
A translation :math:`h_1(x) = x - c` has :math:`\|h_1 - \mathrm{Id}\|_L = 0`. Minimal
counterexample (:math:`d = n = 1`, :math:`m = 2`, :math:`\varepsilon = 0`): :math:`x = 1`,
:math:`y = 5/4`, :math:`h_1(x) = x - 3/4`, :math:`h_2 = \mathrm{Id}`. Then :math:`h(1) = 1/4`,
:math:`Q(h) - Q(h^*) = 1/2`, :math:`\|h - h^*\| = 1`, so the right side is :math:`1/2`, while
:math:`\|D_{h_2}Q(h)\| = |h(1) - y|\,|h_1(1)| = 1/4`. A sigmoid residual layer
:math:`x + a\sigma(bx)` (:math:`h(0) = a/2 \ne 0`) does the same with
:math:`\|h_1 - \mathrm{Id}\|_L = |a|b/4` small. The slide's proof needs :math:`\|x\| \le
\|h_{i-1} \circ \cdots \circ h_1(x)\|/(1 - \varepsilon)^{i-1}`, which holds when every
:math:`h_j(0) = 0` (the layers of the C1 construction do). Corrected variant:
``c3_no_bad_stationary_points_zero_fixing``.

On a finite sample the dual norm is exact (``impl.functional_gradient``): perturbations need
only be chosen at the points :math:`z_{i-1}(x_j)`, each with :math:`\|\Delta(z)\| \le \|z\|`.

**The faithful reading, and why the refutation stands under it** [derived]. For a continuous
:math:`g`, :math:`\|g\| = \sup_{x \ne 0}\|g(x)\|/\|x\| < \infty` forces :math:`g(0) = 0`, so the
slide's normed space is :math:`F = \{g : \|g\| < \infty\}`, whose members fix 0.
:math:`D_{h_i}Q(h)` is a linear functional on the perturbations :math:`\Delta \in F`, and its norm
is the dual norm :math:`\sup\{D_{h_i}Q(h)(\Delta) : \Delta \in F, \|\Delta\| \le 1\}`, a sup over
maps that fix 0. The slide's words bound only the Lipschitz seminorm :math:`\|h_i - \mathrm{Id}\|_L`,
which is blind to constants, so they admit layers with :math:`h_i(0) \ne 0`, i.e.
:math:`h_i - \mathrm{Id} \notin F`. The counterexample family of the tests (:math:`d = n = 1`,
:math:`m = 2`, one sample point :math:`x`, :math:`h_1(z) = z - c`, :math:`h_2 = \mathrm{Id}`,
:math:`r = h(x) - y`; :math:`\|h_1 - \mathrm{Id}\|_L = 0`, :math:`\|h_1 - \mathrm{Id}\| = \infty`) has
every quantity of the bound finite and already taken in the faithful norm:
:math:`\|D_{h_1}Q(h)\| = |r||x|`, :math:`\|D_{h_2}Q(h)\| = |r||x - c|`,
:math:`Q(h) - Q(h^*) = r^2/2`, and :math:`\|h - h^*\| = |r|/|x|`. (:math:`h^* = \mathbb{E}[Y \mid X]`
is defined only on the support :math:`\{x\}` of :math:`X`; the sup over the support is the least
value over the versions of :math:`h^*`, the one that makes the bound strongest; a version with
:math:`(h - h^*)(0) \ne 0`, e.g. :math:`h^* \equiv y`, has :math:`\|h - h^*\| = \infty` and makes the
bound vacuous.) The bound at :math:`i = 2` reads :math:`|x - c| \ge |x|/2`: false for
:math:`c/x \in (1/2, 3/2)`; at :math:`c = x`, :math:`D_{h_2}Q(h) = 0` on :math:`F` while
:math:`Q(h) > Q(h^*)` (:math:`D_{h_1}Q(h) \ne 0`, so not a joint stationary point). The failure is
therefore not an artefact of the norm: the faithful reading takes the layers in the slide's space,
:math:`h_i \in \mathrm{Id} + F`, i.e. :math:`h_i(0) = 0`, which excludes the family. The same sample
states from a zero-fixing :math:`h_1` need :math:`\|h_1 - \mathrm{Id}\|_L \ge |c/x|` (since
:math:`|h_1(x) - x| \le \|h_1 - \mathrm{Id}\|_L|x|`), attained by :math:`h_1(z) = (1 - c/x)z` (so none is
near-identity when :math:`|c| \ge |x|`); for :math:`|c| < |x|` the bound holds, at :math:`i = 2` with ratio :math:`2|x - c|/(|x| - |c|) \ge 2`
(``c3_no_bad_stationary_points_zero_fixing``). The sigmoid counterexample has the same states.
"""
from __future__ import annotations

from ._functional_risk import NEAR_IDENTITY_COMPOSITION
from .engine.model import Claim, Expected, Kind, Provenance, Reference, statement_of_record

CLAIM = Claim(
    id="c3_no_bad_stationary_points",
    title="||D_{h_i} Q(h)|| >= (1 - eps)^{m-1} (Q(h) - Q(h*)) / ||h - h*|| (as on the slide)",
    statement=statement_of_record(__doc__),
    hypotheses=NEAR_IDENTITY_COMPOSITION,
    conclusion=r"\min_i \|D_{h_i}Q(h)\| \ge \frac{(1 - \varepsilon)^{m-1}}{\|h - h^*\|}(Q(h) - Q(h^*))\ "
    r"\text{(exact dual norm on the sample)}",
    kind=Kind.LOWER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Stationary points: Result"'),
        Reference("BEL18", "1804.05012", "function-space gradient lower bound (theorem number not checked)"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.REFUTED,
    corrected_variant="c3_no_bad_stationary_points_zero_fixing",
    notes="Refuted as written by layers that do not fix 0 (a translation, ||h_1 - Id||_L = 0; or a "
    "sigmoid residual layer). Why the refutation stands under the slide's own norm: the induced norm "
    "||g|| = sup_{x != 0} ||g(x)||/||x|| is finite for a continuous g only if g(0) = 0, so D_{h_i}Q(h) is a "
    "linear functional on F = {Delta : ||Delta|| < oo}, whose members fix 0, and its norm is the dual norm "
    "sup{D_{h_i}Q(h)(Delta) : Delta in F, ||Delta|| <= 1}; each such Delta has ||Delta(z)|| <= ||z||, and the "
    "suite computes this dual norm exactly on the sample. The slide's words bound only the Lipschitz seminorm "
    "||h_i - Id||_L, blind to constants, so they admit h_i(0) != 0, i.e. h_i - Id not in F. On the "
    "counterexample family (d = n = 1, m = 2, one sample x, h_1(z) = z - c, h_2 = Id, r = h(x) - y; "
    "||h_1 - Id||_L = 0, ||h_1 - Id|| = oo) every quantity of the bound is finite and taken in the faithful "
    "norm (checked against closed forms on a Hypothesis search of the family): ||D_{h_2}Q(h)|| = |r||x - c| "
    "(h_1 moves the sample toward 0, where every Delta is small), Q(h) - Q(h*) = r^2/2, ||h - h*|| = |r|/|x| "
    "(h* = E[Y|X] is defined on supp X = {x} only: the sup over the support, the least value over versions of "
    "h*; a version with (h - h*)(0) != 0, e.g. h* = y everywhere, gives oo and a vacuous bound). The bound "
    "reads |x - c| >= |x|/2: false for c/x in (1/2, 3/2); at c = x, D_{h_2}Q(h) = 0 while Q(h) > Q(h*). So "
    "the failure is no artefact of the norm: the faithful reading takes the layers in the slide's space, "
    "h_i in Id + F (h_i(0) = 0, as the C1 construction's layers are), which excludes the family. The same "
    "sample states from a zero-fixing h_1 need eps >= |c/x| (none near-identity for |c| >= |x|), and for |c| < |x| satisfy the bound, at i = 2 with ratio "
    "2|x - c|/(|x| - |c|) >= 2 (checked in c3_no_bad_stationary_points_zero_fixing). The table lists each "
    "quantity. BEL18's own function class [unverified: paper text not consulted].",
    tags=("nonlinear", "C3", "frechet"),
)
