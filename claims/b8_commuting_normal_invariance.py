r"""B8. Commuting-normal invariance and the scalar recurrence [slide "Symmetric linear
functions: proof idea" (a); BHL18; Lemma 6 of BHL18 as restated in ACGH19].

Statement of record (slide): *A set of symmetric matrices* :math:`\mathcal{A}` *is commuting
normal if there is a single unitary matrix* :math:`U` *such that for all* :math:`A \in \mathcal{A}`,
:math:`U^\top A U` *is diagonal. Clearly* :math:`\{\Phi, \Theta_1^{(0)}, \dots, \Theta_L^{(0)}\} =
\{\Phi, I\}` *is commuting normal. The gradient update keeps*
:math:`\bigcup_{i,t}\{\Phi, \Theta_i^{(t)}\}` *commuting normal. So the dynamics decomposes:*

.. math::  \hat\lambda^{(t+1)} = \hat\lambda^{(t)} + \eta\,(\hat\lambda^{(t)})^{L-1}
           \big(\lambda^L - (\hat\lambda^{(t)})^L\big).

Encoded for symmetric :math:`\Phi = U\,\mathrm{diag}(\mu)\,U^\top` (the slide writes an eigenvalue
of :math:`\Phi` as :math:`\lambda^L`; here :math:`\mu = \lambda^L`, any sign), the identity start
and any step size :math:`\eta > 0`: for every :math:`t`, all layers are equal,
:math:`\Theta_i^{(t)} = U\,\mathrm{diag}(x^{(t)})\,U^\top`, and each coordinate follows
:math:`x \leftarrow x + \eta x^{L-1}(\mu - x^L)` from :math:`x^{(0)} = 1`. With the penalty
:math:`\tfrac\kappa2\sum_i\|\Theta_i - I\|_F^2` of regularized gradient descent the same holds
with :math:`-\eta\kappa(x - 1)` added to the recurrence [derived].

Basis-free form of the conclusion (what is measured): the layers are equal, symmetric and
commute with :math:`\Phi` (a symmetric matrix commuting with symmetric :math:`\Phi` is diagonal
in a common orthonormal eigenbasis; with repeated eigenvalues of :math:`\Phi` the layers are
moreover scalar on each eigenspace, so *every* eigenbasis of :math:`\Phi` diagonalizes them),
and they equal :math:`U\,\mathrm{diag}(x^{(t)})\,U^\top` with :math:`x^{(t)}` from the recurrence.

Floating point: rounding puts every iterate a few ulps off the invariant set, and the dynamics
may amplify that (large steps: chaotic scalar dynamics; negative eigenvalues with
:math:`L \ge 4`: a saddle, see ``b7_negative_eigenvalue_blocks``). The float check therefore
uses the tolerance :math:`c\,(t+1)\,L\,d\,\epsilon`, and an iterate outside it is re-run at
:data:`EXACT_DIGITS` digits (:func:`exact_gradient_descent`) before it counts as a violation.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference

#: Digits of the high-precision re-run of gradient descent used to clear float violations.
EXACT_DIGITS = 50

def slide_step(target: np.ndarray, depth: int) -> float:
    r"""The slide's step size :math:`1/(L(1 + \|\Phi\|_2^2))` (B6), the unit of step sizes here."""
    return 1.0 / (depth * (1.0 + float(np.linalg.norm(target, 2)) ** 2))


def recurrence_step(x, mu, depth: int, step, penalty=0.0):
    r"""One step of the decoupled dynamics, :math:`x + \eta x^{L-1}(\mu - x^L) - \eta\kappa(x - 1)`
    (slide's form with :math:`\mu = \lambda^L`; penalty term [derived]). Broadcasts."""
    power = x ** (depth - 1)
    return x + step * power * (mu - power * x) - step * penalty * (x - 1)


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


# --- high precision: the mathematical gradient descent, for re-checks -----------------------

def _mp_matrix(a):
    import mpmath

    a = np.asarray(a, dtype=float)
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in a])  # floats convert exactly


def exact_gradient_descent(target, depth: int, step: float, steps: int, *, penalty: float = 0.0,
                           start=None, digits: int = EXACT_DIGITS) -> list:
    r"""Gradient descent on :math:`\ell` at ``digits`` digits (mpmath), straight from the slide's
    formula :math:`\nabla_{\Theta_i}\ell = \Theta_{i+1:L}^\top(\Theta_{1:L} - \Phi)\Theta_{1:i-1}^\top`
    (+ :math:`\kappa(\Theta_i - I)`), all layers updated from the same iterate.

    The float inputs are converted exactly. Returns ``steps + 1`` iterates, each a list of
    ``depth`` mpmath matrices (to be used inside ``mpmath.workdps(digits)``).
    """
    import mpmath

    with mpmath.workdps(digits):
        Phi = _mp_matrix(target)
        d = Phi.rows
        eye = mpmath.eye(d)
        layers = [eye.copy() for _ in range(depth)] if start is None else [_mp_matrix(s) for s in start]
        eta, kappa = mpmath.mpf(step), mpmath.mpf(penalty)
        iterates = [[m.copy() for m in layers]]
        for _ in range(steps):
            prefix = [eye]
            for theta in layers:
                prefix.append(theta * prefix[-1])
            back = prefix[depth] - Phi
            grads = [None] * depth
            for i in range(depth - 1, -1, -1):
                grads[i] = back * prefix[i].T
                back = layers[i].T * back
            layers = [layers[i] - eta * (grads[i] + kappa * (layers[i] - eye)) for i in range(depth)]
            iterates.append([m.copy() for m in layers])
        return iterates


