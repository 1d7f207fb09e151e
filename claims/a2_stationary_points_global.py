r"""A2. Stationary points of the linear residual model are global optima where the factors are
near the identity [slide "Some intuition: linear functions"; HM16 Thm 2.2].

Statement of record (slide "Some intuition: linear functions"): for :math:`y = Ax + \varepsilon`,
:math:`\varepsilon \sim \mathcal{N}(0, \sigma^2 I)`, and :math:`\|A_i\| < 1` for every :math:`i`,
every stationary point of the expected squared error is the global optimum:

.. math::

   y = Ax + \varepsilon,\ \|A_i\| < 1\ \forall i:\quad
   \nabla_{A_i}\mathbb{E}\|(I+A_m)\cdots(I+A_1)x - y\|^2 = 0\ \forall i\ \Rightarrow\ A = (I+A_m)\cdots(I+A_1)

Implicit hypothesis made explicit: the input covariance :math:`\Sigma = \mathbb{E}xx^\top` is
non-singular (HM16 take isotropic inputs); with a singular :math:`\Sigma` the product is only
determined on its range and the implication fails.

Checked through the quantitative form that proves it (HM16's argument): with
:math:`\tau = \max_i\|A_i\| < 1`, :math:`\sigma_{\min}(I + A_i) \ge 1 - \tau` and
:math:`\nabla_{A_i}f = 2\Theta_{i+1:m}^\top(\Theta - A)\Sigma\Theta_{1:i-1}^\top`, so

.. math::

   \|\nabla f\|_F^2 \ge 4m(1-\tau)^{2(m-1)}\lambda_{\min}(\Sigma)^2\,\|\Theta_{1:m} - A\|_F^2,

which is zero only at :math:`\Theta_{1:m} = A`. It is checked on random factors and on the
near-stationary points that a minimization of :math:`\|\nabla f\|^2` finds.
"""
from __future__ import annotations

import math

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def log_gradient_bound(distance_sq: float, m: int, tau: float, lambda_min: float) -> float:
    r""":math:`\log\big(4m(1-\tau)^{2(m-1)}\lambda_{\min}(\Sigma)^2\|\Theta - A\|_F^2\big)` (log space)."""
    return math.log(4.0 * m * distance_sq) + 2 * (m - 1) * math.log1p(-tau) + 2 * math.log(lambda_min)


CLAIM = Claim(
    id="a2_stationary_points_global",
    title="Linear residual model: every stationary point with ||A_i|| < 1 is a global optimum",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("factors_near_identity", r"\tau = \max_i\|A_i\|_2 < 1", lambda inst: inst["tau"] < 1,
                   edge=lambda inst: 1 - inst["tau"]),
        Hypothesis("inputs_nondegenerate", r"\lambda_{\min}(\mathbb{E}xx^\top) > 0 \text{ (implicit)}",
                   lambda inst: inst["lambda_min"] > 0, edge=lambda inst: inst["lambda_min"]),
    ),
    conclusion=r"\|\nabla f\|_F^2 \ge 4m(1-\tau)^{2(m-1)}\lambda_{\min}(\Sigma)^2\|(I+A_m)\cdots(I+A_1) - A\|_F^2",
    kind=Kind.LOWER_BOUND,
    references=(
        Reference("HM16", "1611.04231", "Theorem 2.2 and its proof"),
        Reference("Bartlett 2018 slides", None, 'slide "Some intuition: linear functions"'),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
)
