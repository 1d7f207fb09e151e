r"""C2 (2a). Lipschitz constant of a near-identity map [slide "Stationary points: Proof ideas
(1)"; BEL18].

Statement of record (slide "Stationary points: Proof ideas (1)", item 2): *If*
:math:`\|f - \mathrm{Id}\|_L \le \alpha < 1` *then* :math:`\|f\|_L \le 1 + \alpha`.

.. math::

   \|f - \mathrm{Id}\|_L \le \alpha < 1 \implies \|f\|_L \le 1 + \alpha

(Triangle inequality:
:math:`\|f(x) - f(y)\| \le \|x - y\| + \|(f - \mathrm{Id})(x) - (f - \mathrm{Id})(y)\|`; the
bound does not need :math:`\alpha < 1`, the slide states it under that hypothesis.)

Checked on residual layers :math:`f(x) = x + A\sigma(Bx)` with certified :math:`\alpha`: every
sampled difference quotient :math:`\|f(x) - f(y)\| / \|x - y\|` is at most :math:`1 + \alpha`,
on pairs aimed along the top singular direction of :math:`Df(x)`.
"""
from __future__ import annotations

from ._near_identity_layer import NEAR_IDENTITY_LAYER
from .engine.model import Claim, Expected, Kind, Provenance, Reference, statement_of_record


def forward_lipschitz_bound(alpha: float) -> float:
    r""":math:`\|f\|_L \le 1 + \alpha`."""
    return 1.0 + alpha


CLAIM = Claim(
    id="c2_forward_lipschitz_bound",
    title="||f - Id||_L <= alpha < 1 implies ||f||_L <= 1 + alpha",
    statement=statement_of_record(__doc__),
    hypotheses=NEAR_IDENTITY_LAYER,
    conclusion=r"\frac{\|f(x) - f(y)\|}{\|x - y\|} \le 1 + \alpha\quad \forall x \ne y",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, "Stationary points: Proof ideas (1), item 2"),
        Reference("BEL18", "1804.05012", "Lipschitz facts for near-identity maps"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="Sampled quotients are lower estimates of ||f||_L, so the check is one-sided: it can "
    "only refute. The sensitivity test plants 1 + alpha/2.",
    tags=("nonlinear", "lipschitz", "C2"),
)
