r"""B7 (regularized). Which regularizations toward the identity cannot help [BHL18 abstract: *some
forms of regularization toward the identity in each layer do not help*; slide "Symmetric linear
functions" (b): *(as does any penalty-regularized version of gradient descent)*; families, proof
and boundary derived here].

Statement of record (derived; BHL18 abstract, slide "Symmetric linear functions" (b)): *Let*
:math:`\Phi` *be symmetric with an eigenvalue* :math:`-\lambda < 0`, :math:`L` *even, and run
gradient descent from* :math:`\Theta_i = I` *with any step* :math:`\eta > 0` *on*
:math:`\ell(\Theta) + \sum_i \kappa_i r(\Theta_i)`. *If the penalty is mirror symmetric, (M)*
:math:`r(\Theta^\top) = r(\Theta)` *and* :math:`\kappa_i = \kappa_{L+1-i}`, *or if (E)* :math:`r` *is
orthogonally invariant and every class of equal weights has an even number of layers, then*
:math:`\ell(\Theta^{(t)}) \ge \lambda^2/2` *for every* :math:`t`. *Neither condition can be dropped:
a penalty violating both (weights* :math:`(0, K)`, *or a penalty on one column of*
:math:`\Theta_i - I`) *lets gradient descent with a small step reach* :math:`\ell < \lambda^2/2`.

.. math::

   \Phi = \Phi^\top,\ -\lambda \in \operatorname{spec}\Phi,\ L \in 2\mathbb{Z},\ \Theta^{(0)}_i = I,\
   \text{(M) or (E)}\ \Rightarrow\ \ell(\Theta^{(t)}) \ge \tfrac12\lambda^2\ \ \forall t,\ \forall \eta > 0;
   \quad \neg\text{(M)} \wedge \neg\text{(E)}:\ \exists\,\Phi, r, \kappa, \eta:\
   \min_t \ell(\Theta^{(t)}) < \tfrac12\lambda^2

Conventions: :math:`\ell = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2` (unpenalized), GD step
:math:`\Theta_i \leftarrow \Theta_i - \eta(\nabla_{\Theta_i}\ell + \kappa_i\nabla r(\Theta_i))` on all
layers from the same iterate; a run whose iterate stops being finite (or, for the log-det
families, singular) is checked on its finite iterates. The weights :math:`\kappa_i` may be any
reals (the proof does not use their sign); the tests draw :math:`\kappa_i \ge 0`. Families checked
(:class:`Penalty`, all with :math:`A = \Theta - I`):

- ``frobenius``: :math:`\tfrac12\|A\|_F^2` (B7's penalty), gradient :math:`A`;
- ``schatten`` (smoothed Schatten-:math:`p`): :math:`\tfrac1p\operatorname{tr}(A^\top A +
  \delta^2 I)^{p/2}`, gradient :math:`A(A^\top A + \delta^2 I)^{p/2-1}` (:math:`\delta \to 0`: the
  Schatten-:math:`p` norm to the :math:`p`, :math:`p = 1` the nuclear norm);
- ``entrywise`` (smoothed :math:`\ell_p`): :math:`\tfrac1p\sum_{jk}(A_{jk}^2 + \delta^2)^{p/2}`,
  transpose invariant but not orthogonally invariant;
- ``logdet_divergence``: :math:`\operatorname{tr}\Theta - \log|\det\Theta| - d` (Burg divergence to
  :math:`I`), gradient :math:`I - \Theta^{-\top}`;
- ``logdet_squared``: :math:`\tfrac12(\log|\det\Theta|)^2`, gradient :math:`\log|\det\Theta|\,\Theta^{-\top}`;
- ``column`` (the boundary): :math:`\tfrac12\|A e_1\|^2`, neither transpose nor orthogonally invariant.

Proof of (M) [derived]. Let :math:`\sigma(\Theta)_i = \Theta_{L+1-i}^\top`. The identity start is a
fixed point of :math:`\sigma`; suppose :math:`\Theta = \sigma(\Theta)`. Then, :math:`L` being even,
:math:`P = \Theta_{1:L} = M^\top M` with :math:`M = \Theta_{L/2}\cdots\Theta_1`, so :math:`P` and
:math:`E = P - \Phi` are symmetric, and the gradient formula of B1 gives
:math:`\nabla_{L+1-i}\ell = \Theta_{i-1}\cdots\Theta_1\,E\,\Theta_L\cdots\Theta_{i+1} = (\nabla_i\ell)^\top`.
By (M), :math:`\kappa_{L+1-i}\nabla r(\Theta_i^\top) = (\kappa_i\nabla r(\Theta_i))^\top`. So the step
maps :math:`\sigma`-fixed points to :math:`\sigma`-fixed points, whatever :math:`\eta`, and at every
:math:`t` the product is :math:`M^\top M \succeq 0`. For a unit eigenvector :math:`v` of
:math:`-\lambda`: :math:`\|P - \Phi\|_F \ge v^\top(P - \Phi)v = v^\top P v + \lambda \ge \lambda`.
:math:`\square` The same holds for any non-separable :math:`R` with :math:`R\circ\sigma = R` (e.g.
:math:`\tfrac\kappa2\|\Theta_{1:L} - I\|_F^2`). No orthogonal invariance, no eigenbasis of
:math:`\Phi`, no step condition and no positivity of eigenvalues is used.

Proof of (E) [derived, after B8]. With :math:`\Phi = U\operatorname{diag}(\mu)U^\top`, the set of
layers :math:`\Theta_i = U\operatorname{diag}(x_i)U^\top` is invariant: the loss gradient is
:math:`U\operatorname{diag}((\prod_k x_k - \mu)\prod_{k\ne i}x_k)U^\top`, and an orthogonally
invariant :math:`r` has :math:`\nabla r(U D U^\top) = U\nabla r(D)U^\top` with :math:`\nabla r(D)`
diagonal (invariance under the reflections fixing :math:`D`). Layers of equal weight start equal and
get equal gradients, so they stay equal: per coordinate the product is
:math:`\prod_{\text{classes } g} x_g^{|g|} \ge 0` when every :math:`|g|` is even, and the bound
follows as above. :math:`\square`

The boundary [derived, measured]. Weights :math:`(0, K)` at :math:`L = 2` (one class of size 1,
not mirror symmetric): for :math:`K \to \infty` layer 2 stays at :math:`I` and layer 1 solves the
regularized problem of depth 1, converging to :math:`\Phi` itself (loss :math:`\to 0`); the crossing of
0 is continuous (at :math:`x_1 = 0`, :math:`\dot x_1 = \kappa_1 - \lambda x_2 < 0`), so no large step
is needed. Weights :math:`(0, K, K, 0)` and :math:`(0, 0, K, K)` at :math:`L = 4` do not help,
:math:`(0, 1, 2, 3)` does. The column penalty with equal weights leaves the invariant sets at the
first step (its gradient at a symmetric layer is not symmetric), the layers' determinants need no
longer share a sign, and GD goes below :math:`\lambda^2/2` (also when :math:`\Phi`'s other
eigenvalue exceeds :math:`\lambda`). For a diagonal :math:`\Phi` it does not (every layer stays
diagonal).

Floating point [measured]. Float GD keeps :math:`\Theta = \sigma(\Theta)` exactly only if the
float gradient is exactly transpose-equivariant (measured at d = 2: impl's loss gradient and the
elementwise penalty formulas are; the eigh- and inverse-based ones only to rounding). Where the penalized limit is
a saddle of :math:`\ell + R` transversally, that rounding grows geometrically and a long float run
can end far below :math:`\lambda^2/2`. The statement is about exact GD: float violations are
re-checked at 50 digits by the differential oracle, and the checked horizons stop before the
amplification.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine.model import (Claim, Constant, Expected, Hypothesis, Kind, Provenance, Reference, Truth,
                           statement_of_record)

#: Families whose :math:`r` satisfies :math:`r(\Theta^\top) = r(\Theta)`.
TRANSPOSE_INVARIANT = frozenset({"frobenius", "schatten", "entrywise", "logdet_divergence", "logdet_squared"})
#: Families whose :math:`r` satisfies :math:`r(Q\Theta Q^\top) = r(\Theta)` for every orthogonal :math:`Q`.
ORTHOGONALLY_INVARIANT = frozenset({"frobenius", "schatten", "logdet_divergence", "logdet_squared"})
FAMILIES = ("frobenius", "schatten", "entrywise", "logdet_divergence", "logdet_squared", "column")


@dataclass(frozen=True)
class Penalty:
    r"""A penalty :math:`r(\Theta)` toward the identity, of one of :data:`FAMILIES`.

    Parameters
    ----------
    family : str
    p : float
        Exponent of ``schatten`` and ``entrywise`` (ignored otherwise).
    smoothing : float
        :math:`\delta \ge 0` of ``schatten`` and ``entrywise`` (needed > 0 for :math:`p < 2`).
    """

    family: str
    p: float = 2.0
    smoothing: float = 0.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")

    @property
    def transpose_invariant(self) -> bool:
        return self.family in TRANSPOSE_INVARIANT

    @property
    def orthogonally_invariant(self) -> bool:
        return self.family in ORTHOGONALLY_INVARIANT

    def value(self, layer) -> float:
        """:math:`r(\\Theta)` of one layer."""
        layer = np.asarray(layer, dtype=float)
        A = layer - np.eye(layer.shape[0])
        if self.family == "frobenius":
            return 0.5 * float(np.vdot(A, A))
        if self.family == "schatten":
            w = np.linalg.eigvalsh(A.T @ A + self.smoothing**2 * np.eye(A.shape[0]))
            return float(np.sum(np.maximum(w, 0.0) ** (self.p / 2)) / self.p)
        if self.family == "entrywise":
            return float(np.sum((A * A + self.smoothing**2) ** (self.p / 2)) / self.p)
        if self.family == "column":
            return 0.5 * float(A[:, 0] @ A[:, 0])
        log_abs_det = np.linalg.slogdet(layer)[1]
        if self.family == "logdet_divergence":
            return float(np.trace(layer) - log_abs_det - layer.shape[0])
        return 0.5 * float(log_abs_det) ** 2  # logdet_squared

    def gradient(self, layer) -> np.ndarray:
        r""":math:`\nabla r(\Theta)` of one layer (see the module docstring for each formula)."""
        layer = np.asarray(layer, dtype=float)
        d = layer.shape[0]
        A = layer - np.eye(d)
        if self.family == "frobenius":
            return A
        if self.family == "schatten":
            w, V = np.linalg.eigh(A.T @ A + self.smoothing**2 * np.eye(d))
            return A @ ((V * np.maximum(w, 0.0) ** (self.p / 2 - 1)) @ V.T)
        if self.family == "entrywise":
            return A * (A * A + self.smoothing**2) ** (self.p / 2 - 1)
        if self.family == "column":
            out = np.zeros_like(A)
            out[:, 0] = A[:, 0]
            return out
        inverse_transpose = np.linalg.inv(layer).T
        if self.family == "logdet_divergence":
            return np.eye(d) - inverse_transpose
        return float(np.linalg.slogdet(layer)[1]) * inverse_transpose  # logdet_squared


def mirror_symmetric_weights(kappas) -> bool:
    r""":math:`\kappa_i = \kappa_{L+1-i}` for every :math:`i`."""
    k = [float(v) for v in kappas]
    return k == k[::-1]


def even_weight_classes(kappas) -> bool:
    """Every value among the weights is taken by an even number of layers."""
    k = [float(v) for v in kappas]
    return all(k.count(v) % 2 == 0 for v in set(k))


def condition_m(penalty: Penalty, kappas) -> bool:
    """(M): transpose-invariant r and mirror-symmetric weights."""
    return penalty.transpose_invariant and mirror_symmetric_weights(kappas)


def condition_e(penalty: Penalty, kappas) -> bool:
    """(E): orthogonally invariant r and even classes of equal weights."""
    return penalty.orthogonally_invariant and even_weight_classes(kappas)


def penalty_of(inst) -> Penalty:
    """The instance's penalty (keys ``family``, ``p``, ``smoothing``)."""
    return Penalty(inst["family"], float(inst["p"]), float(inst["smoothing"]))


