r"""A1, first published form. Near-identity factorization with HM16's earlier constant
:math:`(4\pi + 3\gamma)/m` [HM16 Thm 2.1, earlier arXiv version; unverified].

Statement of record (HM16 Thm 2.1 as an earlier arXiv version is quoted by a secondary summary
[unverified]: "there exists a global minimum :math:`A^\star` of the population risk fulfilling
:math:`\max_i\|A^\star_i\| \le \frac1\ell(4\pi + 3\gamma)` whenever :math:`\ell \ge 3\gamma`"):

.. math::

   \det A > 0,\ m \ge 3\gamma \Rightarrow \exists A_1,\dots,A_m:\
   A = (I + A_m)\cdots(I + A_1),\ \max_i \|A_i\|_2 \le \frac{4\pi + 3\gamma}{m},
   \quad \gamma = \max(|\log\sigma_{\max}(A)|, |\log\sigma_{\min}(A)|)

**The two published forms compared** [derived]. The later form (ICLR 2017 text, claim
``a1_near_identity_factorization``) is :math:`2(\sqrt\pi + \sqrt{3\gamma})^2/m = (2\pi +
4\sqrt{3\pi\gamma} + 6\gamma)/m`. Neither dominates: with :math:`s = \sqrt\gamma`,
:math:`2\pi + 4\sqrt{3\pi}\,s + 6s^2 \le 4\pi + 3s^2` iff :math:`3s^2 + 4\sqrt{3\pi}\,s - 2\pi
\le 0` iff :math:`\gamma \le \gamma_\times = \pi(10 - 4\sqrt6)/3 \approx 0.2116`
(:func:`forms_crossing_gamma`). Below :math:`\gamma_\times` the later form is the stronger claim,
above it the earlier one (up to a factor 2 for large :math:`\gamma`). Both are existence
statements, so a form fails only if *no* factorization meets it.

**The constant C of this form: the suite proves** :math:`C_1 = e^{1/3} - 1 \approx 0.3956`,
**and it is the truth** (atlas row ``C_first``: the smallest :math:`C_1` with a factorization of
:math:`\max_i\|A_i\| \le C_1(4\pi + 3\gamma)/m` for every :math:`A` and :math:`m \ge 3\gamma`; the
quoted version has :math:`C_1 = 1`).

*Upper side.* The balanced factorization has (``a1_near_identity_factorization``'s docstring,
:math:`t = \gamma/m \le 1/3`) :math:`m\max_i\|A_i\| \le \pi e^{t} + \gamma(e^t - 1)/t \le
\pi e^{1/3} + 3(e^{1/3} - 1)\gamma`, and
:math:`\frac{\pi e^{1/3} + 3(e^{1/3} - 1)\gamma}{4\pi + 3\gamma} \le
\max\bigl(\tfrac{e^{1/3}}{4}, e^{1/3} - 1\bigr) = e^{1/3} - 1` (a mediant; :math:`e^{1/3}/4 \approx
0.349`). So the first form holds for the suite's construction, with room :math:`1/(e^{1/3} - 1)
\approx 2.5`.

*Lower side (every factorization).* For :math:`A = -e^{\gamma}I_2` with :math:`\gamma = m/3` (so
:math:`m = 3\gamma`, the edge of the hypothesis), the bound valid for every factorization
(``a1_near_identity_factorization``, :func:`every_factorization_lower_bound`) is
:math:`|e^{1/3 + i\pi/m} - 1| \ge e^{1/3} - 1`, so :math:`C_1 \ge m(e^{1/3} - 1)/(4\pi + m) \to
e^{1/3} - 1` (:math:`m \to \infty`): the truth is :math:`C_1 = e^{1/3} - 1`, a supremum approached
at :math:`\gamma = m/3 \to \infty`.
"""
from __future__ import annotations

import math

import numpy as np

from .a1_near_identity_factorization import log_conditioning
from .engine.model import (
    Claim, Constant, Expected, Hypothesis, Kind, Provenance, Reference, Truth, statement_of_record)

