r"""B3 as a Polyak–Łojasiewicz inequality: the per-step linear rate it predicts along gradient
descent, with the step and the smoothness at hand [slide "Deep compositions of near-identities:
Questions": "Implications for optimization? Related to Polyak-Łojasiewicz function classes";
derived from the corrected B3 and the descent lemma].

Statement of record (derived; the slide relates the question to PL function classes, and the
corrected B3 is a PL inequality :math:`\|\nabla\ell\|^2 \ge \mu\ell` with
:math:`\mu = 2L(1-a)^{2(L-1)}`): for :math:`\ell(\Theta) = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2`, one
gradient step :math:`\Theta^+ = \Theta - \eta\nabla\ell(\Theta)`, :math:`a = \max_i(1 - \sigma_{\min}(\Theta_i)) < 1`,
:math:`\mu = 2L(1-a)^{2(L-1)}`, :math:`M = \max_i\max(\|\Theta_i\|_2, \|\Theta^+_i\|_2)` and the
smoothness bound on the segment :math:`[\Theta, \Theta^+]`
:math:`\beta = LM^{2(L-1)} + (L-1)M^{L-2}\big(\|\Theta_{1:L} - \Phi\|_F + \sqrt L M^{L-1}\eta\|\nabla\ell(\Theta)\|_F\big)`,

.. math::

   a < 1,\ \eta\beta \le 2\ \Rightarrow\
   \ell(\Theta^+) \le \big(1 - \eta\mu(1 - \beta\eta/2)\big)\,\ell(\Theta),\qquad
   \mu = 2L(1-a)^{2(L-1)}

Proof. Write :math:`P = \Theta_{1:L}`, :math:`E = P - \Phi`, :math:`g = \nabla\ell(\Theta)`.

1. *PL* (``b3_gradient_lower_bound_corrected``): :math:`\|g\|_F^2 \ge \mu\,\ell(\Theta)`.
2. *Smoothness on the segment* :math:`\Theta(s) = \Theta - s\eta g`, :math:`s \in [0, 1]`: the norm is
   convex, so :math:`\|\Theta_i(s)\|_2 \le M`. For a direction :math:`V`,
   :math:`\nabla^2\ell[V, V] = \|DP[V]\|_F^2 + \langle E(s), D^2P[V, V]\rangle` with
   :math:`\|DP[V]\|_F \le M^{L-1}\sum_i\|V_i\|_F \le \sqrt L M^{L-1}\|V\|` and
   :math:`|\langle E, D^2P[V, V]\rangle| \le 2\sum_{i<j}\|E\|_F M^{L-2}\|V_i\|_F\|V_j\|_F \le (L-1)M^{L-2}\|E\|_F\|V\|^2`
   (:math:`2\sum_{i<j}x_ix_j \le (L-1)\sum_i x_i^2`). Along the segment
   :math:`\|E(s)\|_F \le \|E\|_F + \|P(s) - P\|_F \le \|E\|_F + \sqrt L M^{L-1}\eta\|g\|_F` (the first
   bound, integrated). So :math:`\nabla^2\ell \preceq \beta I` on the segment.
3. *Descent lemma* (Taylor with integral remainder on the segment):
   :math:`\ell(\Theta^+) \le \ell(\Theta) - \eta\|g\|^2 + \tfrac{\beta\eta^2}{2}\|g\|^2
   = \ell(\Theta) - \eta(1 - \beta\eta/2)\|g\|^2`; with :math:`1 - \beta\eta/2 \ge 0` step 1 gives the
   claim. (This is Karimi–Nutini–Schmidt's Theorem 1 with the global :math:`\beta` replaced by one
   on the segment actually travelled.)

For :math:`L = 1` both inequalities are equalities (:math:`\ell = \tfrac12\|\Theta - \Phi\|^2`,
:math:`\|g\|^2 = 2\ell`, :math:`\beta = 1` is the exact curvature), so the predicted ratio is the
observed one exactly: the check is tight there.

Why this :math:`\beta` and not the corrected B4 bound: ``b4_hessian_bound_bounded_target`` bounds
the Frobenius norm, :math:`3Ld^2(1+z)^{2L-2}`, so :math:`\beta\eta/2 \ge 3d^2\eta L/2`, which exceeds 1
already at :math:`d = 2`, :math:`\eta = 1/(4L)`: the prediction would be vacuous. The operator-norm
bound of step 2 (B2's proof, step 4, with :math:`L - 1` for :math:`L`) is used; it is rigorous on
the segment, not a measured curvature. The tests measure how conservative the prediction is:
observed contraction :math:`1 - \ell(t+1)/\ell(t)` over predicted :math:`\eta\mu_t(1 - \beta_t\eta/2)`,
split into the PL factor :math:`\|g_t\|^2/(\mu_t\ell_t)` and the descent-lemma factor
:math:`(\ell_t - \ell_{t+1})/(\eta(1 - \beta_t\eta/2)\|g_t\|^2)`.
"""
from __future__ import annotations