def negative_lambda(Phi) -> float:
    r""":math:`\lambda = -\lambda_{\min}(\Phi)`."""
    return -float(np.linalg.eigvalsh(np.asarray(Phi, dtype=float))[0])


def loss_floor(lam: float) -> float:
    r"""The floor :math:`\lambda^2/2`."""
    return 0.5 * lam * lam


def mirror_defect(layers) -> float:
    r""":math:`\max_i\|\Theta_{L+1-i} - \Theta_i^\top\|_F`: 0 on the invariant set of (M)."""
    layers = np.asarray(layers, dtype=float)
    return float(np.max(np.linalg.norm(layers[::-1] - np.swapaxes(layers, 1, 2), axis=(1, 2))))


def _symmetric(inst) -> bool:
    Phi = np.asarray(inst["Phi"])
    return bool(np.array_equal(Phi, Phi.T))


CLAIM = Claim(
    id="b7_identity_regularization_families",
    title="Symmetric Phi with eigenvalue -lambda, L even: GD regularized toward I by a mirror-symmetric (or "
    "orthogonally invariant, evenly weighted) penalty keeps loss >= lambda^2/2; asymmetric penalties escape",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("symmetric_target", r"\Phi = \Phi^\top", _symmetric),
        Hypothesis("negative_eigenvalue", r"\lambda = -\lambda_{\min}(\Phi) > 0",
                   lambda inst: negative_lambda(inst["Phi"]) > 0, edge=lambda inst: negative_lambda(inst["Phi"])),
        Hypothesis("even_depth", r"L \in 2\mathbb{Z}_{>0}", lambda inst: int(inst["L"]) % 2 == 0),
        Hypothesis("identity_start", r"\Theta_i^{(0)} = I", lambda inst: inst["start_radius"] == 0),
        Hypothesis("symmetric_penalty",
                   r"(M)\ r(\Theta^\top) = r(\Theta),\ \kappa_i = \kappa_{L+1-i}\ \text{or (E)}\ r(Q\Theta Q^\top) = "
                   r"r(\Theta)\ \forall Q \in O(d),\ \text{every class of equal } \kappa_i \text{ even}",
                   lambda inst: condition_m(penalty_of(inst), inst["kappas"])
                   or condition_e(penalty_of(inst), inst["kappas"])),
    ),
    conclusion=r"\min_t \ell(\Theta^{(t)}) \ge \tfrac12\lambda^2 \text{ over every finite iterate, any } \eta > 0",
    kind=Kind.IMPOSSIBILITY,
    references=(
        Reference("BHL18", "1802.06093", "abstract (\"some forms of regularization toward the identity in each "
                  "layer do not help\"); negative-eigenvalue result"),
        Reference("Bartlett 2018 slides", None, 'slide "Symmetric linear functions", theorem (b) ("as does any '
                  'penalty-regularized version of gradient descent")'),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    notes="The slide's 'any penalty-regularized version' is true for penalties symmetric under reversing the "
    "layers and transposing (M) (every transpose-invariant r with mirror-symmetric weights: Frobenius, "
    "Schatten-p, entrywise l_p, log-det divergence, (log det)^2), and for orthogonally invariant r with even "
    "classes of equal weights (E); the product stays PSD (M) or its eigenvalues stay products of even powers "
    "(E). It is false for penalties that break both: per-layer weights (0, K) at L = 2 or (0, 1, 2, 3) at "
    "L = 4, or a penalty on one column of Theta_i - I with equal weights (Phi not diagonal): GD with a small "
    "step reaches loss far below lambda^2/2. Those instances satisfy different hypotheses and are checked as "
    "separate named conclusions (the boundary), not as counterexamples. Float GD can leave the invariant set "
    "by amplified rounding (stiff smoothed penalties, B7's saddle); the statement is about exact GD.",
    constants=(
        Constant(name="c_floor", meaning="largest c with min_t l(Theta^(t)) >= c lambda^2/2 for every penalty "
                 "satisfying (M) or (E) (searched: Frobenius family, equal weights, fast path, L = 2)",
                 truth=Truth.LARGEST_VALID, slide="1 (lambda^2/2, slide 'Symmetric linear functions' (b))",
                 paper="unknown (BHL18 body not available)", proven=1.0,
                 proven_by="proofs (M) and (E) in this module's docstring",
                 other_side="kappa = 0 (plain GD, a penalty meeting (M)) approaches ratio 1 as t -> infinity "
                 "(b7_negative_eigenvalue_blocks, tightness): the truth is 1"),
    ),
)
