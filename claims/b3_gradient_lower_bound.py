r"""B3. Gradient is big when the loss is big [slide "Gradient descent: proof idea", attributed to
Hardt and Ma; HM16 Lemma 2.3 in its own convention].

Statement of record (slide "Gradient descent: proof idea", Lemma [Hardt and Ma], with the slide's
loss): if :math:`\sigma_{\min}(\Theta_i) \ge 1 - a` for all layers :math:`i`, then

.. math::

   \forall i:\ \sigma_{\min}(\Theta_i) \ge 1 - a\ \Rightarrow\
   \|\nabla_\Theta \ell(\Theta)\|^2 \ge 4\,\ell(\Theta)\,L\,(1-a)^{2L},\quad
   \ell = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2

**False as written** under the slide's ½: at :math:`\Theta = I` (so :math:`a = 0`) every layer
gradient equals :math:`E = I - \Phi`, so :math:`\|\nabla\ell\|^2 = L\|E\|_F^2 = 2L\ell < 4L\ell`
whenever :math:`\Phi \ne I`. Minimal counterexample: :math:`d = L = 1`, :math:`\Theta = 1`,
:math:`\Phi = 0`: :math:`\|\nabla\ell\|^2 = 1 < 2`. The constant 4 is HM16's, whose loss
:math:`f = \|\Theta_{1:L} - \Phi\|_F^2 = 2\ell` has no ½: :math:`\|\nabla f\|^2 = 4\|\nabla\ell\|^2
\ge 4Lf(1-a)^{2(L-1)}`. The corrected variant in the slide's convention is
``b3_gradient_lower_bound_corrected``.
"""
from __future__ import annotations

import math

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def log_slide_bound(loss: float, depth: int, a: float) -> float:
    r""":math:`\log\big(4\ell L(1 - a)^{2L}\big)`, in log space (no overflow for large L)."""
    return math.log(4.0 * loss * depth) + 2 * depth * math.log1p(-a)


CLAIM = Claim(
    id="b3_gradient_lower_bound",
    title="Gradient is big when the loss is big (slide's constant 4, loss with 1/2)",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("layers_bounded_below", r"\sigma_{\min}(\Theta_i) \ge 1 - a\ \forall i,\ a < 1",
                   lambda inst: inst["a"] < 1),
    ),
    conclusion=r"\|\nabla_\Theta \ell\|_F^2 \ge 4\ell L (1-a)^{2L}",
    kind=Kind.LOWER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Gradient descent: proof idea", Lemma [Hardt and Ma]'),
        Reference("HM16", "1611.04231", "Lemma 2.3 (loss without 1/2)"),
        Reference("BHL18", "1802.06093", "Lemma 3"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.REFUTED,
    corrected_variant="b3_gradient_lower_bound_corrected",
    notes="The constant 4 belongs to HM16's loss without the 1/2. With the slide's 1/2 the sharp "
    "constant is 2, with exponent 2(L-1): see the corrected variant, which is attained with "
    "equality at Theta_i = (1 - a) I.",
)
