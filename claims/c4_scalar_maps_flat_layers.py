r"""C4 (maps to :math:`\mathbb{R}`). A scalar map :math:`h : \mathbb{R}^d \to \mathbb{R}` with
:math:`\partial h/\partial x_1 \ge c > 0` is the first coordinate of a composition of flat
near-identity layers, :math:`\max \|\text{layer} - \mathrm{Id}\|_L = O(\log m / m)` [slide "Deep
compositions of near-identities: Questions" (maps that are not invertible); C1 = BEL18 Thm 1].

Statement of record (derived from slide "Deep compositions of near-identities: Questions": *if*
:math:`h : \mathbb{R}^d \to \mathbb{R}` *extends to a bi-Lipschitz map of* :math:`\mathbb{R}^d`
*it can still be represented with flat layers*; the construction is C1's, BEL18 Thm 1): *let*
:math:`h` *be smooth on* :math:`\mathbb{R}^d` *(*:math:`d \ge 2`*) with bounded gradient and*
:math:`\partial_1 h \ge c > 0`, *and* :math:`\mathcal{X}` *a bounded box. Its flat extension*
:math:`H(x) = (h(x), x_2, \dots, x_d)` *factors as* :math:`H = L \circ \tilde H` *with*
:math:`L = DH(0) = I + e_1 w^\top` *and* :math:`\tilde H(0) = 0`, :math:`D\tilde H(0) = I`*; C1's
layers* :math:`h_i = g_{a_i} \circ g_{a_{i-1}}^{-1}` *of* :math:`\tilde H` *and the* :math:`m`
*equal linear layers* :math:`R = L^{1/m}` *give*

.. math::

   \partial_1 h \ge c > 0 \implies h = e_1^\top\, R^m \circ h_m \circ \cdots \circ h_1\ \text{on}\
   \mathcal{X},\ (h_i(z))_j = z_j\ (j \ge 2),\ R = I + e_1 w^\top \rho_m,\
   \max\bigl(\max_i \|h_i - \mathrm{Id}\|_{L(S_i)},\ \|R - I\|_2\bigr) = O\!\left(\frac{\log m}{m}\right)

with :math:`\rho_m = ((1 + w_1)^{1/m} - 1)/w_1` (:func:`flat_root_coefficient`). Every layer is
a map of :math:`\mathbb{R}^d` (width :math:`d`, no bottleneck) that moves only the first
coordinate; :math:`h` is read out as the first coordinate.

Why [derived]. (1) *H is a bi-Lipschitz bijection with* :math:`\det DH = \partial_1 h > 0`: for
fixed :math:`x_{2:}`, :math:`t \mapsto h(t, x_{2:})` is increasing with slope :math:`\ge c`, hence
onto :math:`\mathbb{R}`; :math:`DH^{-1} = \begin{pmatrix} 1/\partial_1 h & -\nabla_{2:}h^\top/\partial_1 h
\\ 0 & I\end{pmatrix}` has norm :math:`\le (1 + \|\nabla h\|)/c + 1`. So :math:`\tilde H =
L^{-1} H` meets every hypothesis of C1 (``c1_decomposition_exact``, ``c1_near_identity_rate``).
(2) *Flatness*: :math:`L^{-1} = I - e_1 w^\top/(1 + w_1)` keeps the form, so
:math:`(\tilde H(x))_j = x_j`, hence :math:`(g_a(x))_j = (a x_j)/a = x_j` and each
:math:`h_i = g_{a_i} \circ g_{a_{i-1}}^{-1}` leaves :math:`z_{2:}` alone. (3) *The linear part*:
:math:`(e_1 w^\top)^2 = w_1 e_1 w^\top` gives :math:`(I + e_1 w^\top)^t = I + e_1 w^\top
((1 + w_1)^t - 1)/w_1`, real for :math:`1 + w_1 = \partial_1 h(0) > 0`, so :math:`R^m = L` exactly and
:math:`\|R - I\|_2 = \|w\|\,|\rho_m| = \|w\|\,|\log(1 + w_1)|/(|w_1| m) + O(m^{-2})`, an
:math:`O(1/m)` term below C1's :math:`O(\log m / m)`.

The test family: :math:`h(x) = s\,(f_K \circ \cdots \circ f_1(x))_1` with flat tanh layers
:math:`f_j(x) = x + e_1 c_j^\top \tanh(B_j x)` of certified :math:`\|f_j - \mathrm{Id}\|_L \le
\alpha_j < 1`, so :math:`\partial_1 h \ge c = s \prod_j (1 - \alpha_j)` (:func:`first_partial_lower_bound`).

*Negative control (an observation, not a theorem).* A scalar map with a critical point
:math:`\nabla h(x^*) = 0` has **no** differentiable bi-Lipschitz extension of any form (a row of
:math:`DH(x^*)` vanishes, but a bi-Lipschitz :math:`H` has :math:`\|DH v\| \ge \|v\|/M`). The test
applies the construction to the flat extension of :math:`\tilde h(x) = x_1 + \tfrac12\tanh 4x_1 -
2\tanh x_1 + x_2 - \tanh x_2` (normalised, critical points at :math:`(\pm 0.24, 0)`,
:math:`(\pm 0.88, 0)`) and records what happens: :math:`\det DH = \partial_1 \tilde h` changes
sign on the box, the implementation refuses to invert, and the layer norms do not decay with
:math:`m` (some layer keeps :math:`\|h_i - \mathrm{Id}\|_L \ge 1`, as ``c1_orientation_necessary``
forces). Recorded as a table and metrics only.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ._smooth_map_hypotheses import SMOOTH_INVERTIBLE_MAP
from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record

#: The depths of the rate sweep (C1's grid up to 256: the C4 layers cost two per depth).
FLAT_DEPTH_GRID = tuple(2**k for k in range(2, 9))  # 4 ... 256

#: The constant C(m) = e(m) m / log m must settle from this depth ...
SETTLE_FROM = 32
#: ... to this one (a factor 8, as C1's 64 -> 512).
SETTLE_TO = 256


def flat_root_coefficient(w1: float, m: int) -> float:
    r""":math:`\rho_m = ((1 + w_1)^{1/m} - 1)/w_1`, so that :math:`(I + e_1 w^\top \rho_m)^m = I + e_1 w^\top`
    (:math:`1/m` at :math:`w_1 = 0`). Needs :math:`1 + w_1 > 0`."""
    if not 1.0 + w1 > 0.0:
        raise ValueError(f"the flat linear part needs 1 + w_1 = d_1 h(0) > 0, got w_1 = {w1!r}")
    if w1 == 0.0:
        return 1.0 / m
    return math.expm1(math.log1p(w1) / m) / w1


def flat_linear_root(first_row: Sequence[float], m: int) -> np.ndarray:
    r"""The :math:`m`-th root :math:`R = I + e_1 w^\top \rho_m` of :math:`L = I + e_1 w^\top`, the
    matrix whose first row is ``first_row`` :math:`= e_1 + w` and whose other rows are the identity's."""
    row = np.asarray(first_row, dtype=float)
    w = row - np.eye(row.size)[0]
    R = np.eye(row.size)
    R[0] += w * flat_root_coefficient(float(w[0]), m)
    return R


