r"""B3, corrected. Gradient lower bound in the slide's convention [derived from the slide's
gradient formula; equivalent to HM16 Lemma 2.3 with :math:`f = 2\ell`].

Statement of record (derived from the slide's gradient formula; HM16 Lemma 2.3 with
:math:`f = 2\ell`): with :math:`\ell(\Theta) = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2`, if
:math:`\sigma_{\min}(\Theta_i) \ge 1 - a` for all :math:`i` (:math:`a < 1`), then

.. math::

   \forall i:\ \sigma_{\min}(\Theta_i) \ge 1 - a > 0\ \Rightarrow\
   \|\nabla_\Theta \ell(\Theta)\|_F^2 \ge 2\,L\,\ell(\Theta)\,(1-a)^{2(L-1)}

Proof: :math:`\nabla_{\Theta_i}\ell = \Theta_{i+1:L}^\top E\,\Theta_{1:i-1}^\top` and
:math:`\|XEY\|_F \ge \sigma_{\min}(X)\sigma_{\min}(Y)\|E\|_F`, so each of the L layer gradients
has :math:`\|\nabla_{\Theta_i}\ell\|_F^2 \ge (1-a)^{2(L-1)}\|E\|_F^2 = 2\ell(1-a)^{2(L-1)}`.
Equality at :math:`\Theta_i = (1 - a)I`: the constant and the exponent are sharp. It implies the
slide's form :math:`4\ell L(1-a)^{2L}` only when :math:`(1-a)^2 \le 1/2`. This Polyak–Łojasiewicz
inequality is what makes the rates of B2, B6 and B9 linear.
"""
from __future__ import annotations

import math

from .engine.model import (
    Claim, Constant, Expected, Hypothesis, Kind, Provenance, Reference, Tracked, Truth, statement_of_record)

#: Tracked: how far from 1 the ratio ||grad||^2 / bound is at Theta_i = c I, where it is 1 exactly.
SHARPNESS_METRIC = "max |ratio - 1| at Theta_i = c I"


#: The proven coefficient K of ||grad||^2 >= K L loss (1-a)^{2(L-1)} (the proof above; sharp).
PROVEN_COEFFICIENT = 2.0


def log_corrected_bound(loss: float, depth: int, a: float) -> float:
    r""":math:`\log\big(2L\ell(1 - a)^{2(L-1)}\big)`, in log space (no overflow for large L)."""
    return math.log(PROVEN_COEFFICIENT * loss * depth) + 2 * (depth - 1) * math.log1p(-a)


def coefficient_needed(grad_sq: float, loss: float, depth: int, sigma_min: float) -> float:
    r"""The largest K the instance allows: :math:`\|\nabla\ell\|^2 / (\ell L (1-a)^{2(L-1)})`,
    :math:`1 - a = \min_i \sigma_{\min}(\Theta_i)` (any K above it fails on this instance)."""
    return grad_sq / (loss * depth * sigma_min ** (2 * (depth - 1)))


CLAIM = Claim(
    id="b3_gradient_lower_bound_corrected",
    title="Gradient lower bound with the slide's 1/2: ||grad||^2 >= 2 L loss (1-a)^(2(L-1)) (sharp)",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("layers_bounded_below", r"\sigma_{\min}(\Theta_i) \ge 1 - a\ \forall i,\ a < 1",
                   lambda inst: inst["a"] < 1, edge=lambda inst: 1 - inst["a"]),
    ),
    conclusion=r"\|\nabla_\Theta \ell\|_F^2 \ge 2L\ell(1-a)^{2(L-1)}",
    kind=Kind.LOWER_BOUND,
    references=(
        Reference("HM16", "1611.04231", "Lemma 2.3, with f = 2 * loss"),
        Reference("Bartlett 2018 slides", None, 'slide "Gradient descent: proof idea" (corrected constant)'),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    tracked=(Tracked(SHARPNESS_METRIC, "lower", atol=1e-12),),
    constants=(
        Constant(name="K", meaning="largest K with ||grad||^2 >= K L loss (1-a)^(2(L-1)) whenever "
                 "sigma_min(Theta_i) >= 1 - a > 0 (search: minimise ||grad||^2 / (loss L (1-a)^(2(L-1))) over Theta, Phi)",
                 truth=Truth.LARGEST_VALID,
                 slide="4, with exponent 2L (4 loss L (1-a)^(2L); refuted, b3_gradient_lower_bound)",
                 paper="HM16 Lemma 2.3 (arXiv 1611.04231, version not checked), in its convention f = 2 loss; "
                 "2 here by the equivalence stated above (paper text not checked)",
                 proven=PROVEN_COEFFICIENT, proven_by="proof in this module's docstring (||XEY||_F >= "
                 "sigma_min(X) sigma_min(Y) ||E||_F per layer)",
                 other_side="exact family Theta_i = (1-a) I: the ratio is 2 exactly "
                 "(test_attained_at_scaled_identities), so the truth is 2"),
    ),
)
