r"""A1. Near-identity factorization [slide "Products of near-identity matrices"; HM16 Thm 2.1].

Statement of record (slide "Products of near-identity matrices"; HM16 Thm 2.1 for the explicit
constant): *Every invertible* :math:`A` *(provided* :math:`\det A > 0`*) can be written as*
:math:`A = (I + A_m)\cdots(I + A_1)` *where* :math:`\|A_i\| = O(1/m)`.

.. math::

   \det A > 0,\ m \ge 3\gamma \Rightarrow \exists A_1,\dots,A_m:\
   A = (I + A_m)\cdots(I + A_1),\ \max_i \|A_i\|_2 \le \frac{2(\sqrt{\pi} + \sqrt{3\gamma})^2}{m}
   = O(1/m),\quad \gamma = \max(|\log\sigma_{\max}(A)|, |\log\sigma_{\min}(A)|)

The :math:`O(1/m)` of the slide is made explicit with HM16's constant. The necessity of
:math:`\det A > 0` is the claim ``a1_det_positive_necessary``.
"""
from __future__ import annotations

import math

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def log_conditioning(A: np.ndarray) -> float:
    r""":math:`\gamma = \max(|\log\sigma_{\max}(A)|, |\log\sigma_{\min}(A)|)` (HM16 Thm 2.1)."""
    s = np.linalg.svd(A, compute_uv=False)
    return max(abs(math.log(s[0])), abs(math.log(s[-1])))


def hm16_bound(gamma: float, m: int) -> float:
    r"""HM16's explicit bound :math:`2(\sqrt\pi + \sqrt{3\gamma})^2 / m`."""
    return 2.0 * (math.sqrt(math.pi) + math.sqrt(3.0 * gamma)) ** 2 / m


def balanced_construction_bound(gamma: float, m: int) -> float:
    r"""[derived] Bound met by the balanced construction:
    :math:`2\sin(\pi/2m)\,e^{\gamma/m} + e^{\gamma/m} - 1` (see ``impl`` Notes)."""
    g = math.exp(gamma / m)
    return 2.0 * math.sin(math.pi / (2 * m)) * g + g - 1.0


CLAIM = Claim(
    id="a1_near_identity_factorization",
    title="Near-identity factorization: A = (I+A_m)...(I+A_1), max ||A_i|| <= 2(sqrt(pi)+sqrt(3 gamma))^2/m",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("det_positive", r"\det A > 0", lambda inst: np.linalg.slogdet(inst["A"])[0] > 0),
        Hypothesis("m_at_least_3_gamma", r"m \ge 3\gamma",
                   lambda inst: inst["m"] >= 3.0 * log_conditioning(inst["A"])),
    ),
    conclusion=r"\|(I + A_m)\cdots(I + A_1) - A\|_F \le \tau\|A\|_2\ \text{and}\ "
    r"\max_i\|A_i\|_2 \le 2(\sqrt{\pi} + \sqrt{3\gamma})^2/m",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("HM16", "1611.04231", "Thm 2.1"),
        Reference("Bartlett 2018 slides", None, 'slide "Products of near-identity matrices" (1)'),
    ),
    provenance=Provenance.PAPER,
    expected=Expected.HOLDS,
    notes="Slack is (bound - max||A_i||)/bound. The O(1/m) rate is also measured: the fitted "
    "exponent of max||A_i|| against m, and sup m*max||A_i||.",
)
