r"""B8. Commuting-normal invariance and the scalar recurrence [slide "Symmetric linear
functions: proof idea" (a); BHL18; Lemma 6 of BHL18 as restated in ACGH19].

Statement of record (slide "Symmetric linear functions: proof idea" (a)): *A set of symmetric
matrices* :math:`\mathcal{A}` *is commuting normal if there is a single unitary matrix* :math:`U`
*such that for all* :math:`A \in \mathcal{A}`, :math:`U^\top A U` *is diagonal. Clearly*
:math:`\{\Phi, \Theta_1^{(0)}, \dots, \Theta_L^{(0)}\} = \{\Phi, I\}` *is commuting normal. The
gradient update keeps* :math:`\bigcup_{i,t}\{\Phi, \Theta_i^{(t)}\}` *commuting normal. So the
dynamics decomposes:* :math:`\hat\lambda^{(t+1)} = \hat\lambda^{(t)} + \eta\,(\hat\lambda^{(t)})^{L-1}
\big(\lambda^L - (\hat\lambda^{(t)})^L\big).`

.. math::

   \Phi = U\,\mathrm{diag}(\lambda^L)\,U^\top,\ \Theta^{(0)}_i = I\ \Rightarrow\ \forall t, i:\
   \Theta_i^{(t)} = U\,\mathrm{diag}(\hat\lambda^{(t)})\,U^\top,\quad \hat\lambda^{(t+1)} =
   \hat\lambda^{(t)} + \eta(\hat\lambda^{(t)})^{L-1}\big(\lambda^L - (\hat\lambda^{(t)})^L\big)

Conventions: the suite writes :math:`\mu = \lambda^L` for an eigenvalue of :math:`\Phi` (any sign)
and :math:`x` for :math:`\hat\lambda`; any step size :math:`\eta > 0`. With the penalty
:math:`\tfrac\kappa2\sum_i\|\Theta_i - I\|_F^2` of regularized gradient descent the same holds
with :math:`-\eta\kappa(x - 1)` added to the recurrence [derived]. The identity start is read from
the data: ``start_radius`` :math:`= \max_i\|\Theta_i^{(0)} - I\|_2` of the start actually used.

Basis-free form of the conclusion (what is measured): the layers are equal, symmetric and
commute with :math:`\Phi` (a symmetric matrix commuting with symmetric :math:`\Phi` is diagonal
in a common orthonormal eigenbasis; with repeated eigenvalues of :math:`\Phi` the layers are
moreover scalar on each eigenspace, so *every* eigenbasis of :math:`\Phi` diagonalizes them),
and they equal :math:`U\,\mathrm{diag}(x^{(t)})\,U^\top` with :math:`x^{(t)}` from the recurrence
(:func:`invariance_defects`).

Floating point: rounding puts every iterate a few ulps off the invariant set, and the dynamics
may amplify that (large steps: chaotic scalar dynamics; negative eigenvalues with
:math:`L \ge 4`: a saddle, see ``b7_negative_eigenvalue_blocks``). The float check therefore
uses the tolerance :math:`c\,(t+1)\,L\,d\,\epsilon`, and an iterate outside it is re-run at 50
digits (the differential oracle ``tests/oracles.py`` on mpmath numbers) before it counts as a
violation.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def slide_step(target: np.ndarray, depth: int) -> float:
    r"""The slide's step size :math:`1/(L(1 + \|\Phi\|_2^2))` (B6), the unit of step sizes here."""
    return 1.0 / (depth * (1.0 + float(np.linalg.norm(target, 2)) ** 2))


def recurrence_step(x, mu, depth: int, step, penalty=0.0):
    r"""One step of the decoupled dynamics, :math:`x + \eta x^{L-1}(\mu - x^L) - \eta\kappa(x - 1)`
    (slide's form with :math:`\mu = \lambda^L`; penalty term [derived]). Broadcasts; generic in the
    number type (floats, numpy arrays, mpmath and SymPy numbers)."""
    power = x ** (depth - 1)
    return x + step * power * (mu - power * x) - step * penalty * (x - 1)


def recurrence_iterates(mu, depth: int, step, steps: int, penalty=0.0, *, one=1) -> list:
    r""":math:`x^{(0)}, \dots, x^{(T)}` of the statement: :math:`x^{(0)} = 1` (``one``, in the number
    type of ``mu``) and :math:`x^{(t+1)} =` :func:`recurrence_step` :math:`(x^{(t)})`, one list of
    coordinates per :math:`t`. The definition of :math:`\hat\lambda^{(t)}`, generic in the number
    type (the tests pass mpmath numbers for 50-digit re-checks)."""
    x = [one] * len(mu)
    out = [list(x)]
    for _ in range(steps):
        x = [recurrence_step(xj, mj, depth, step, penalty) for xj, mj in zip(x, mu)]
        out.append(list(x))
    return out


