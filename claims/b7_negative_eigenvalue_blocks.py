r"""B7. A negative eigenvalue blocks convergence [slide "Symmetric linear functions", theorem
part (b); BHL18 (negative-eigenvalue result: gradient descent from the identity, optionally
regularized toward the identity, fails to converge)].

Statement of record (slide "Symmetric linear functions", theorem part (b)): *Suppose*
:math:`\Phi` *is symmetric. (b) If* :math:`\Phi` *has a negative eigenvalue* :math:`-\lambda` *and*
:math:`L` *is even, then gradient descent satisfies* :math:`\ell(\Theta^{(t)}) \ge \lambda^2/2` *(as
does any penalty-regularized version of gradient descent).*

.. math::

   \Phi = \Phi^\top,\ -\lambda \in \operatorname{spec}\Phi,\ \lambda > 0,\ L\ \text{even}\
   \Rightarrow\ \ell(\Theta^{(t)}) \ge \lambda^2/2\ \ \forall t\ \ (\text{GD and penalty-regularized GD})

Conventions: :math:`\lambda = -\lambda_{\min}(\Phi)`; the identity start (read from the data:
``start_radius`` :math:`= \max_i\|\Theta_i^{(0)} - I\|_2` of the start actually used, for the fast
path :math:`\max_j|x_j^{(0)} - 1|`); any step size :math:`\eta > 0`; penalty
:math:`\tfrac\kappa2\sum_i\|\Theta_i - I\|_F^2` with :math:`\kappa \ge 0` (:math:`\kappa = 0`: plain
GD); :math:`\ell` is the unpenalized loss :math:`\tfrac12\|\Theta_{1:L}^{(t)} - \Phi\|_F^2`, and a
diverging run is checked at every finite iterate. The fast path's target is
:math:`\Phi = \mathrm{diag}(\mu)` (recorded as such).

Why [derived from B8]: every layer is :math:`U\,\mathrm{diag}(x)\,U^\top`, so the product is
:math:`U\,\mathrm{diag}(x^L)\,U^\top` and, :math:`L` being even, :math:`x^L \ge 0`: the coordinate of
:math:`-\lambda` contributes :math:`\tfrac12(x^L + \lambda)^2 \ge \lambda^2/2`. No step-size
condition is needed (positivity of :math:`x`, claim ``b7_eigenvalue_positivity``, is the slide's
proof idea, but the bound survives its failure). The bound is tight: for :math:`\kappa = 0` the
coordinate tends to 0 and :math:`\ell \to \lambda^2/2 + (\text{the other coordinates' loss})`.

Where the limit sits [derived, measured]: the limit :math:`x_{-\lambda} = 0` is a saddle of
:math:`\ell`. With another eigenvalue :math:`\mu' \in (0, \lambda)` and :math:`s = \mu'^{1/L}`, the
Hessian at the limit has :math:`\lambda_{\min} = s^{L-2}(\mu' - \lambda) < 0` for :math:`L \ge 3`
(and :math:`-\lambda` for :math:`L = 2`): exact GD never leaves the invariant set of B8, but any
perturbation of it grows by :math:`1 + \eta s^{L-2}(\lambda - \mu')` per step. Floating-point GD
is such a perturbation: rounding (:math:`10^{-16}`) grows until the product leaves the set, and
float GD then converges to the best product with :math:`\det \ge 0`, loss
:math:`\tfrac12\min(\lambda, \mu')^2 < \lambda^2/2`. The statement is about exact GD; the suite
checks full float GD on horizons before the amplification (re-running a float violation at 50
digits), long runs through the fast path (B8), and reports the escape as a measured finding.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def _eigenvalues(inst) -> np.ndarray:
    """Eigenvalues of the instance's target ``Phi`` (eigvalsh; exact for the fast path's
    :math:`\\Phi = \\mathrm{diag}(\\mu)`)."""
    return np.linalg.eigvalsh(np.asarray(inst["Phi"], dtype=float))


def negative_lambda(eigenvalues) -> float:
    r""":math:`\lambda = -\lambda_{\min}(\Phi)` (positive iff :math:`\Phi` has a negative eigenvalue)."""
    return -float(np.min(eigenvalues))


def loss_floor(lam: float) -> float:
    r"""The slide's lower bound :math:`\lambda^2/2`."""
    return 0.5 * lam * lam


def coordinate_loss(x, mu, depth: int):
    r""":math:`\ell = \tfrac12\sum_j (x_j^L - \mu_j)^2` of the decoupled dynamics (last axis = j)."""
    gap = np.asarray(x, dtype=float) ** depth - np.asarray(mu, dtype=float)
    return 0.5 * np.sum(gap * gap, axis=-1)


