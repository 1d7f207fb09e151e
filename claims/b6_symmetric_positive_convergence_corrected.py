r"""B6, corrected. Symmetric positive :math:`\Phi`: an explicit linear-rate budget, polynomial in
:math:`(1/\eta, 1/\gamma)` and :math:`\log(d/\epsilon)` [derived from the slide's scalar recurrence
(B8); replaces the slide's poly(L, ||Φ||/γ, 1/η), refuted in ``b6_symmetric_positive_convergence``].

Statement of record (derived here from the slide "Symmetric linear functions", Proof idea (a), the
decoupled recurrence): let :math:`\Phi = \Phi^\top` with :math:`\lambda_{\min}(\Phi) > \gamma`,
:math:`0 < \gamma < 1`, any depth :math:`L \ge 1`, :math:`\eta \le 1/(L(1 + \|\Phi\|_2^2))`, identity
start. With :math:`q = 1 - \eta L\gamma^{2 - 2/L}` and
:math:`K = \max\big(\ln(1/\gamma),\ \|\Phi\|_2\ln^+\|\Phi\|_2\big)`, for every :math:`t \ge 0`:
:math:`\ell(\Theta^{(t)}) \le \tfrac d2 K^2 q^{2t}`; hence :math:`\ell \le \epsilon` after
:math:`T(\epsilon) = \lceil \ln(dK^2/(2\epsilon))/(-2\ln q) \rceil` iterations, which is
:math:`\le \eta^{-1}\gamma^{-2}(1 + 2\ln^+K)\ln(d/\epsilon)` for :math:`\epsilon \le d/e`.

.. math::

   \Phi = \Phi^\top,\ \lambda_{\min}(\Phi) > \gamma,\ 0 < \gamma < 1,\ L \ge 1,\
   \eta \le \frac{1}{L(1 + \|\Phi\|_2^2)}\ \Rightarrow\ \ell(\Theta^{(t)}) \le \tfrac d2 K^2 q^{2t},\
   q = 1 - \eta L\gamma^{2-2/L},\ K = \max(\ln\tfrac1\gamma, \|\Phi\|_2\ln^+\|\Phi\|_2);\
   \text{so}\ \ell \le \epsilon\ \text{after}\
   T(\epsilon) = \Big\lceil\frac{\ln(dK^2/2\epsilon)}{-2\ln q}\Big\rceil
   \le \eta^{-1}\gamma^{-2}(1 + 2\ln^+K)\ln(d/\epsilon)

The slide's :math:`L \ge c_3\ln(\|\Phi\|/\gamma)` is not needed (:math:`c_3 = 0`). The bound
:math:`T(\epsilon) \le \lceil(\ln(d/\epsilon) + 2\ln K - \ln 2)/(2\eta L\gamma^{2-2/L})\rceil` makes the
budget polynomial in :math:`1/\eta`, :math:`1/\gamma` (and :math:`\ln^+\|\Phi\|`), linear in
:math:`\log(d/\epsilon)`. When :math:`\|\Phi\|_2 \ge 1`, :math:`1/\gamma \le \|\Phi\|_2/\gamma`, which
recovers the slide's form.

Proof [derived]. By B8 every layer is :math:`U\mathrm{diag}(x)U^\top` and each coordinate follows
:math:`x \leftarrow x + \eta x^{L-1}(\mu - x^L)` from :math:`x = 1`, :math:`x^* = \mu^{1/L}`. For
:math:`\gamma < \mu < 1`: by the mean value theorem on :math:`x^L` over :math:`[x^*, x]`,
:math:`Lx^{*L-1}(x - x^*) \le x^L - \mu \le Lx^{L-1}(x - x^*)`; so with :math:`x \le 1`,
:math:`\eta L \le 1` there is no overshoot and :math:`x_{t+1} - x^* \le (1 - \eta L\mu^{2-2/L})(x_t - x^*)`;
the loss term is :math:`\tfrac12(x^L - \mu)^2 \le \tfrac12 L^2(x - x^*)^2` with
:math:`L(1 - x^*_0) \le \ln(1/\mu)`. For :math:`\mu > 1`, symmetrically from below with
:math:`x \ge 1`: contraction :math:`1 - \eta L`, no overshoot since
:math:`\eta L\mu^{2-2/L} \le \mu^{2-2/L}/(1 + \mu^2) < 1`, and
:math:`\mu - x^L \le L\mu^{1-1/L}(x^* - x) \le \mu\ln\mu\,(1-\eta L)^t`. Every coordinate contracts
at least by :math:`q` since :math:`\min(1, \mu^{2-2/L}) \ge \gamma^{2-2/L}`; sum over the d
coordinates. The bound is asymptotically tight (within the constant :math:`K`) when
:math:`\lambda_{\min}(\Phi) \to \gamma`.
"""
from __future__ import annotations

