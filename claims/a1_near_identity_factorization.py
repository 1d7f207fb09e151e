r"""A1. Near-identity factorization [slide "Products of near-identity matrices"; HM16 Thm 2.1].

Statement of record (slide "Products of near-identity matrices"; HM16 Thm 2.1 for the explicit
constant, in the form of the ICLR 2017 text): *Every invertible* :math:`A` *(provided*
:math:`\det A > 0`*) can be written as* :math:`A = (I + A_m)\cdots(I + A_1)` *where*
:math:`\|A_i\| = O(1/m)`.

.. math::

   \det A > 0,\ m \ge 3\gamma \Rightarrow \exists A_1,\dots,A_m:\
   A = (I + A_m)\cdots(I + A_1),\ \max_i \|A_i\|_2 \le \frac{2(\sqrt{\pi} + \sqrt{3\gamma})^2}{m}
   = O(1/m),\quad \gamma = \max(|\log\sigma_{\max}(A)|, |\log\sigma_{\min}(A)|)

The :math:`O(1/m)` of the slide is made explicit with HM16's constant. The necessity of
:math:`\det A > 0` is the claim ``a1_det_positive_necessary``; the earlier published form
:math:`(4\pi + 3\gamma)/m` is the claim ``a1_near_identity_factorization_first_version``.

**Provenance of the form.** HM16's ICLR 2017 text (author-year citations, proof in its App. A.1)
reads "Theorem 2.1. Suppose :math:`\ell \ge 3\gamma`. Then, there exists a global optimum solution
:math:`A^\star` of the population risk with norm :math:`|||A^\star||| \le 2(\sqrt\pi +
\sqrt{3\gamma})^2/\ell`", with :math:`|||A||| = \max_i\|A_i\|`. Its proof splits
:math:`R = UKV^\top` (SVD), writes each rotation as :math:`q` layers of norm :math:`\le \pi/q`
and :math:`K` as :math:`p` layers of norm :math:`\le 3\gamma/p` (from :math:`|e^x - 1| \le 3|x|`,
:math:`|x| \le 1`), with :math:`2q + p = \ell` split in proportion to :math:`\sqrt\pi` and
:math:`\sqrt{3\gamma}` (integrality of :math:`p, q` is not addressed).

**The constant C, proven by the suite: C = 1** (the atlas row ``C``: the smallest :math:`C` such
that a factorization with :math:`\max_i\|A_i\| \le C(\sqrt\pi + \sqrt{3\gamma})^2/m` exists for
every :math:`A` and :math:`m \ge 3\gamma`; HM16 state :math:`C = 2`).

*Upper side (C <= 1).* The balanced factorization (``impl``, :math:`A = RP` polar,
:math:`I + A_i = R^{1/m}P_i`, :math:`P_i` orthogonally similar to :math:`P^{1/m}`) has
:math:`\|A_i\| \le \|R^{1/m} - I\|\,\|P_i\| + \|P_i - I\| \le 2\sin(\pi/2m)e^{t} + e^{t} - 1`
with :math:`t = \gamma/m` (:func:`balanced_construction_bound`). As :math:`m \ge 1` and
:math:`m \ge 3\gamma`, :math:`t \le \min(\gamma, 1/3)`. With :math:`2m\sin(\pi/2m) \le \pi` and
:math:`(e^t - 1)/t` increasing,

.. math::

   m\max_i\|A_i\| \le \pi e^{t} + \gamma\,\frac{e^t - 1}{t}
   \le \pi + \pi(e^t - 1) + 3(e^{1/3} - 1)\gamma ,

and :math:`\pi(e^t - 1) \le 3\pi(e^{1/3} - 1)\,t \le 3.73\,t`, :math:`3(e^{1/3} - 1) \le 1.19 \le 3`.
If :math:`\gamma \le 1/3`: :math:`3.73\,t \le 3.73\,\gamma \le 2\sqrt{3\pi\gamma}` (as
:math:`\sqrt\gamma \le 0.58 < 1.64`). If :math:`\gamma > 1/3`: :math:`3.73\,t \le 1.25 <
2\sqrt{3\pi/3} = 3.54 < 2\sqrt{3\pi\gamma}`. Either way
:math:`m\max_i\|A_i\| \le \pi + 2\sqrt{3\pi\gamma} + 3\gamma = (\sqrt\pi + \sqrt{3\gamma})^2`.

*Lower side (C >= 1), valid for every factorization* (:func:`every_factorization_lower_bound`).
Let :math:`\tau = \max_i\|A_i\| < 1`, a unit vector :math:`x`, :math:`x_0 = x`,
:math:`x_k = (I + A_k)x_{k-1}`. In the plane of :math:`x_{k-1}` (real axis) and of the part of
:math:`x_k` orthogonal to it, :math:`x_k/\|x_{k-1}\|` is the complex number
:math:`\rho_k e^{i\phi_k}` (:math:`\rho_k = \|x_k\|/\|x_{k-1}\|`, :math:`\phi_k \ge 0` the angle
between them), at distance :math:`\|A_k x_{k-1}\|/\|x_{k-1}\| \le \tau` from 1: it lies in the
disk :math:`D_\tau = \{w: |w - 1| \le \tau\}`, so :math:`\zeta_k = \log\rho_k + i\phi_k \in
S_\tau = \mathrm{Log}(D_\tau)`. :math:`S_\tau` is convex (Study's criterion: :math:`g(\zeta) =
\mathrm{Log}(1 + \tau\zeta)` on the unit disk has :math:`\mathrm{Re}(1 + \zeta g''/g') =
\mathrm{Re}\,1/(1 + \tau\zeta) > 0`) and symmetric under conjugation. Hence
:math:`\frac1m\sum_k\zeta_k \in S_\tau`, with real part :math:`r/m`, :math:`r = \log\|Ax\|`, and
imaginary part :math:`\Phi/m \ge \theta/m`, where :math:`\theta = \angle(x, Ax) \in [0, \pi]`
(triangle inequality of angles). By convexity and symmetry :math:`(r + i\theta)/m \in S_\tau`:

.. math::

   \max_i\|A_i\| \ \ge\ \min\Bigl(1,\ \bigl|\exp\bigl((\log\|Ax\| + i\,\angle(x, Ax))/m\bigr) - 1\bigr|\Bigr)
   \qquad\text{for every unit } x \text{ and every factorization}

(the minimum with 1 covers factorizations with :math:`\tau \ge 1`, where the disk argument does
not apply).

For :math:`A = -I_2` (rotation by :math:`\pi`, :math:`\gamma = 0`) this is :math:`2\sin(\pi/2m)`,
so :math:`C \ge 2m\sin(\pi/2m)/\pi \to 1` (:math:`m \to \infty`): **the truth is C = 1**, half of
HM16's constant, and is a supremum (approached at :math:`\gamma = 0`, large :math:`m`; not attained).
For :math:`A = e^{\gamma}R_\theta` (scaled plane rotation) the bound is attained, by the balanced
factorization :math:`I + A_i = e^{\gamma/m}R_{\theta/m}`.
"""
from __future__ import annotations