def exact_scalar_recurrence(eigenvalues, depth: int, step: float, steps: int, *, penalty: float = 0.0,
                            digits: int = EXACT_DIGITS) -> list:
    """The recurrence :func:`recurrence_step` at ``digits`` digits, from x = 1; ``steps + 1`` lists.
    ``eigenvalues``: floats (converted exactly) or mpmath numbers (kept as they are)."""
    import mpmath

    with mpmath.workdps(digits):
        mu = [mpmath.mpf(m) if isinstance(m, mpmath.mpf) else mpmath.mpf(float(m)) for m in eigenvalues]
        eta, kappa = mpmath.mpf(step), mpmath.mpf(penalty)
        x = [mpmath.mpf(1)] * len(mu)
        out = [list(x)]
        for _ in range(steps):
            x = [recurrence_step(xj, mj, depth, eta, kappa) for xj, mj in zip(x, mu)]
            out.append(list(x))
        return out


def exact_eigh(target, digits: int = EXACT_DIGITS):
    """Eigenvalues (ascending) and orthonormal eigenvectors of the float symmetric ``target``
    converted exactly, at ``digits`` digits (mpmath ``eigsy``)."""
    import mpmath

    with mpmath.workdps(digits):
        w, Q = mpmath.eigsy(_mp_matrix(target))
        order = sorted(range(len(w)), key=lambda j: w[j])
        return [w[j] for j in order], mpmath.matrix([[Q[r, j] for j in order] for r in range(Q.rows)])


def exact_invariance_defects(layers: list, target, basis, x) -> dict:
    """:func:`invariance_defects` of an iterate of :func:`exact_gradient_descent` (mpmath
    matrices), with ``basis`` and ``x`` from :func:`exact_eigh` / :func:`exact_scalar_recurrence`."""
    import mpmath

    def fro(m):
        return mpmath.sqrt(sum(m[r, c] ** 2 for r in range(m.rows) for c in range(m.cols)))

    Phi = _mp_matrix(target)
    d = Phi.rows
    scale = fro(layers[0]) or mpmath.mpf(np.finfo(float).tiny)
    predicted = basis * mpmath.diag(x) * basis.T
    out = {"unequal": max(fro(m - layers[0]) for m in layers) / scale,
           "asymmetric": max(fro(m - m.T) for m in layers) / scale,
           "commutator": max(fro(m * Phi - Phi * m) for m in layers) / (scale * (fro(Phi) or 1)),
           "recurrence": max(fro(m - predicted) for m in layers) / scale}
    offs = []
    for m in layers:
        r = basis.T * m * basis
        offs.append(mpmath.sqrt(sum(r[a, b] ** 2 for a in range(d) for b in range(d) if a != b)))
    out["off_diagonal"] = max(offs) / scale
    return out


CLAIM = Claim(
    id="b8_commuting_normal_invariance",
    title="Symmetric Phi, identity start: every GD iterate has all layers equal to U diag(x) U^T, "
    "and x follows the scalar recurrence",
    statement=r"\Phi = U\,\mathrm{diag}(\lambda^L)\,U^\top,\ \Theta^{(0)}_i = I\ \Rightarrow\ \forall t, i:\ "
    r"\Theta_i^{(t)} = U\,\mathrm{diag}(\hat\lambda^{(t)})\,U^\top,\quad \hat\lambda^{(t+1)} = "
    r"\hat\lambda^{(t)} + \eta(\hat\lambda^{(t)})^{L-1}\big(\lambda^L - (\hat\lambda^{(t)})^L\big)",
    hypotheses=(
        Hypothesis("symmetric_target", r"\Phi = \Phi^\top",
                   lambda inst: bool(np.array_equal(np.asarray(inst["Phi"]), np.asarray(inst["Phi"]).T))),
        Hypothesis("identity_start", r"\Theta_i^{(0)} = I\ \forall i", lambda inst: inst.get("start", "identity") == "identity"),
        Hypothesis("step_positive", r"\eta > 0", lambda inst: inst["step"] > 0),
        Hypothesis("penalty_nonnegative", r"\kappa \ge 0\ (\kappa = 0:\ \text{plain GD})",
                   lambda inst: inst.get("penalty", 0.0) >= 0),
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
