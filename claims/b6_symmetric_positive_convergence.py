r"""B6. Symmetric positive :math:`\Phi`: gradient descent converges [slide "Optimization in deep
linear residual networks", Theorem (a); BHL18].

Statement of record (slide "Optimization in deep linear residual networks", Theorem (a)): *Suppose*
:math:`\Phi` *is symmetric. There is an absolute positive constant* :math:`c_3` *such that if*
:math:`\Phi` *has margin* :math:`0 < \gamma < 1`, :math:`L \ge c_3\ln(\|\Phi\|_2/\gamma)`, *and*
:math:`\eta \le \frac{1}{L(1 + \|\Phi\|_2^2)}`, *after*
:math:`t = \mathrm{poly}(L, \|\Phi\|_2/\gamma, 1/\eta)\log(d/\epsilon)` *iterations, gradient descent
achieves* :math:`\ell(\Theta^{(t)}) \le \epsilon` (identity start; margin: :math:`u^\top\Phi u > \gamma`
for all unit :math:`u`, i.e. :math:`\lambda_{\min}(\Phi) > \gamma`).

.. math::

   \Phi = \Phi^\top,\ \lambda_{\min}(\Phi) > \gamma,\ 0 < \gamma < 1,\ L \ge c_3\ln(\|\Phi\|_2/\gamma),\
   \eta \le \frac{1}{L(1 + \|\Phi\|_2^2)}\ \Rightarrow\ \ell(\Theta^{(t)}) \le \epsilon\ \text{for}\
   t \ge \mathrm{poly}(L, \|\Phi\|_2/\gamma, 1/\eta)\log(d/\epsilon)

:math:`c_3` is unspecified; this suite takes :math:`c_3 = 1`. Symmetry is read from the data: the
hypothesis is :math:`\max_{jk}|\Phi_{jk} - \Phi_{kj}| = 0` (:func:`asymmetry`, of the target actually
run; exact, since the strategies symmetrize exactly).

**False as written**: no polynomial of :math:`(L, \|\Phi\|_2/\gamma, 1/\eta)` alone bounds the
iteration count, because the count scales with :math:`1/\gamma` at a fixed ratio
:math:`\|\Phi\|_2/\gamma`. Family: :math:`d = 1`, :math:`L = 2`, :math:`\Phi = \mu` with
:math:`0 < \mu < 1`, :math:`\gamma = 0.99\mu` (so :math:`\|\Phi\|/\gamma = 1/0.99` and
:math:`L = 2 \ge c_3\ln(1/0.99)` for every :math:`c_3 \le 198`), :math:`\eta = 1/(L(1 + \mu^2))`
(so :math:`1/\eta \in [2, 4]`), :math:`\epsilon = \mu^2/100`. Every argument of the polynomial
stays in a compact box, so any candidate is bounded there by some :math:`M`; yet

.. math::  \frac{T(\epsilon)}{\ln(d/\epsilon)} \;\to\; \frac{1}{-2\ln(1 - \eta L\mu^{2-2/L})}
           \;\ge\; \frac{1 - \eta L\mu}{2\eta L\mu} \quad(\epsilon \to 0,\ L = 2),

[derived]: along the scalar recurrence (B8) :math:`x \leftarrow x + \eta x^{L-1}(\mu - x^L)` the
iterate decreases monotonically to :math:`x^* = \mu^{1/L}` (for :math:`\eta L \le 1`), with
derivative :math:`q = 1 - \eta L\mu^{2-2/L}` at the fixed point, so the loss decays like
:math:`q^{2t}` and no faster; and the transient from :math:`x = 1` down to :math:`x^*` also takes
:math:`\Theta(1/(\eta L \mu^{2-2/L}))` steps. The ratio grows like :math:`\mu^{-(2-2/L)}` and
exceeds every :math:`M` once :math:`\mu < 1/(2M + 2)`. The margin :math:`\gamma` does not enter the
dynamics (nor :math:`\eta` or :math:`\epsilon` of the family), so the refutation holds for **every**
:math:`c_3 > 0`: with :math:`\gamma = \mu e^{-L/c_3}` the depth condition holds (with equality) and
:math:`\|\Phi\|/\gamma = e^{L/c_3}` stays fixed along the family, whose counts are unchanged; no depth
condition rescues the slide's form (the corrected variant needs none, its atlas row :math:`c_3 = 0`). The statement holds when
:math:`\|\Phi\|_2 \ge 1` (then :math:`1/\gamma \le \|\Phi\|_2/\gamma`); the corrected variant
``b6_symmetric_positive_convergence_corrected`` lets the polynomial depend on :math:`1/\gamma`, gives
it explicitly, and drops the depth condition (not needed by its proof).
"""
from __future__ import annotations

import math

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record

#: The suite's choice of the slide's unspecified absolute constant c_3.
C3 = 1.0
#: The largest c_3 the family's depth L = 2 still satisfies for every member (2 / ln(1/0.99) = 199.0):
#: the refutation holds for every c_3 up to it, not only for C3.
C3_COVERED = 198.0
#: The counterexample family: gamma = GAMMA_FRACTION * mu, eps = EPS_FRACTION * mu^2.
GAMMA_FRACTION = 0.99
EPS_FRACTION = 1e-2


def spectral_norm(spectrum) -> float:
    return float(np.max(np.abs(np.asarray(spectrum, dtype=float))))