import cmath
import math

import numpy as np

from .engine.model import (
    Claim, Constant, Expected, Hypothesis, Kind, Provenance, Reference, Truth, statement_of_record)

#: The suite's proven value of the atlas constant ``C`` (proof in the module docstring).
PROVEN_C = 1.0

#: HM16's value of ``C`` (ICLR 2017 text, Thm 2.1).
HM16_C = 2.0


def log_conditioning(A: np.ndarray) -> float:
    r""":math:`\gamma = \max(|\log\sigma_{\max}(A)|, |\log\sigma_{\min}(A)|)` (HM16 Thm 2.1)."""
    s = np.linalg.svd(A, compute_uv=False)
    return max(abs(math.log(s[0])), abs(math.log(s[-1])))


def hm16_form(gamma: float) -> float:
    r""":math:`(\sqrt\pi + \sqrt{3\gamma})^2`: HM16's bound is :math:`C` times this over :math:`m`, :math:`C = 2`."""
    return (math.sqrt(math.pi) + math.sqrt(3.0 * gamma)) ** 2


def hm16_bound(gamma: float, m: int) -> float:
    r"""HM16's explicit bound :math:`2(\sqrt\pi + \sqrt{3\gamma})^2 / m`."""
    return HM16_C * hm16_form(gamma) / m