def recurrence_derivative(x, mu, depth: int, step, penalty=0.0):
    r""":math:`\partial x_{t+1}/\partial x_t = 1 + \eta[(L-1)x^{L-2}(\mu - x^L) - L x^{2L-2}] - \eta\kappa`."""
    if depth == 1:
        return np.ones_like(np.asarray(x, dtype=float)) * (1.0 - step - step * penalty)
    return 1.0 + step * ((depth - 1) * x ** (depth - 2) * (mu - x**depth) - depth * x ** (2 * depth - 2)) - step * penalty


def invariance_defects(layers: np.ndarray, target: np.ndarray, basis: np.ndarray | None = None,
                       x: np.ndarray | None = None) -> dict[str, float]:
    r"""How far one iterate is from the invariant set, each relative to :math:`\|\Theta_1\|_F`.

    * ``unequal``: :math:`\max_i\|\Theta_i - \Theta_1\|_F`;
    * ``asymmetric``: :math:`\max_i\|\Theta_i - \Theta_i^\top\|_F`;
    * ``commutator``: :math:`\max_i\|\Theta_i\Phi - \Phi\Theta_i\|_F / \|\Phi\|_F`;
    * ``off_diagonal``: :math:`\max_i\|\mathrm{off}(U^\top\Theta_iU)\|_F` (the relative
      off-diagonal mass in Φ's eigenbasis ``basis``, if given);
    * ``recurrence``: :math:`\max_i\|\Theta_i - U\,\mathrm{diag}(x)\,U^\top\|_F` (if ``x`` given).
    """
    d = layers.shape[-1]
    scale = max(float(np.linalg.norm(layers[0])), np.finfo(float).tiny)
    out = {
        "unequal": float(np.linalg.norm(layers - layers[0], axis=(1, 2)).max()) / scale,
        "asymmetric": float(np.linalg.norm(layers - np.swapaxes(layers, 1, 2), axis=(1, 2)).max()) / scale,
        "commutator": float(np.linalg.norm(layers @ target - target @ layers, axis=(1, 2)).max())
        / (scale * max(float(np.linalg.norm(target)), np.finfo(float).tiny)),
    }
    if basis is not None:
        rotated = basis.T @ layers @ basis
        rotated[:, np.arange(d), np.arange(d)] = 0.0  # off-diagonal part (no |R|^2 - |diag|^2 cancellation)
        out["off_diagonal"] = float(np.linalg.norm(rotated, axis=(1, 2)).max()) / scale
    if x is not None and basis is not None:
        predicted = (basis * x) @ basis.T
        out["recurrence"] = float(np.linalg.norm(layers - predicted, axis=(1, 2)).max()) / scale
    return out


CLAIM = Claim(
    id="b8_commuting_normal_invariance",
    title="Symmetric Phi, identity start: every GD iterate has all layers equal to U diag(x) U^T, "
    "and x follows the scalar recurrence",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("symmetric_target", r"\Phi = \Phi^\top",
                   lambda inst: bool(np.array_equal(np.asarray(inst["Phi"]), np.asarray(inst["Phi"]).T))),
        Hypothesis("identity_start", r"\Theta_i^{(0)} = I\ \forall i\ (\max_i\|\Theta_i^{(0)} - I\|_2 = 0)",
                   lambda inst: inst["start_radius"] == 0),
        Hypothesis("step_positive", r"\eta > 0", lambda inst: inst["step"] > 0),
        Hypothesis("penalty_nonnegative", r"\kappa \ge 0\ (\kappa = 0:\ \text{plain GD})",
                   lambda inst: inst["penalty"] >= 0),
    ),
    conclusion=r"\max_t \frac{\delta_t}{(t+1)\,L\,d\,\epsilon} \le c,\quad \delta_t = \max\big(\|\Theta_i - \Theta_1\|, "
    r"\|\Theta_i - \Theta_i^\top\|, \|[\Theta_i, \Phi]\|/\|\Phi\|, \|\mathrm{off}(U^\top\Theta_iU)\|, "
    r"\|\Theta_i - U\mathrm{diag}(x^{(t)})U^\top\|\big)/\|\Theta_1\|\ \text{(Frobenius)}",
    kind=Kind.INVARIANT,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Symmetric linear functions: proof idea" (a)'),
        Reference("BHL18", "1802.06093", "symmetric case: layers stay commuting normal with Phi"),
        Reference("ACGH19", "1810.02281", "related work: restatement of BHL18's Lemma 6"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="Eigenvalues of Phi are written lambda^L on the slide; the suite writes mu = lambda^L (any sign). "
    "The penalty term -eta kappa (x - 1) of regularized GD is derived. Invariance holds in exact arithmetic "
    "for every step size; in floating point the deviation from the invariant set is amplified where the "
    "dynamics is expanding (large steps; the saddle of a negative eigenvalue at L >= 4), and such iterates "
    "are re-run at 50 digits before a violation is declared.",
)
