r"""C2 (1). A near-identity map is invertible [slide "Stationary points: Proof ideas (1)"; BEL18].

Statement of record (slide "Stationary points: Proof ideas (1)", item 1): *If*
:math:`\|f - \mathrm{Id}\|_L \le \alpha < 1` *then* :math:`f` *is invertible.*

.. math::

   \|f - \mathrm{Id}\|_L \le \alpha < 1 \implies f \text{ is invertible}

Here :math:`\|g\|_L` is the Lipschitz seminorm,
:math:`\|g(x) - g(y)\| \le \|g\|_L \|x - y\|` for all :math:`x, y` (slide "Representing with
near-identities"), and :math:`f : \mathbb{R}^d \to \mathbb{R}^d`.

Why (for the record): :math:`f(x) = y` iff :math:`x` is a fixed point of
:math:`T_y(x) = y - (f - \mathrm{Id})(x)`, a contraction with factor :math:`\alpha`; Banach
gives existence and uniqueness (surjective and injective), and the reverse triangle
inequality gives :math:`\|f(x) - f(y)\| \ge (1 - \alpha)\|x - y\|`.

Checked on residual layers :math:`f(x) = x + A\sigma(Bx)` (the slide's typical layer;
:math:`\sigma` sigmoid, tanh or ReLU) whose :math:`\alpha` is certified by vertex
enumeration of the slope box: the computed inverse is a right inverse
(:math:`f(f^{-1}(y)) = y`) and a left inverse (:math:`f^{-1}(f(x)) = x`) to tolerance, and
distinct points have images at least :math:`(1 - \alpha)\|x - y\| > 0` apart.
"""
from __future__ import annotations

from ._near_identity_layer import NEAR_IDENTITY_LAYER
from .engine.model import Claim, Expected, Kind, Provenance, Reference, statement_of_record


def injectivity_constant(alpha: float) -> float:
    r"""Lower Lipschitz constant of :math:`f`: :math:`\|f(x) - f(y)\| \ge (1 - \alpha)\|x - y\|`."""
    return 1.0 - alpha


CLAIM = Claim(
    id="c2_near_identity_invertible",
    title="||f - Id||_L <= alpha < 1 implies f invertible",
    statement=statement_of_record(__doc__),
    hypotheses=NEAR_IDENTITY_LAYER,
    conclusion=r"\|f(f^{-1}(y)) - y\| \le \tau(1 + \|y\|),\ \|f^{-1}(f(x)) - x\| \le \tau(1 + \|f(x)\|),\ "
    r"\|f(x) - f(y)\| \ge (1 - \alpha)\|x - y\| > 0\ (x \ne y)",
    kind=Kind.EXISTENCE,
    references=(
        Reference("Bartlett 2018 slides", None, "Stationary points: Proof ideas (1), item 1"),
        Reference("BEL18", "1804.05012", "near-identity maps are invertible (Lipschitz facts)"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="The hypothesis ||f - Id||_L <= alpha is certified by the implementation "
    "(ResidualLayer.residual_lipschitz_bound, exact over the slope box) and is not re-derived "
    "by the predicate: a wrong certificate must show up as a violation, not as a failed "
    "hypothesis. The sensitivity test drops alpha < 1 (x -> x - c tanh x, c > 1, is not "
    "injective).",
    tags=("nonlinear", "lipschitz", "C2"),
)