def max_step(L: int, norm: float) -> float:
    r"""The slide's largest step :math:`1/(L(1 + \|\Phi\|_2^2))`."""
    return 1.0 / (L * (1.0 + norm * norm))


def depth_ok(L: int, norm: float, gamma: float, c3: float = C3) -> bool:
    r""":math:`L \ge c_3\ln(\|\Phi\|_2/\gamma)`."""
    return L >= c3 * math.log(norm / gamma)


def asymptotic_iterations_per_nat(mu: float, L: int, eta: float) -> float:
    r"""The exact limit of :math:`T(\epsilon)/\ln(1/\epsilon)` as :math:`\epsilon \to 0` for
    :math:`\Phi = \mu I`: :math:`1/(-2\ln(1 - \eta L\mu^{2-2/L}))` (the fixed point's derivative)."""
    return 1.0 / (-2.0 * math.log1p(-eta * L * mu ** (2.0 - 2.0 / L)))


def asymmetry(Phi) -> float:
    r""":math:`\max_{jk}|\Phi_{jk} - \Phi_{kj}|` of a dense array or a scipy sparse matrix (the
    symmetric fast path's diagonal targets are given as ``scipy.sparse.diags(mu, format="csr")``)."""
    return float(abs(Phi - Phi.T).max())


def family_member(mu: float, L: int = 2) -> dict:
    """The counterexample family's member at mu: d = 1, Phi = [[mu]], gamma = 0.99 mu, the
    slide's largest step, eps = mu^2 / 100 (the polynomial's arguments stay bounded, the count
    does not)."""
    Phi = np.array([[mu]])
    return {"d": 1, "L": L, "mu": mu, "Phi": Phi, "spectrum": [mu], "asymmetry": asymmetry(Phi),
            "gamma": GAMMA_FRACTION * mu, "eta": max_step(L, mu), "eps": EPS_FRACTION * mu * mu}


def _step_ok(inst) -> bool:
    return 0 < inst["eta"] <= max_step(inst["L"], spectral_norm(inst["spectrum"])) * (1 + 1e-12)


def step_edge(inst) -> float:
    r""":math:`1 - \eta L(1 + \|\Phi\|^2)` (0 at the slide's largest step)."""
    return 1.0 - inst["eta"] / max_step(inst["L"], spectral_norm(inst["spectrum"]))


def margin_edge(inst) -> float:
    r""":math:`(\lambda_{\min}(\Phi) - \gamma)/\gamma`, and :math:`\min(\gamma, 1 - \gamma)` for
    :math:`0 < \gamma < 1`."""
    return min((min(inst["spectrum"]) - inst["gamma"]) / inst["gamma"], inst["gamma"], 1 - inst["gamma"])


CLAIM = Claim(
    id="b6_symmetric_positive_convergence",
    title="Symmetric Phi with margin gamma: GD reaches eps in poly(L, ||Phi||/gamma, 1/eta) log(d/eps) iterations",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("symmetric", r"\Phi = \Phi^\top\ (\max_{jk}|\Phi_{jk} - \Phi_{kj}| = 0)",
                   lambda inst: inst["asymmetry"] == 0),
        Hypothesis("margin", r"0 < \gamma < 1,\ \lambda_{\min}(\Phi) > \gamma",
                   lambda inst: 0 < inst["gamma"] < 1 and min(inst["spectrum"]) > inst["gamma"],
                   edge=margin_edge),
        Hypothesis("depth", r"L \ge c_3\ln(\|\Phi\|_2/\gamma),\ c_3 = 1",
                   lambda inst: depth_ok(inst["L"], spectral_norm(inst["spectrum"]), inst["gamma"]),
                   edge=lambda inst: inst["L"] - C3 * math.log(spectral_norm(inst["spectrum"]) / inst["gamma"])),
        Hypothesis("step", r"\eta \le 1/(L(1 + \|\Phi\|_2^2))", _step_ok, edge=step_edge),
        Hypothesis("accuracy", r"\epsilon > 0", lambda inst: inst["eps"] > 0),
    ),
    conclusion=r"\sup_{\text{instances}} \frac{T(\epsilon)}{\log(d/\epsilon)} < \infty\ \text{on every set where}\ "
    r"(L, \|\Phi\|_2/\gamma, 1/\eta)\ \text{is bounded}",
    kind=Kind.RATE,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Optimization in deep linear residual networks", Theorem (a)'),
        Reference("BHL18", "1802.06093", "symmetric positive definite case (abstract: polynomial in L, the "
                  "condition number and log(d/eps))"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.REFUTED,
    corrected_variant="b6_symmetric_positive_convergence_corrected",
    notes="Refuted as written: along Phi = mu (d = 1, L = 2), gamma = 0.99 mu, eta = 1/(L(1 + mu^2)), "
    "eps = mu^2/100 the arguments (L, ||Phi||/gamma, 1/eta) stay in {2} x {1/0.99} x [2, 2.02] while "
    "T(eps)/ln(d/eps) grows like mu^-(2-2/L) (measured and fitted below), so no polynomial of these "
    "arguments bounds it. The slide's form holds when ||Phi|| >= 1 (1/gamma <= ||Phi||/gamma); the corrected "
    "variant adds 1/gamma to the polynomial's arguments with an explicit budget.",
)