def saddle_min_curvature(lam: float, mu_other: float, depth: int) -> float:
    r"""Smallest Hessian eigenvalue of :math:`\ell` at the limit :math:`\Theta_i = U\mathrm{diag}(0,
    s)U^\top`, :math:`s = \mu'^{1/L}`, of :math:`\Phi = U\mathrm{diag}(-\lambda, \mu')U^\top`
    [derived: the block of :math:`(\Theta_L)_{12}, (\Theta_1)_{21}` in the eigenbasis is
    :math:`\begin{pmatrix}s^{2L-2} & \lambda s^{L-2}\\ \lambda s^{L-2} & s^{2L-2}\end{pmatrix}`; for
    :math:`L = 2` the diagonal pair :math:`(\Theta_1)_{11} = -(\Theta_2)_{11}` gives :math:`-\lambda`;
    for :math:`L \ge 3` every other direction is flat to second order]."""
    s = mu_other ** (1.0 / depth)
    block = s ** (depth - 2) * (mu_other - lam)
    return min(-lam, block) if depth == 2 else min(0.0, block)


def escape_steps_per_digit(lam: float, mu_other: float, depth: int, step: float) -> float:
    r"""Steps for a perturbation along the saddle's unstable direction to grow tenfold,
    :math:`\ln 10 / \ln(1 - \eta\lambda_{\min})` (linearization at the limit)."""
    return float(np.log(10.0) / np.log1p(-step * saddle_min_curvature(lam, mu_other, depth)))


def det_constrained_floor(lam: float, mu_other: float) -> float:
    r""":math:`\tfrac12\min(\lambda, \mu')^2`: the least loss over products with :math:`\det \ge 0`
    for :math:`\Phi = U\mathrm{diag}(-\lambda, \mu')U^\top` (the distance of :math:`\Phi`, with
    :math:`\det\Phi < 0`, to the matrices with :math:`\det \ge 0` is :math:`\sigma_{\min}(\Phi)`)."""
    return 0.5 * min(lam, mu_other) ** 2


CLAIM = Claim(
    id="b7_negative_eigenvalue_blocks",
    title="Symmetric Phi with a negative eigenvalue -lambda, L even: GD (and penalized GD) keeps "
    "loss >= lambda^2/2",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("symmetric_target", r"\Phi = \Phi^\top",
                   lambda inst: bool(np.array_equal(np.asarray(inst["Phi"]), np.asarray(inst["Phi"]).T))),
        Hypothesis("negative_eigenvalue", r"\lambda = -\lambda_{\min}(\Phi) > 0",
                   lambda inst: negative_lambda(_eigenvalues(inst)) > 0,
                   edge=lambda inst: negative_lambda(_eigenvalues(inst))),
        Hypothesis("even_depth", r"L \in 2\mathbb{Z}_{>0}", lambda inst: int(inst["L"]) % 2 == 0),
        Hypothesis("identity_start", r"\Theta_i^{(0)} = I\ (\max_i\|\Theta_i^{(0)} - I\|_2 = 0)",
                   lambda inst: inst["start_radius"] == 0),
        Hypothesis("penalty_nonnegative", r"\kappa \ge 0\ (\kappa = 0:\ \text{plain GD})",
                   lambda inst: inst["penalty"] >= 0),
    ),
    conclusion=r"\min_t \ell(\Theta^{(t)}) \ge \tfrac12\lambda^2\ \text{over every finite iterate, any } \eta > 0",
    kind=Kind.LOWER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Symmetric linear functions", theorem (b); proof idea (b)'),
        Reference("BHL18", "1802.06093", "negative-eigenvalue result (symmetric Phi; GD from the identity, "
                  "optionally regularized toward the identity, fails to converge)"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="Holds for exact GD at every step size (x^L >= 0 for even L), with or without the penalty. "
    "Hypotheses that matter: L odd (L = 1 converges to the negative eigenvalue; L = 3 with a step above "
    "1/(1 + lambda) crosses zero), a non-identity start (layers rotating by pi/L realise -I), a non-"
    "symmetric Phi (reaches loss below lambda^2/2, even 0). Finding: the limit is a saddle whenever Phi has "
    "an eigenvalue mu' in (0, lambda) (lambda_min of the Hessian s^{L-2}(mu' - lambda)); floating-point "
    "GD escapes it once rounding has grown (about 33 steps per decimal digit at L = 4, eta = 0.2, "
    "mu' = 1/2) and converges to loss min(lambda, mu')^2/2: the bound holds for exact GD, not for long "
    "float runs.",
)
