r"""C2 (2b). Lipschitz constant of the inverse of a near-identity map [slide "Stationary
points: Proof ideas (1)"; BEL18].

Statement of record (slide "Stationary points: Proof ideas (1)", item 2): *If*
:math:`\|f - \mathrm{Id}\|_L \le \alpha < 1` *then* :math:`\|f^{-1}\|_L \le 1/(1 - \alpha)`.

.. math::

   \|f - \mathrm{Id}\|_L \le \alpha < 1 \implies \|f^{-1}\|_L \le \frac{1}{1 - \alpha}

(Reverse triangle inequality:
:math:`\|f(x) - f(y)\| \ge (1 - \alpha)\|x - y\|`, then put :math:`x = f^{-1}(u)`,
:math:`y = f^{-1}(v)`.)

Checked on residual layers :math:`f(x) = x + A\sigma(Bx)` with certified :math:`\alpha`: the
inverse is computed numerically (fixed-point iteration, certified to a tolerance) and every
sampled quotient :math:`\|f^{-1}(u) - f^{-1}(v)\| / \|u - v\|` is at most
:math:`1/(1 - \alpha)`, on pairs :math:`u = f(x)`, :math:`v = f(x + h w)` with :math:`w` the
bottom singular direction of :math:`Df(x)` (where :math:`f^{-1}` stretches most) or random.
"""
from __future__ import annotations

from ._near_identity_layer import NEAR_IDENTITY_LAYER
from .engine.model import Claim, Expected, Kind, Provenance, Reference, statement_of_record


def inverse_lipschitz_bound(alpha: float) -> float:
    r""":math:`\|f^{-1}\|_L \le 1 / (1 - \alpha)`."""
    return 1.0 / (1.0 - alpha)


CLAIM = Claim(
    id="c2_inverse_lipschitz_bound",
    title="||f - Id||_L <= alpha < 1 implies ||f^{-1}||_L <= 1/(1 - alpha)",
    statement=statement_of_record(__doc__),
    hypotheses=NEAR_IDENTITY_LAYER,
    conclusion=r"\frac{\|f^{-1}(u) - f^{-1}(v)\|}{\|u - v\|} \le \frac{1}{1 - \alpha}\quad \forall u \ne v",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, "Stationary points: Proof ideas (1), item 2"),
        Reference("BEL18", "1804.05012", "Lipschitz facts for near-identity maps"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="The quotient uses the computed inverse, whose certified error (tests/tolerances."
    "INVERSE_TOL) enters the absolute tolerance. The sensitivity test plants 1 + alpha, the "
    "forward constant, in place of 1/(1 - alpha).",
    tags=("nonlinear", "lipschitz", "C2"),
)
