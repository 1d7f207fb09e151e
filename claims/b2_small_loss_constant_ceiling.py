r"""B2 ceiling. No constant :math:`c_0` of the small-loss theorem exceeds 1/2 [derived from BHL18's
abstract and the slide's theorem B7].

Statement of record (derived; BHL18 abstract: "gradient descent ... fails to converge for
:math:`\Phi` whose distance from the identity is a larger constant"): for every :math:`c > 1/2`
there is a target :math:`\Phi` with :math:`\ell(I) \le c` from which gradient descent started at the
identity, with any step size, never gets below a positive loss (:math:`L` even). So the
small-loss theorem (B2: :math:`\ell(\Theta^{(0)}) \le c_0` and a small step give
:math:`\ell(\Theta^{(t)}) \to 0` at a linear rate) can only hold with :math:`c_0 \le 1/2`.

.. math::

   \forall c > \tfrac12\ \exists \Phi:\ \ell(I) \le c\ \wedge\ \forall \eta > 0\ \forall t \ge 0:\
   \ell(\Theta^{(t)}) \ge \tfrac{\lambda^2}{2} > 0\quad (L\ \text{even}),\ \text{hence}\ c_0 \le \tfrac12

The witness: :math:`\Phi = U\,\mathrm{diag}(-\lambda, 1, \dots, 1)\,U^\top` with
:math:`0 < \lambda < \sqrt{2c} - 1`, so that :math:`\ell(I) = \tfrac12(1 + \lambda)^2 < c`; by B7
(a negative eigenvalue :math:`-\lambda` and even :math:`L`) every iterate has
:math:`\ell(\Theta^{(t)}) \ge \lambda^2/2`, whatever the step. As :math:`c \downarrow 1/2` the
witness needs :math:`\lambda \downarrow 0`: the ceiling 1/2 is the infimum of :math:`\ell(I)` over
targets with a negative eigenvalue, and at :math:`c \le 1/2` this family gives no witness.
Gradient descent is run through its exact symmetric dynamics (the scalar recurrence of B8,
which the suite verifies against full gradient descent) for long horizons, and as full gradient
descent on the horizon before float rounding can leave B8's invariant set (see B7's notes).
"""
from __future__ import annotations

import math

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def largest_witness_lambda(c: float) -> float:
    r""":math:`\sqrt{2c} - 1`: the largest :math:`\lambda` with :math:`\tfrac12(1 + \lambda)^2 \le c`."""
    return math.sqrt(2.0 * c) - 1.0


def witness_spectrum(c: float, fraction: float, d: int) -> np.ndarray:
    r"""The spectrum :math:`(-\lambda, 1, \dots, 1)` of the witness, :math:`\lambda` = ``fraction``
    :math:`\cdot(\sqrt{2c} - 1)`, ``0 < fraction < 1``."""
    spectrum = np.ones(d)
    spectrum[0] = -fraction * largest_witness_lambda(c)
    return spectrum


def loss_floor(lam: float) -> float:
    r"""B7's floor :math:`\lambda^2/2` on the loss of every iterate."""
    return 0.5 * lam * lam


def initial_loss(Phi) -> float:
    r""":math:`\ell(I) = \tfrac12\|I - \Phi\|_F^2`."""
    Phi = np.asarray(Phi, dtype=float)
    residual = np.eye(Phi.shape[0]) - Phi
    return 0.5 * float(np.vdot(residual, residual))


def _negative_lambda(inst) -> float:
    return -float(np.linalg.eigvalsh(np.asarray(inst["Phi"], dtype=float))[0])


CLAIM = Claim(
    id="b2_small_loss_constant_ceiling",
    title="No valid c_0 of the small-loss theorem exceeds 1/2",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("c_above_half", r"c > \tfrac12", lambda inst: inst["c"] > 0.5,
                   edge=lambda inst: inst["c"] - 0.5),
        Hypothesis("symmetric_target", r"\Phi = \Phi^\top",
                   lambda inst: bool(np.array_equal(np.asarray(inst["Phi"]), np.asarray(inst["Phi"]).T))),
        Hypothesis("negative_eigenvalue", r"-\lambda = \lambda_{\min}(\Phi) < 0",
                   lambda inst: _negative_lambda(inst) > 0, edge=_negative_lambda),
        Hypothesis("within_c", r"\ell(I) = \tfrac12\|I - \Phi\|_F^2 \le c",
                   lambda inst: initial_loss(inst["Phi"]) <= inst["c"],
                   edge=lambda inst: inst["c"] - initial_loss(inst["Phi"])),
        Hypothesis("even_depth", r"L\ \text{even}", lambda inst: inst["L"] % 2 == 0),
        Hypothesis("identity_start", r"\Theta_i^{(0)} = I", lambda inst: inst["start_radius"] == 0),
        Hypothesis("positive_step", r"\eta > 0", lambda inst: inst["step"] > 0),
    ),
    conclusion=r"\min_{t \le T} \ell(\Theta^{(t)}) \ge \tfrac{\lambda^2}{2}\ \text{on the witness}",
    kind=Kind.LOWER_BOUND,
    references=(
        Reference("BHL18", "1802.06093", "abstract (failure for targets far from the identity); Sec. on "
                  "negative eigenvalues (lemma numbers unchecked)"),
        Reference("Bartlett 2018 slides", None, 'slide "Symmetric linear functions", theorem part (b); '
                  'slide "Gradient descent: linear convergence" (c_0)'),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    notes="The witness is B7's; this claim reads it as a ceiling on the small-loss constant. The "
    "suite's proven c_0 = 1/256 (b2_linear_convergence) sits far below it; the true c_0 lies in "
    "[1/256, 1/2] (b2_linear_convergence's atlas row c_0 searches it within a stated budget). Odd L with "
    "the slide's step (measured, test_odd_depth_with_the_slide_step_measured): B7's positivity keeps the "
    "coordinate x of -lambda positive, so x^L > 0 and the loss stays above lambda^2/2 at L = 3, 5, 7 too "
    "(min loss / (lambda^2/2) = 1.005, 1.09, 1.18 after 2000 steps at c = 0.55); x decays only "
    "algebraically, so GD stalls; only L = 1 reaches -lambda (loss -> 0). The ceiling 1/2 therefore holds "
    "at every L >= 2 with the slide's step; the even-L hypothesis is needed for steps that break positivity.",
)
