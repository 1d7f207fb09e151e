r"""B4. Hessian is small for near-identities [slide "Gradient descent: proof idea", Lemma "Hessian
is small for near-identities"].

Statement of record (slide "Gradient descent: proof idea", Lemma "Hessian is small for
near-identities"): for :math:`\Theta` with :math:`\|\Theta_i\|_2 \le 1 + z` for all :math:`i`,

.. math::

   \forall i:\ \|\Theta_i\|_2 \le 1 + z\ \Rightarrow\
   \|\nabla^2_\Theta \ell(\Theta)\|_F \le 3 L d^5 (1 + z)^{2L},\quad
   \ell = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2

The slide puts no condition on :math:`\Phi`, and :math:`z \ge 0` is implicit in the notation
:math:`1 + z` (both are encoded as stated: hypotheses ``z_nonnegative`` and ``layers_bounded``).

**False as written.** The Hessian has a term linear in the residual
:math:`E = \Theta_{1:L} - \Phi`: its entry for the layer-entries :math:`(i, ab) \ne (j, cd)`
(:math:`i < j`) is
:math:`\langle DP[e^{ab}_i], DP[e^{cd}_j]\rangle + \langle E, D^2P[e^{ab}_i, e^{cd}_j]\rangle`, so a
large :math:`\Phi` makes it as large as one likes while the layers stay at the identity. For
:math:`d = 1`, :math:`\Theta = I` (:math:`z = 0`) every off-diagonal entry is :math:`2 - \varphi` and
every diagonal entry 1, so :math:`\|\nabla^2\ell\|_F^2 = L + L(L-1)(2-\varphi)^2`, which exceeds
:math:`(3L)^2` exactly when :math:`|2 - \varphi| > \sqrt{(9L - 1)/(L - 1)}` (:math:`L \ge 2`).
Minimal counterexample (found by the search: fewest parameters :math:`Ld^2`, then smallest
:math:`z`, then simplest :math:`|\varphi|`): :math:`d = 1`, :math:`L = 2`, :math:`z = 0`,
:math:`\Theta = (-1, 1)`, :math:`\Phi = 3`: :math:`\nabla^2\ell = [[1, -5], [-5, 1]]`,
:math:`\|\cdot\|_F = \sqrt{52} \approx 7.21 > 6 = 3Ld^5(1+z)^{2L}` (equivalently
:math:`\Theta = I` with :math:`\Phi = -3` or :math:`\Phi = 7`; no instance with :math:`L = 1`
violates, where the Hessian is :math:`I`). The threshold
:math:`\sqrt{(9L-1)/(L-1)} - 2` on :math:`|\varphi|` decreases to 1 as :math:`L \to \infty`, the
bound :math:`\|\Phi\|_2 \le (1 + z)^L` added by the corrected variant
``b4_hessian_bound_bounded_target``.
"""
from __future__ import annotations

import math

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record

#: Relative slack with which the norm hypotheses are evaluated on float instances: the SVD
#: gives ||Theta_i||_2 to a few d eps, so a layer built with norm exactly 1 + z may read
#: (1 + z)(1 + 1e-15). Far below any effect on the conclusion (checked with rtol >= 1e-13).
HYPOTHESIS_RTOL = 1e-12


def log_slide_bound(d: int, L: int, z: float) -> float:
    r""":math:`\log\big(3 L d^5 (1 + z)^{2L}\big)`, in log space (no overflow at large L)."""
    return math.log(3.0 * L) + 5.0 * math.log(d) + 2.0 * L * math.log1p(z)


def log_fro_norm(H: np.ndarray) -> float:
    r""":math:`\log\|H\|_F` without overflow of the squares (scaled by the largest entry)."""
    m = float(np.max(np.abs(H))) if H.size else 0.0
    if m == 0.0:
        return -math.inf
    return math.log(m) + math.log(float(np.linalg.norm(H / m)))


def max_layer_norm(layers) -> float:
    return float(np.linalg.norm(np.asarray(layers, dtype=float), 2, axis=(1, 2)).max())


def identity_threshold(L: int) -> float:
    r"""At :math:`d = 1`, :math:`\Theta = I`, :math:`z = 0`: the slide's bound fails iff
    :math:`|2 - \varphi| > \sqrt{(9L - 1)/(L - 1)}`; returns that square root (:math:`L \ge 2`;
    for :math:`L = 1` the Hessian is :math:`[[1]]` and the bound never fails: ``inf``)."""
    return math.inf if L < 2 else math.sqrt((9.0 * L - 1.0) / (L - 1.0))


NEAR_IDENTITY_HYPOTHESES = (
    Hypothesis("z_nonnegative", r"z \ge 0\ \text{(implicit in the slide's } 1 + z\text{)}",
               lambda inst: inst["z"] >= 0, edge=lambda inst: inst["z"]),
    Hypothesis("layers_bounded", r"\|\Theta_i\|_2 \le 1 + z\ \forall i",
               lambda inst: max_layer_norm(inst["layers"]) <= (1 + inst["z"]) * (1 + HYPOTHESIS_RTOL),
               edge=lambda inst: 1.0 - max_layer_norm(inst["layers"]) / (1 + inst["z"])),
)


CLAIM = Claim(
    id="b4_hessian_bound",
    title="Hessian is small near the identity: ||Hess loss||_F <= 3 L d^5 (1+z)^(2L) (no condition on Phi)",
    statement=statement_of_record(__doc__),
    hypotheses=NEAR_IDENTITY_HYPOTHESES,
    conclusion=r"\|\nabla^2_\Theta \ell(\Theta)\|_F \le 3 L d^5 (1 + z)^{2L}",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None,
                  'slide "Gradient descent: proof idea", Lemma (Hessian is small for near-identities)'),
        Reference("BHL18", "1802.06093", "Hessian bound near the identity (lemma numbering not checked)"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.REFUTED,
    corrected_variant="b4_hessian_bound_bounded_target",
    notes="Refuted as written: the Hessian grows linearly with ||Phi|| (the term <E, D^2 P>) while "
    "the bound does not depend on Phi. Minimal counterexample d = 1, L = 2, z = 0, Theta = (-1, 1), "
    "Phi = 3 (equivalently Theta = I, Phi = -3 or 7): H = [[1, -5], [-5, 1]], ||H||_F = sqrt(52) > 6. The corrected variant adds ||Phi||_2 <= (1+z)^L, under which each "
    "Hessian entry is <= 3 (1+z)^(2L-2) and ||H||_F <= 3 L d^2 (1+z)^(2L-2) <= 3 L d^5 (1+z)^(2L).",
    tags=("deep linear", "hessian", "B4"),
)