import math

import numpy as np

from .b6_symmetric_positive_convergence import margin_edge, max_step, spectral_norm, step_edge
from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, Tracked, statement_of_record


def prefactor(gamma: float, norm: float) -> float:
    r""":math:`K = \max(\ln(1/\gamma), \|\Phi\|\ln^+\|\Phi\|)`."""
    return max(math.log(1.0 / gamma), norm * math.log(norm) if norm > 1 else 0.0)


def contraction(eta: float, L: int, gamma: float) -> float:
    r""":math:`q = 1 - \eta L\gamma^{2-2/L}` (per-step contraction of every eigenvalue gap)."""
    return 1.0 - eta * L * gamma ** (2.0 - 2.0 / L)


def log_bound(t, d: int, L: int, eta: float, gamma: float, norm: float) -> np.ndarray:
    r""":math:`\ln\big(\tfrac d2 K^2 q^{2t}\big)`."""
    K = prefactor(gamma, norm)
    return math.log(0.5 * d * K * K) + 2.0 * np.asarray(t, dtype=float) * math.log(contraction(eta, L, gamma))


def budget(d: int, L: int, eta: float, gamma: float, norm: float, eps: float, *, q: float | None = None) -> int:
    r""":math:`T(\epsilon) = \lceil\ln(dK^2/(2\epsilon))/(-2\ln q)\rceil` (0 if the bound starts below eps)."""
    K = prefactor(gamma, norm)
    q = contraction(eta, L, gamma) if q is None else q
    top = math.log(0.5 * d * K * K / eps)
    return 0 if top <= 0 else int(math.ceil(top / (-2.0 * math.log(q))))


def polynomial_budget(d: int, L: int, eta: float, gamma: float, norm: float, eps: float) -> float:
    r"""The polynomial form :math:`\eta^{-1}\gamma^{-2}(1 + 2\ln^+K)\ln(d/\epsilon)` (for :math:`\epsilon \le d/e`)."""
    K = prefactor(gamma, norm)
    return (1.0 + 2.0 * max(0.0, math.log(K))) * math.log(d / eps) / (eta * gamma * gamma)


#: Metric names shared with the tests (tracked by the regression gate).
BUDGET_METRIC = "iterations to eps / budget T(eps)"
FAST_PATH_METRIC = "full GD vs fast path: max abs(loss difference) / loss(0)"


def _step_ok(inst) -> bool:
    return 0 < inst["eta"] <= max_step(inst["L"], spectral_norm(inst["spectrum"])) * (1 + 1e-12)


CLAIM = Claim(
    id="b6_symmetric_positive_convergence_corrected",
    title="Symmetric Phi with margin gamma: loss <= (d/2) K^2 q^(2t), q = 1 - eta L gamma^(2-2/L) "
    "(budget polynomial in 1/eta, 1/gamma; any L)",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("symmetric", r"\Phi = \Phi^\top\ (\max_{jk}|\Phi_{jk} - \Phi_{kj}| = 0)",
                   lambda inst: inst["asymmetry"] == 0),
        Hypothesis("margin", r"0 < \gamma < 1,\ \lambda_{\min}(\Phi) > \gamma",
                   lambda inst: 0 < inst["gamma"] < 1 and min(inst["spectrum"]) > inst["gamma"],
                   edge=margin_edge),
        Hypothesis("step", r"\eta \le 1/(L(1 + \|\Phi\|_2^2))", _step_ok, edge=step_edge),
        Hypothesis("accuracy", r"\epsilon > 0", lambda inst: inst["eps"] > 0),
    ),
    conclusion=r"\ell(\Theta^{(t)}) \le \tfrac d2 K^2 q^{2t}\ \forall t \le T(\epsilon),\ \text{so}\ "
    r"\ell(\Theta^{(T(\epsilon))}) \le \epsilon",
    kind=Kind.RATE,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Symmetric linear functions", Proof idea (a): the '
                  "decoupled recurrence"),
        Reference("BHL18", "1802.06093", "symmetric positive definite case"),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    tracked=(
        Tracked(BUDGET_METRIC, "lower", rtol=0.02),
        Tracked(FAST_PATH_METRIC, "lower", atol=1e-12),
    ),
    notes="Slack is 1 - max_t loss(t) / ((d/2) K^2 q^(2t)) over the run (until loss <= eps or T(eps)). "
    "The search includes depths below the slide's L >= ln(||Phi||/gamma) (c_3 = 1): the proof does not use "
    "it. Large sweeps use the symmetric fast path (equal to full GD by B8, cross-checked here on small "
    "instances); iteration counts against L, ||Phi||/gamma and log(d/eps), with fitted exponents and the "
    "measured linear rates against the fixed point's 1 - eta L lambda_min^(2-2/L), are tabulated below.",
)
