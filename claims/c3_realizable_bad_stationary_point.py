r"""C3 (caveat, realizable case). A near-identity residual network can sit at a suboptimal
stationary point of the parameter-space risk even when the target is computed exactly by the
same architecture [BEL18, abstract].

Statement of record (BEL18, arXiv:1804.05012, abstract, last two sentences): *if we consider
derivatives with respect to parameters of a fixed-size residual network with sigmoid activation
functions, we show that there are near-identity critical points that are suboptimal, even in the
realizable case.* Written out for the empirical risk
:math:`Q(\theta) = \frac1{2n}\sum_j \|h_\theta(x_j) - y_j\|^2` of
:math:`h_\theta = h_m \circ \cdots \circ h_1`, :math:`h_k(z) = z + A_k\sigma(B_k z)`:

.. math::

   \exists\ (x_j)_{j \le n},\ \theta,\ \theta^*:\ y_j = h_{\theta^*}(x_j)\ \forall j\ \text{(realizable:}
   \ \min Q = 0),\ \max_k \|h_k - \mathrm{Id}\|_L \le \varepsilon < 1\ \text{(for}\ \theta\ \text{and}\
   \theta^*),\ \nabla_\theta Q(\theta) = 0,\ Q(\theta) > 0

The paper's own construction is not available here; the witnesses below are ours [derived],
built with pencil and paper and checked in exact rational arithmetic:

**Sigmoid (the paper's activation): the zero network, a strict saddle.** At :math:`\theta = 0`
(every :math:`A_k = 0`, :math:`B_k = 0`; every layer the identity, :math:`\varepsilon = 0`, and
:math:`h(0) = 0`) back-propagation gives, with :math:`r_j = x_j - y_j`,

.. math::

   \partial Q/\partial A_k = \sigma(0)\,\bar r\,\mathbf 1^\top = \tfrac12\,\bar r\,\mathbf 1^\top,\qquad
   \partial Q/\partial B_k = 0\ \text{(a factor}\ A_k = 0),\qquad \bar r = \tfrac1n\textstyle\sum_j r_j,

so :math:`\theta = 0` is stationary iff the residuals are centred. A realizable target with
centred residuals: layer by layer, draw :math:`B^*_k`, let
:math:`\bar s_k = \frac1n\sum_j\sigma(B^*_k z_{k-1}(x_j))` (the mean hidden activation on the
layer's input sample) and take :math:`A^*_k` with :math:`A^*_k\bar s_k = 0` (needs width
:math:`k \ge 2`: :math:`\bar s_k > 0` entrywise), scaled so that
:math:`\|h^*_k - \mathrm{Id}\|_L = \varepsilon_k < 1`. Then
:math:`\sum_j (y_j - x_j) = \sum_k A^*_k\, n\bar s_k = 0` while :math:`y \ne x`: stationary and
suboptimal (:math:`Q(0) > 0 = Q(\theta^*)`). Second order (:math:`\sigma(0) = 1/2`,
:math:`\sigma'(0) = 1/4`, :math:`\sigma''(0) = 0`): :math:`h_\theta(x) = x + \frac12\sum_k A_k\mathbf 1
+ \frac14\sum_k A_kB_kx + O(|\theta|^3)`, so with :math:`C = \frac1n\sum_j x_j r_j^\top`

.. math::

   \Delta^\top \nabla^2 Q(0)\,\Delta = \tfrac12\textstyle\sum_k \operatorname{tr}(A_kB_kC) + \tfrac14\big\|\sum_k A_k\mathbf 1\big\|^2

(:func:`zero_network_hessian`). Its :math:`B`-block is zero and its :math:`A_k`-:math:`B_k` block is :math:`\frac14 C`-valued, so
whenever :math:`C \ne 0` the Hessian is indefinite: along :math:`A_1 = a v^\top`,
:math:`B_1 = v b^\top` with :math:`v \perp \mathbf 1` and :math:`a = -C^\top b`, the form is
:math:`-\frac12\|v\|^2\|C^\top b\|^2 < 0` (:func:`negative_curvature_direction`). A strict
saddle: gradient descent started exactly at the zero initialization never moves, although it
would descend from a generic perturbation.

**ReLU: dead units, a flat local minimum.** Every unit of :math:`\theta` has
:math:`B_k x_j < 0` strictly on the sample (then every layer is the identity there, so every
layer's input is :math:`x_j`), the target network :math:`\theta^*` is the same with
:math:`B^*_k = -B_k` (units alive; the certified :math:`\varepsilon` is unchanged). :math:`Q` is
constant on a neighbourhood of :math:`\theta` (the strict inequalities persist): gradient and
Hessian are exactly 0, a suboptimal, non-strict local minimum.

Contrast with the function-space theorem (``c3_no_bad_stationary_points_zero_fixing``): at both
witnesses :math:`h_\theta` fixes 0 and is a near-identity, so :math:`\|D_{h_i}Q(h_\theta)\| > 0`
for every layer; the downhill direction :math:`\Delta(z) \propto J_{>i}^{-1}(h - h^*)` is a map
the fixed architecture cannot produce to first order. At :math:`\theta = 0` the first-order
tangent space of layer :math:`k` is the constant maps :math:`\{z \mapsto \frac12\dot A_k\mathbf 1\}`
(a step of :math:`B_k` is multiplied by :math:`A_k = 0`), and the centred residual is orthogonal
to every constant; at dead ReLU units it is :math:`\{0\}` on the sample. Realizability does not help,
because stationarity is a first-order property of the parametrization at :math:`\theta`, not of
the target.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def _zeros(shape, like) -> np.ndarray:
    """Zeros of the number type of ``like`` (floats, or an object array of exact ``Fraction``)."""
    return np.full(shape, Fraction(0), dtype=object) if np.asarray(like).dtype == object else np.zeros(shape)


def parameter_layout(m: int, d: int, k: int) -> tuple:
    r"""Index arrays ``(A[l], B[l])`` of :math:`A_l` (d x k) and :math:`B_l` (k x d) in the flattened
    :math:`\theta = (A_1, B_1, \dots, A_m, B_m)` (row-major, the order of ``ResidualNetwork.parameters``)."""
    per = 2 * d * k
    return [(l * per + np.arange(d * k).reshape(d, k), l * per + d * k + np.arange(k * d).reshape(k, d))
            for l in range(m)]


def zero_network_hessian(C, m: int, k: int) -> np.ndarray:
    r"""Exact Hessian of :math:`Q` at :math:`\theta = 0` of ``m`` sigmoid layers of width ``k``:
    the matrix of :math:`\frac12\sum_l\operatorname{tr}(A_lB_lC) + \frac14\|\sum_l A_l\mathbf 1\|^2`.

    Entries: :math:`\partial^2/\partial(A_l)_{pq}\partial(A_{l'})_{p'q'} = \frac14\delta_{pp'}` (every
    pair of layers), :math:`\partial^2/\partial(A_l)_{pq}\partial(B_l)_{q's} = \frac14\delta_{qq'}C_{sp}`,
    0 otherwise. Generic in the number type of ``C`` (floats or exact rationals).
    """
    C = np.asarray(C)
    d = C.shape[0]
    layout = parameter_layout(m, d, k)
    H = _zeros((2 * d * k * m, 2 * d * k * m), C)
    quarter = Fraction(1, 4) if C.dtype == object else 0.25
    for A, _ in layout:
        for A2, _ in layout:
            for p in range(d):
                H[np.ix_(A[p], A2[p])] = quarter
    for A, B in layout:
        for p in range(d):
            for q in range(k):
                for s in range(d):
                    H[A[p, q], B[q, s]] = H[B[q, s], A[p, q]] = quarter * C[s, p]
    return H


def negative_curvature_direction(C, m: int, k: int) -> np.ndarray:
    r"""The direction :math:`A_1 = a v^\top`, :math:`B_1 = v b^\top`, :math:`v = e_1 - e_2`,
    :math:`b = e_s` (the row of largest norm of :math:`C`), :math:`a = -C^\top b`, other layers 0:
    :math:`\Delta^\top\nabla^2Q(0)\Delta = -\|C^\top b\|^2 < 0` when :math:`C \ne 0` (width
    :math:`k \ge 2`). Generic in the number type of ``C``."""
    if k < 2:
        raise ValueError(f"the direction needs width k >= 2 (v orthogonal to 1), got k={k}")
    C = np.asarray(C)
    d = C.shape[0]
    s = int(np.argmax([float(sum(c * c for c in row)) for row in C]))
    a = -C[s, :]
    A1, B1 = parameter_layout(m, d, k)[0]
    delta = _zeros(2 * d * k * m, C)
    for p in range(d):
        delta[A1[p, 0]], delta[A1[p, 1]] = a[p], -a[p]
    delta[B1[0, s]], delta[B1[1, s]] = 1, -1
    return delta


CLAIM = Claim(
    id="c3_realizable_bad_stationary_point",
    title="A suboptimal stationary point of a near-identity residual network for a realizable target",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("fixed_architecture", r"h_k(z) = z + A_k\sigma(B_k z),\ \sigma \in \{\mathrm{sigmoid}, \mathrm{ReLU}\},"
                   r"\ \theta\ \text{and}\ \theta^*\ \text{of the same shapes and activation}",
                   lambda inst: inst["same_architecture"] and inst["activation"] in ("sigmoid", "relu")),
        Hypothesis("near_identity", r"\max_k \|h_k - \mathrm{Id}\|_L \le \varepsilon < 1\ \text{for}\ \theta\ \text{and}\ "
                   r"\theta^*\ \text{(certified)}",
                   lambda inst: inst["epsilon"] < 1.0, edge=lambda inst: 1.0 - inst["epsilon"]),
        Hypothesis("realizable", r"y_j = h_{\theta^*}(x_j)\ \forall j\ \text{exactly}\ (\max_j \|h_{\theta^*}(x_j) - y_j\| = 0)",
                   lambda inst: inst["realizability_gap"] == 0.0),
    ),
    conclusion=r"\|\nabla_\theta Q(\theta)\| \le \tau,\ Q(\theta) > 0 = Q(\theta^*),\ \text{second order: sigmoid}\ "
    r"\lambda_{\min}(\nabla^2 Q) < 0\ \text{(strict saddle), ReLU}\ \nabla^2 Q = 0\ \text{(flat local minimum)},\ "
    r"\min_i \|D_{h_i}Q(h_\theta)\| > 0",
    kind=Kind.EXISTENCE,
    references=(
        Reference("BEL18", "1804.05012", "abstract, last two sentences (parametric critical points, sigmoid, realizable case)"),
        Reference("Bartlett 2018 slides", None, 'slide "Stationary points: What the theorem says" (2nd)'),
    ),
    provenance=Provenance.PAPER,
    expected=Expected.HOLDS,
    notes="tau = tests/tolerances.realizable_stationarity_atol. Witnesses [derived, ours; the paper's body is not "
    "available]: sigmoid theta = 0 with a centred realizable target (strict saddle; the Hessian's closed form "
    "checked against central differences of the back-propagated gradient, and a rational witness with "
    "integer multiples of ln 2 as pre-activations, so every sigmoid value is rational, checked exactly); ReLU "
    "with every unit dead on the sample and the target network's units alive (flat local minimum, checked "
    "exactly in rationals). Stationarity is also checked by central differences of Q, independently of the "
    "back-propagated gradient. Contrast (function space, C3): min_i ||D_(h_i) Q|| > 0 at every witness. "
    "Sensitivity: a gradient returning zeros, a target that is not centred, a non-realizable target, the "
    "optimal network theta = theta*, and a Hessian formula with a wrong constant must be caught.",
    tags=("nonlinear", "C3", "parameter space", "realizable"),
)
