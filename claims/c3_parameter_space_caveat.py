r"""C3 (caveat). Suboptimal stationary points exist in the *parameter* space of a fixed
architecture, although none exists in function space [slide "Stationary points: What the
theorem says" (second slide); BEL18].

Statement of record (slide "Stationary points: What the theorem says", second slide): *the theorem
does not say there are no local minima of a deep residual network of ReLUs or sigmoids with a
fixed architecture. Except at the global minimum, there is a downhill direction in function
space, but this direction might be orthogonal to functions that can be computed with this fixed
architecture. We should expect suboptimal stationary points in the ReLU or sigmoid parameter
space, but these cannot arise because of
interactions between parameters in different layers; they arise only within a layer.*

.. math::

   \exists\ \theta:\ \nabla_\theta Q(\theta) = 0,\ Q(h_\theta) > Q(h^*),\ \|D_{h_i}Q(h_\theta)\| >
   0\ \forall i\ \text{(fixed ReLU or sigmoid residual architecture)}

Encoded as an existence claim, with reproducible instances: residual networks
:math:`h = h_m \circ \cdots \circ h_1`, :math:`h_k(z) = z + A_k\sigma(B_k z)`, at parameters
:math:`\theta` with :math:`\nabla_\theta Q(\theta) = 0` (exactly, up to rounding) and
:math:`Q(h) > Q(h^*)`, whose layers are near-identities fixing 0, so that the function-space
theorem (``c3_no_bad_stationary_points_zero_fixing``) applies and gives
:math:`\|D_{h_i}Q(h)\| > 0` for every :math:`i`. Two mechanisms, both within a layer:

* ReLU: every unit dead on the sample (:math:`B_k z < 0` at every sample point): :math:`Q` is
  locally constant in :math:`\theta` (a flat, suboptimal local minimum);
* sigmoid: :math:`A_k = 0` with residuals orthogonal to every :math:`\sigma(B_k X)` column: a
  saddle.

At both, the functional derivative vanishes on every direction the architecture can move in
(:math:`D_{h_i}Q(h)(\partial h_i/\partial\theta) = \partial Q/\partial\theta = 0`), while its
norm is positive: the downhill direction is orthogonal to the architecture's tangent space.
"""
from __future__ import annotations

from ._functional_risk import NEAR_IDENTITY_COMPOSITION, ZERO_FIXING
from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record

CLAIM = Claim(
    id="c3_parameter_space_caveat",
    title="A suboptimal stationary point in ReLU / sigmoid parameter space, with non-zero function-space gradient",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("fixed_architecture", r"h_k(z) = z + A_k\sigma(B_k z),\ \sigma \in \{\mathrm{ReLU}, \mathrm{sigmoid}\}",
                   lambda inst: len(inst["activations"]) == 1 and inst["activations"][0] in ("relu", "sigmoid")),
    ) + NEAR_IDENTITY_COMPOSITION + (ZERO_FIXING,),
    conclusion=r"\|\nabla_\theta Q\| \le \tau,\ Q(h) - Q(h^*) > 0,\ \min_i \|D_{h_i}Q(h)\| \ge "
    r"\frac{(1 - \varepsilon)^{m-1}}{\|h - h^*\|}(Q(h) - Q(h^*)) > 0",
    kind=Kind.EXISTENCE,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Stationary points: What the theorem says" (2nd)'),
        Reference("BEL18", "1804.05012", "discussion after the function-space theorem"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="tau = tests/tolerances.parameter_stationarity_atol. The backpropagated gradient is checked against "
    "central differences and against the functional derivative along the parameter tangent "
    "(chain rule), so a gradient that is wrongly zero cannot fake stationarity. Sensitivity: a "
    "unit alive at one sample point, a gradient that returns zeros, and an optimal (not "
    "suboptimal) instance must be caught.",
    tags=("nonlinear", "C3", "parameter space"),
)