def hm16_coefficient(max_layer_norm: float, gamma: float, m: int) -> float:
    r"""The :math:`C` an instance needs: :math:`m\max_i\|A_i\| / (\sqrt\pi + \sqrt{3\gamma})^2`."""
    return m * max_layer_norm / hm16_form(gamma)


def balanced_construction_bound(gamma: float, m: int) -> float:
    r"""[derived] Bound met by the balanced construction:
    :math:`2\sin(\pi/2m)\,e^{\gamma/m} + e^{\gamma/m} - 1` (see ``impl`` Notes)."""
    g = math.exp(gamma / m)
    return 2.0 * math.sin(math.pi / (2 * m)) * g + g - 1.0


def every_factorization_lower_bound(A: np.ndarray, x: np.ndarray, m: int) -> float:
    r"""[derived] :math:`\min(1, |\exp((\log(\|Ax\|/\|x\|) + i\angle(x, Ax))/m) - 1|)`: a lower bound
    on :math:`\max_i\|A_i\|` valid for **every** factorization :math:`A = (I + A_m)\cdots(I + A_1)`
    (proof in the module docstring), for any nonzero ``x``."""
    A, x = np.asarray(A, dtype=float), np.asarray(x, dtype=float)
    y = A @ x
    nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    u, v = x / nx, y / ny
    # Kahan's angle 2 atan2(|u - v|, |u + v|): accurate near 0 and pi, where acos of the cosine
    # loses half the digits (an angle error of 1e-8 at pi).
    angle = 2.0 * math.atan2(float(np.linalg.norm(u - v)), float(np.linalg.norm(u + v)))
    return min(1.0, abs(cmath.exp(complex(math.log(ny / nx), angle) / m) - 1.0))


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
        Reference("HM16", "1611.04231", "Thm 2.1 and its proof (App. A.1), ICLR 2017 text: "
                  "|||A*||| <= 2(sqrt(pi)+sqrt(3 gamma))^2/l for l >= 3 gamma (read in a parsed copy of the "
                  "conference text; which arXiv versions carry this form [unverified])"),
        Reference("Bartlett 2018 slides", None, 'slide "Products of near-identity matrices" (1)'),
    ),
    provenance=Provenance.PAPER,
    expected=Expected.HOLDS,
    notes="Slack is (bound - max||A_i||)/bound. The O(1/m) rate is also measured: the fitted "
    "exponent of max||A_i|| against m, and sup m*max||A_i||. The atlas row C is HM16's factor 2: the "
    "suite proves 1 (the balanced construction) and a lower bound valid for every factorization "
    "needs 2m sin(pi/2m)/pi -> 1 at A = -I, so the truth is 1.",
    constants=(
        Constant(
            name="C",
            meaning="smallest C such that for every A (det A > 0) and m >= 3 gamma some factorization has "
            "max||A_i|| <= C (sqrt(pi) + sqrt(3 gamma))^2 / m; searched: the C needed by the lower bound "
            "valid for every factorization, maximised over A, x and m",
            truth=Truth.SMALLEST_VALID,
            slide="O(1/m) (no constant)",
            paper="2 (HM16 ICLR 2017 Thm 2.1: 2(sqrt(pi)+sqrt(3 gamma))^2/l); the earlier arXiv form "
            "(4 pi + 3 gamma)/l is another shape (a1_near_identity_factorization_first_version)",
            proven=PROVEN_C,
            proven_by="balanced construction bound, proof in this module's docstring",
            other_side="exact family A = -I_2: every factorization has max||A_i|| >= 2 sin(pi/2m), so "
            "C >= sup_m 2m sin(pi/2m)/pi = 1 (proof in this module's docstring): the truth is C = 1",
        ),
    ),
)
