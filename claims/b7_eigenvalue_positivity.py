r"""B7 (proof idea). The eigenvalue coordinates stay positive [slide "Symmetric linear
functions: proof idea" (b): *The eigenvalues stay positive*; conditions derived here].

Statement of record (slide "Symmetric linear functions: proof idea" (b)): *(b) The eigenvalues
stay positive* (the proof idea of the negative-eigenvalue theorem: along the decoupled dynamics of
B8 no coordinate reaches 0, so the product :math:`x^L` never reaches a negative eigenvalue of
:math:`\Phi`). The slide gives no condition; the conditions (A), (B) below are derived.

.. math::

   L \ge 2,\ \eta(1 - \mu_j) < 1,\ \eta L \max(\mu_j, 0)^{2-2/L} \le 1\ \forall j\ \Rightarrow\
   0 < x_j^{(t)} \le \max(1, \mu_j^{1/L})\ \ \forall t,\quad x_j \leftarrow x_j + \eta x_j^{L-1}(\mu_j - x_j^L),
   \ x_j^{(0)} = 1

Conventions [derived]: :math:`\mu` is an eigenvalue of symmetric :math:`\Phi` (any sign), plain GD
(:math:`\kappa = 0`), the identity start (``start_radius`` :math:`= \max_j|x_j^{(0)} - 1|`, or
:math:`\max_i\|\Theta_i^{(0)} - I\|_2` for full GD, read from the data), (A) is vacuous for
:math:`\mu \ge 1`; without a step condition positivity fails (the first step
:math:`x_1 = 1 - \eta(1 - \mu)` is negative as soon as :math:`\eta > 1/(1 - \mu)`). What is
measured is quantitative: :math:`x_{t+1} \ge (1 - c)\,x_t` with :math:`c = \eta\max(0, 1 - \mu) < 1`,
and :math:`x_t \le M := \max(1, \mu^{1/L})`.

Proof. Exactly: :math:`x_{t+1} = x_t\,(1 - \eta x_t^{L-2}(x_t^L - \mu))`, so from :math:`x_t > 0` the
next iterate is positive iff :math:`\eta x_t^{L-2}(x_t^L - \mu) < 1` (the per-step condition;
:math:`\eta x^{L-2}|x^L - \mu| < 1` is sufficient). Induction on :math:`x \in (0, M]`:
if :math:`x^L \ge \mu`, then :math:`g(x) \le x \le M`; for :math:`\mu \ge 1` this forces
:math:`x = M` and :math:`g(x) = x`; for :math:`\mu < 1`, :math:`M = 1`, :math:`x^{L-2} \le 1` and
:math:`0 \le x^L - \mu \le 1 - \mu`, so :math:`x_{t+1}/x_t \ge 1 - \eta(1 - \mu) > 0` by (A).
If :math:`x^L < \mu`, then :math:`g(x) > x > 0`, and
:math:`g'(y) \ge 1 - \eta L y^{2L-2} \ge 1 - \eta L \mu^{2-2/L} \ge 0` on
:math:`[0, \mu^{1/L}]` by (B), so :math:`g(x) \le g(\mu^{1/L}) = \mu^{1/L} \le M`. :math:`\square`

(A) is also necessary for :math:`\mu < 1` (the first step), so for :math:`\mu \le 0` positivity
holds exactly for :math:`\eta < 1/(1 - \mu)`. The slide's step :math:`\eta \le 1/(L(1 +
\|\Phi\|^2))` (B6) implies (A) and (B) for every eigenvalue when :math:`L \ge 2`:
:math:`\eta(1 - \mu) \le \frac{1 + |\mu|}{L(1 + \mu^2)} \le \frac{1 + \sqrt2}{2L} < 1` and
:math:`\eta L\mu^{2-2/L} \le \mu^{2-2/L}/(1 + \mu^2) \le 1`. For :math:`L = 1` positivity fails for
every :math:`\mu < 0` (the iterates converge to :math:`\mu`).

Depth parity: positivity does not depend on it, the loss bound of B7 does. For even :math:`L`,
:math:`x^L \ge 0` whatever the sign of :math:`x`, so B7's bound survives the loss of positivity
(large steps). For odd :math:`L`, :math:`\ell(t) < \lambda^2/2` forces the coordinate of
:math:`-\lambda` to be negative at :math:`t`: losing positivity is exactly what lets GD reach a
negative eigenvalue.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def _spectrum(inst) -> np.ndarray:
    """The eigenvalues mu_j of the instance's target (``spectrum``: drawn, or eigvalsh of ``Phi``)."""
    return np.asarray(inst["spectrum"], dtype=float).ravel()


def condition_a(mu, depth: int, step) -> np.ndarray:
    r"""(A) :math:`\eta(1 - \mu) < 1` per eigenvalue."""
    return step * (1.0 - np.asarray(mu, dtype=float)) < 1.0