import math

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record

#: Metric names shared with the tests.
CONTRACTION_RATIO_METRIC = "observed / predicted contraction (1 - r_t) / (1 - q_t), median over a run's steps"
PL_FACTOR_METRIC = "PL factor ||grad||^2 / (mu loss)"
DESCENT_FACTOR_METRIC = "descent-lemma factor (loss_t - loss_t+1) / (eta (1 - beta eta/2) ||grad||^2)"


def pl_modulus(L: int, a: float) -> float:
    r""":math:`\mu = 2L(1 - a)^{2(L-1)}`, the PL modulus of the corrected B3 (``a < 1``)."""
    return 2.0 * L * math.exp(2 * (L - 1) * math.log1p(-a))


def segment_smoothness(L: int, layer_norm: float, residual_fro: float, step_length: float) -> float:
    r""":math:`\beta = LM^{2(L-1)} + (L-1)M^{L-2}(\|E\|_F + \sqrt L M^{L-1}\eta\|g\|_F)` (step 2 of the
    proof): ``layer_norm`` :math:`M` bounds every layer on the segment, ``residual_fro`` is
    :math:`\|E\|_F` at its start and ``step_length`` :math:`\eta\|g\|_F` its length."""
    M = layer_norm
    curvature = L * M ** (2 * (L - 1))
    if L == 1:  # the product is linear in the one layer: no second-order term
        return curvature
    residual_on_segment = residual_fro + math.sqrt(L) * M ** (L - 1) * step_length
    return curvature + (L - 1) * M ** (L - 2) * residual_on_segment


def predicted_ratio(eta: float, mu: float, beta: float) -> float:
    r""":math:`q = 1 - \eta\mu(1 - \beta\eta/2)`, the PL + descent-lemma bound on :math:`\ell(\Theta^+)/\ell(\Theta)`."""
    return 1.0 - eta * mu * (1.0 - 0.5 * beta * eta)


CLAIM = Claim(
    id="b3_polyak_lojasiewicz_rate",
    title="PL rate along GD: loss(t+1) <= (1 - eta mu_t (1 - beta_t eta/2)) loss(t), mu_t = 2L(1-a_t)^(2(L-1))",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("layers_invertible", r"a = \max_i(1 - \sigma_{\min}(\Theta_i)) < 1",
                   lambda inst: inst["a"] < 1, edge=lambda inst: 1 - inst["a"]),
        Hypothesis("descent_step", r"\eta\beta \le 2\ (\beta\ \text{the smoothness bound on the segment})",
                   lambda inst: inst["eta"] * inst["beta"] <= 2, edge=lambda inst: 1 - inst["eta"] * inst["beta"] / 2),
    ),
    conclusion=r"\ell(\Theta^{(t+1)}) / \ell(\Theta^{(t)}) \le 1 - \eta\mu_t(1 - \beta_t\eta/2)",
    kind=Kind.RATE,
    references=(
        Reference("Bartlett 2018 slides", None,
                  'slide "Deep compositions of near-identities: Questions" ("Related to Polyak-Łojasiewicz '
                  'function classes")'),
        Reference("HM16", "1611.04231", "Lemma 2.3 (gradient lower bound), with f = 2 * loss"),
        Reference("KNS16", "1608.04636", "Theorem 1 (linear rate of GD under the PL inequality)"),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    notes="Checked on every step of GD runs from the identity (Phi = I + s D, s <= 1/2, several d, L and "
    "eta L in {1/4, 1/2, 1}); each run records its worst step (the largest observed ratio against the "
    "prediction, among steps that hold the hypotheses and whose loss is above its rounding floor). "
    "The report gives, per (d, L, eta), observed over predicted contraction and its split into the PL "
    "factor and the descent-lemma factor.",
    tags=("deep linear", "PL", "rate", "B3"),
)
