r"""B5. Stay close to the identity [slide "Gradient descent: proof idea", Lemma "Stay close to the
identity"].

Statement of record (slide "Gradient descent: proof idea", Lemma "Stay close to the identity"):
along gradient descent :math:`\Theta_i^{(t+1)} = \Theta_i^{(t)} - \eta\nabla_{\Theta_i}\ell(\Theta^{(t)})`,

.. math::

   \mathcal R(t + 1) \le \mathcal R(t) + \eta\,(1 + \mathcal R(t))^L \sqrt{2\ell(t)},\quad
   \mathcal R(t) = \max_i \|\Theta_i^{(t)} - I\|_2,\ \ell(t) = \tfrac12\|\Theta^{(t)}_{1:L} - \Phi\|_F^2

For any :math:`\eta > 0`, with no hypothesis on :math:`\Phi` or on the start: by the triangle
inequality :math:`\|\Theta_i^{(t+1)} - I\|_2 \le \mathcal R(t) + \eta\|\nabla_{\Theta_i}\ell\|_2`, and
:math:`\|\nabla_{\Theta_i}\ell\|_2 \le \|\Theta_{i+1:L}\|_2\|E\|_2\|\Theta_{1:i-1}\|_2 \le
(1 + \mathcal R(t))^{L-1}\|E\|_F = (1 + \mathcal R(t))^{L-1}\sqrt{2\ell(t)}` [derived]: the
slide's exponent :math:`L` can be :math:`L - 1`, and that sharper form is attained with equality
(first step from :math:`\Theta_i = (1 + r)I` toward :math:`\Phi = (1 + r)^L I + s\,uu^\top`:
every layer moves by :math:`\eta(1+r)^{L-1}s\,uu^\top`, aligned with :math:`\Theta_i - I = rI`).
The slide's form is attained when :math:`\mathcal R(t) = 0` (first step from the identity with a
rank-one :math:`I - \Phi`).

Checked along trajectories of the engine (identity and random near-identity starts, rotations
far from :math:`I`, step sizes up to where the trajectory grows or diverges), with
:math:`(1 + \mathcal R)^L` in log space.
"""
from __future__ import annotations

import math

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, Tracked, statement_of_record

#: Tracked: the largest share of the sharper increment eta (1+R)^(L-1) sqrt(2 loss) a step uses
#: (attained: 1).
SHARPER_RATIO_METRIC = "max (R(t+1) - R(t)) / (eta (1+R)^(L-1) sqrt(2 loss)) (derived, sharper)"


def log_increment_bound(eta: float, radius: float, loss: float, depth: int, exponent: int | None = None) -> float:
    r""":math:`\log\big(\eta(1 + \mathcal R)^{k}\sqrt{2\ell}\big)` with :math:`k` = ``exponent``
    (default :math:`L`, the slide's); :math:`-\infty` when :math:`\ell = 0`."""
    k = depth if exponent is None else exponent
    if loss <= 0.0:
        return -math.inf
    return math.log(eta) + k * math.log1p(radius) + 0.5 * math.log(2.0 * loss)


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def scaled_sides(radius: float, radius_next: float, loss: float, eta: float, depth: int,
                 exponent: int | None = None) -> tuple[float, float, float]:
    r"""``(lhs, rhs, scale)`` with lhs = :math:`\mathcal R(t+1)/s`, rhs = :math:`(\mathcal R(t) +
    \eta(1+\mathcal R(t))^k\sqrt{2\ell(t)})/s` and :math:`s` = ``scale`` the largest of the three
    terms, all in log space: finite even when :math:`(1 + \mathcal R)^L` overflows a float, and
    with the same normalized slack as the unscaled inequality."""
    logs = (_log(radius_next), _log(radius), log_increment_bound(eta, radius, loss, depth, exponent))
    log_scale = max(logs)
    if log_scale == -math.inf:
        return 0.0, 0.0, 0.0
    lhs, r, inc = (math.exp(v - log_scale) if v > -math.inf else 0.0 for v in logs)
    return lhs, r + inc, math.exp(log_scale) if log_scale < 709 else math.inf


def increment_ratio(radius: float, radius_next: float, loss: float, eta: float, depth: int,
                    exponent: int | None = None) -> float:
    r""":math:`(\mathcal R(t+1) - \mathcal R(t)) / (\eta(1+\mathcal R(t))^k\sqrt{2\ell(t)})`: how much
    of the allowed increment a step uses (1 = tight); ``-inf`` if the radius shrank at zero loss."""
    log_inc = log_increment_bound(eta, radius, loss, depth, exponent)
    growth = radius_next - radius
    if log_inc == -math.inf:
        return 0.0 if growth <= 0 else math.inf
    if growth <= 0:
        return 0.0
    return math.exp(math.log(growth) - log_inc)


CLAIM = Claim(
    id="b5_stay_close_to_identity",
    title="Stay close to the identity: R(t+1) <= R(t) + eta (1 + R(t))^L sqrt(2 loss(t)) along GD",
    statement=statement_of_record(__doc__),
    hypotheses=(
        # step_defect = ||Theta^(t+1) - (Theta^(t) - eta grad(Theta^(t)))||_F / (its rounding
        # tolerance), computed by the test from the two iterates it checks and the oracle's gradient
        Hypothesis("gradient_descent_iterates",
                   r"\Theta^{(t+1)} = \Theta^{(t)} - \eta\nabla\ell(\Theta^{(t)})\ \text{(consecutive GD iterates, "
                   r"to rounding)}",
                   lambda inst: inst["step_defect"] <= 1.0, edge=lambda inst: 1.0 - inst["step_defect"]),
        Hypothesis("step_positive", r"\eta > 0", lambda inst: inst["eta"] > 0, edge=lambda inst: inst["eta"]),
    ),
    conclusion=r"\mathcal R(t + 1) \le \mathcal R(t) + \eta\,(1 + \mathcal R(t))^L \sqrt{2\ell(t)}\ \forall t",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Gradient descent: proof idea", Lemma (Stay close to the identity)'),
        Reference("BHL18", "1802.06093", "iterates stay near the identity (lemma numbering not checked)"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="One check per trajectory, at its tightest step; there the engine's step is also compared with "
    "the differential oracle's GD step (tests/oracles.py): the hypothesis gradient_descent_iterates is "
    "that defect within its rounding tolerance, and a larger defect is itself a violation (an engine "
    "that is not GD). Metrics: the largest share of the allowed "
    "increment used, (R(t+1) - R(t)) / (eta (1+R)^L sqrt(2 loss)), for the slide's exponent L and for "
    "the sharper derived exponent L - 1 (attained with equality: ratio 1). (1+R)^L is evaluated in log "
    "space (rotations far from I reach (1+R)^L = 3^1000). Sensitivity tests: sqrt(loss) for "
    "sqrt(2 loss), exponent L - 2, and an engine taking steps of 2 eta.",
    tags=("deep linear", "gradient descent", "B5"),
    # the sharper form is attained (ratio 1): a drop means the engine's steps shrank
    tracked=(Tracked(SHARPER_RATIO_METRIC, "higher", atol=1e-6),),
)