def first_partial_lower_bound(scale: float, alphas: Sequence[float]) -> float:
    r""":math:`c = s \prod_j (1 - \alpha_j)`: :math:`\partial_1 h \ge c` for
    :math:`h = s\,(f_K \circ \cdots \circ f_1)_1`, flat :math:`Df_j = I + e_1 u_j^\top`, :math:`\|u_j\| \le \alpha_j`
    (the (1, 1) entry of a product of such matrices is :math:`\prod_j (1 + u_{j,1})`)."""
    return scale * math.prod(1.0 - a for a in alphas)


FLAT_SCALAR_MAP = (
    Hypothesis("flat_extension", r"H(x) = (h(x), x_2, \dots, x_d),\ d \ge 2\ \text{(every layer of}\ h\ \text{moves only}\ x_1)",
               lambda inst: inst["d"] >= 2 and bool(inst["flat"])),
    Hypothesis("first_partial_bounded_below", r"\partial_1 h \ge c > 0\ \text{(certified)}",
               lambda inst: inst["first_partial_lower"] > 0.0, edge=lambda inst: inst["first_partial_lower"]),
)

CLAIM = Claim(
    id="c4_scalar_maps_flat_layers",
    title="h: R^d -> R with d_1 h >= c > 0 is the first coordinate of flat near-identity layers, O(log m / m)",
    statement=statement_of_record(__doc__),
    hypotheses=FLAT_SCALAR_MAP + SMOOTH_INVERTIBLE_MAP,
    conclusion=r"|(R^m h_m \cdots h_1(x))_1 - h(x)| \le \tau,\ |(h_i(z))_j - z_j| \le \tau_j,\ "
    r"\underline{e}(m) \le U(m),\ \frac{C(256)}{C(32)} \le 1.25,\ C(m) = \frac{e(m)\,m}{\log m}",
    kind=Kind.RATE,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Deep compositions of near-identities: Questions"'),
        Reference("BEL18", "1804.05012", "Thm 1 (the construction applied to the flat extension)"),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
    notes="The hypotheses of C1 (SMOOTH_INVERTIBLE_MAP) are read on the normalised extension H~ = L^{-1} H. "
    "tau = tests/tolerances.flat_composition_tol (C1's decomposition_tol through L, plus the rounding of the m "
    "linear layers); tau_j = flat_coordinate_atol. e(m) = max(lower(m), ||R - I||_2 exact), lower(m) = certified "
    "lower estimate of max_i ||h_i - Id||_L (impl estimator, as C1, reduced effort: 64 screened points, 1 layer "
    "refined, 1 local start, 32 pairs); the sandwich lower(m) <= U(m) is C1's certified bound. The rate check "
    "is C1's settle ratio over a factor 8 of depth (32 -> 256), RATE_SETTLE_FACTOR. Sensitivity: dropping the "
    "linear part L, its first-order root I + e_1 w^T/m, a non-flat extension (x_2 + 0.3 tanh x_1), L kept as one "
    "layer, and a planted rate 1/m^2 must be caught. Negative control (observation, no verdict): h~ with a "
    "critical point; table 'negative control' and metrics 'critical-point control: ...'.",
    tags=("nonlinear", "rate", "C4", "C1"),
)