def condition_b(mu, depth: int, step) -> np.ndarray:
    r"""(B) :math:`\eta L\max(\mu, 0)^{2 - 2/L} \le 1` per eigenvalue."""
    mu = np.maximum(np.asarray(mu, dtype=float), 0.0)
    return step * depth * mu ** (2.0 - 2.0 / depth) <= 1.0


def sufficient_step(mu, depth: int) -> np.ndarray:
    r"""Per eigenvalue, the supremum of steps meeting (A) and (B):
    :math:`\min\big(1/(1 - \mu)\ [\mu < 1],\ 1/(L\mu^{2-2/L})\ [\mu > 0]\big)` (``inf`` if none
    applies); (A) is strict, so the step must stay below it where (A) binds."""
    mu = np.asarray(mu, dtype=float)
    with np.errstate(divide="ignore"):
        a = np.where(mu < 1.0, 1.0 / np.maximum(1.0 - mu, 1e-300), np.inf)
        b = np.where(mu > 0.0, 1.0 / (depth * np.maximum(mu, 1e-300) ** (2.0 - 2.0 / depth)), np.inf)
    return np.minimum(a, b)


def slide_step_for(mu, depth: int) -> float:
    r"""The slide's step :math:`1/(L(1 + \|\Phi\|_2^2))` for :math:`\Phi` with spectrum ``mu``."""
    return 1.0 / (depth * (1.0 + float(np.max(np.abs(mu))) ** 2))


def contraction(mu, step) -> np.ndarray:
    r""":math:`c = \eta\max(0, 1 - \mu)`: each step keeps at least the fraction :math:`1 - c` of the
    coordinate (attained at :math:`t = 0`, where :math:`x = 1`, when :math:`\mu < 1`)."""
    return step * np.maximum(0.0, 1.0 - np.asarray(mu, dtype=float))


def upper_invariant(mu, depth: int) -> np.ndarray:
    r""":math:`M = \max(1, \mu^{1/L})`."""
    mu = np.asarray(mu, dtype=float)
    return np.maximum(1.0, np.maximum(mu, 0.0) ** (1.0 / depth))


def per_step_condition(x, mu, depth: int, step):
    r""":math:`\eta x^{L-2}(x^L - \mu)`; from :math:`x > 0`, the next iterate is positive iff this is
    :math:`< 1` (exactly: :math:`x_{t+1} = x_t(1 - \cdot)`)."""
    x = np.asarray(x, dtype=float)
    return step * x ** (depth - 2) * (x**depth - np.asarray(mu, dtype=float))


CLAIM = Claim(
    id="b7_eigenvalue_positivity",
    title="Decoupled dynamics from x = 1: every coordinate stays in (0, max(1, mu^{1/L})] when L >= 2, "
    "eta (1 - mu) < 1 and eta L max(mu, 0)^{2-2/L} <= 1 (implied by the slide's step)",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("depth_at_least_2", r"L \ge 2", lambda inst: int(inst["L"]) >= 2),
        Hypothesis("step_condition_A", r"\eta(1 - \mu_j) < 1\ \forall j",
                   lambda inst: bool(np.all(condition_a(_spectrum(inst), int(inst["L"]), inst["step"])))),
        Hypothesis("step_condition_B", r"\eta L\max(\mu_j, 0)^{2-2/L} \le 1\ \forall j",
                   lambda inst: bool(np.all(condition_b(_spectrum(inst), int(inst["L"]), inst["step"])))),
        Hypothesis("plain_gd", r"\kappa = 0", lambda inst: inst["penalty"] == 0),
        Hypothesis("identity_start", r"x_j^{(0)} = 1\ (\Theta_i^{(0)} = I)", lambda inst: inst["start_radius"] == 0),
        Hypothesis("symmetric_target", r"\Phi = \Phi^\top\ (\text{spectrum } \mu;\ \text{fast path: } \Phi = \mathrm{diag}(\mu))",
                   lambda inst: bool(np.array_equal(np.asarray(inst["Phi"]), np.asarray(inst["Phi"]).T))),
    ),
    conclusion=r"\min_{t,j} \frac{x_j^{(t+1)}}{(1 - c_j)\,x_j^{(t)}} \ge 1\ (c_j = \eta\max(0, 1 - \mu_j))\ "
    r"\text{and}\ \max_{t,j} x_j^{(t)}/\max(1, \mu_j^{1/L}) \le 1",
    kind=Kind.INVARIANT,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Symmetric linear functions: proof idea" (b)'),
        Reference("BHL18", "1802.06093", "symmetric case, negative-eigenvalue result (positivity of the "
                  "layers' eigenvalues; conditions here derived)"),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    notes="The slide states positivity with no condition; without a step condition it fails (mu = -1, L = 2, "
    "eta = 1/2 gives x_1 = 0). (A) is necessary for mu < 1, so for mu <= 0 positivity holds exactly for "
    "eta < 1/(1 - mu); the slide's step 1/(L(1 + ||Phi||^2)) implies (A) and (B) for L >= 2. Where it stops, "
    "per L and eigenvalue: see the table. For even L the loss bound of B7 survives the loss of positivity; for "
    "odd L it does not.",
)