#: The suite's proven value (and the truth) of the atlas constant ``C_first``: e^{1/3} - 1.
PROVEN_C_FIRST = math.expm1(1.0 / 3.0)


def first_version_form(gamma: float) -> float:
    r""":math:`4\pi + 3\gamma`: the earlier version's bound is this over :math:`m`."""
    return 4.0 * math.pi + 3.0 * gamma


def first_version_bound(gamma: float, m: int) -> float:
    r"""The earlier version's explicit bound :math:`(4\pi + 3\gamma)/m`."""
    return first_version_form(gamma) / m


def first_version_coefficient(max_layer_norm: float, gamma: float, m: int) -> float:
    r"""The :math:`C_1` an instance needs: :math:`m\max_i\|A_i\| / (4\pi + 3\gamma)`."""
    return m * max_layer_norm / first_version_form(gamma)


def forms_crossing_gamma() -> float:
    r""":math:`\gamma_\times = \pi(10 - 4\sqrt6)/3`: where :math:`4\pi + 3\gamma = 2(\sqrt\pi + \sqrt{3\gamma})^2`."""
    return math.pi * (10.0 - 4.0 * math.sqrt(6.0)) / 3.0


CLAIM = Claim(
    id="a1_near_identity_factorization_first_version",
    title="Near-identity factorization, earlier published form: max ||A_i|| <= (4 pi + 3 gamma)/m",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("det_positive", r"\det A > 0", lambda inst: np.linalg.slogdet(inst["A"])[0] > 0),
        Hypothesis("m_at_least_3_gamma", r"m \ge 3\gamma",
                   lambda inst: inst["m"] >= 3.0 * log_conditioning(inst["A"]),
                   edge=lambda inst: inst["m"] - 3.0 * log_conditioning(inst["A"])),
    ),
    conclusion=r"\|(I + A_m)\cdots(I + A_1) - A\|_F \le \tau\|A\|_2\ \text{and}\ "
    r"\max_i\|A_i\|_2 \le (4\pi + 3\gamma)/m",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("HM16", "1611.04231", "Thm 2.1, an earlier arXiv version (before June 2017) "
                  "[unverified: quoted by a secondary summary: PaperWhy, M. de Benito Delgado, 2017-06-07, "
                  "'Identity matters in Deep Learning', footnote 4 (github.com/mdbenito/paperwhy, "
                  "content/post/hardt_identity_2016.md)]"),
        Reference("HM16", "1611.04231", "Thm 2.1, ICLR 2017 text: the later form 2(sqrt(pi)+sqrt(3 gamma))^2/l "
                  "(claim a1_near_identity_factorization)"),
    ),
    provenance=Provenance.UNVERIFIED,
    expected=Expected.HOLDS,
    notes="Checked on the suite's construction (the balanced factorization) on the hypotheses; the atlas "
    "row C_first shows the form is loose by 1/(e^{1/3} - 1) ~ 2.5 and that no factorization does better "
    "than e^{1/3} - 1 times it (A = -e^{m/3} I_2, large m).",
    constants=(
        Constant(
            name="C_first",
            meaning="smallest C such that for every A (det A > 0) and m >= 3 gamma some factorization has "
            "max||A_i|| <= C (4 pi + 3 gamma) / m; searched: the C needed by the lower bound valid for every "
            "factorization, maximised over A, x and m",
            truth=Truth.SMALLEST_VALID,
            slide="O(1/m) (no constant)",
            paper="1 (HM16 earlier arXiv version, (4 pi + 3 gamma)/l [unverified: secondary summary])",
            proven=PROVEN_C_FIRST,
            proven_by="balanced construction bound, proof in this module's docstring",
            other_side="exact family A = -e^{m/3} I_2 (gamma = m/3): every factorization needs "
            "C >= m (e^{1/3} - 1)/(4 pi + m) -> e^{1/3} - 1: the truth is e^{1/3} - 1",
        ),
    ),
)
