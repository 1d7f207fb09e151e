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
    "sigmoid residual layer). BEL18's function class may fix 0 implicitly (the induced norm is "
    "only a norm on maps with g(0) = 0) [unverified: paper text not consulted]; the corrected "
    "variant adds h_i(0) = 0 explicitly.",
    tags=("nonlinear", "C3", "frechet"),
)
