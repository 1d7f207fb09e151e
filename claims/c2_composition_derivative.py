r"""C2 (3). Derivative of composing with a near-identity map [slide "Stationary points: Proof
ideas (1)"; BEL18].

Statement of record (slide "Stationary points: Proof ideas (1)", item 3): *If*
:math:`\|f - \mathrm{Id}\|_L \le \alpha < 1` *then for* :math:`F(g) = f \circ g`,
:math:`\|DF(g) - \mathrm{Id}\| \le \alpha`, *where* :math:`\|\cdot\|` *is the induced norm*
:math:`\|g\| := \sup\{\|g(x)\| / \|x\| : \|x\| > 0\}`.

.. math::

   \|f - \mathrm{Id}\|_L \le \alpha < 1,\ F(g) = f \circ g \implies \|DF(g) - \mathrm{Id}\| \le \alpha

The Fréchet derivative of :math:`F` at :math:`g` is
:math:`(DF(g)\Delta)(x) = Df(g(x))\,\Delta(x)` (chain rule), so
:math:`((DF(g) - \mathrm{Id})\Delta)(x) = (Df(g(x)) - I)\Delta(x)` and, since
:math:`\|Df(z) - I\|_2 \le \|f - \mathrm{Id}\|_L \le \alpha` at every :math:`z`,

.. math:: \|(DF(g) - \mathrm{Id})\Delta\| = \sup_{x \ne 0}
          \frac{\|(Df(g(x)) - I)\Delta(x)\|}{\|x\|} \le \alpha \|\Delta\|.

Checked on residual layers :math:`f(x) = x + A\sigma(Bx)` with certified :math:`\alpha` and
random smooth :math:`g, \Delta`: (i) :math:`\|Df(z) - I\|_2 \le \alpha` at sampled points,
including points realising each vertex of the slope box; (ii) the induced norm over the
sample points, :math:`\max_i \|(Df(g(x_i)) - I)\Delta(x_i)\|/\|x_i\| \le \alpha
\max_i \|\Delta(x_i)\|/\|x_i\|` (a valid consequence on any finite sample); (iii) the chain
rule itself, by central differences of :math:`t \mapsto F(g + t\Delta)(x)`.
"""
from __future__ import annotations

import numpy as np

from ._near_identity_layer import NEAR_IDENTITY_LAYER
from .engine.model import Claim, Expected, Kind, Provenance, Reference, statement_of_record


def derivative_deviation_bound(alpha: float) -> float:
    r""":math:`\|DF(g) - \mathrm{Id}\| \le \alpha`."""
    return alpha


def induced_norm_on_samples(values: np.ndarray, points: np.ndarray) -> float:
    r"""The slide's induced norm restricted to samples: :math:`\max_i \|v_i\| / \|x_i\|`.

    ``values`` and ``points`` are (n, d) arrays (rows :math:`v_i = h(x_i)`); every
    :math:`x_i \ne 0`. A lower estimate of :math:`\|h\|`.
    """
    return float(np.max(np.linalg.norm(values, axis=1) / np.linalg.norm(points, axis=1)))


CLAIM = Claim(
    id="c2_composition_derivative",
    title="F(g) = f o g has ||DF(g) - Id|| <= alpha",
    statement=statement_of_record(__doc__),
    hypotheses=NEAR_IDENTITY_LAYER,
    conclusion=r"\|(DF(g) - \mathrm{Id})\Delta\| \le \alpha\|\Delta\|\ \forall \Delta,\quad "
    r"(DF(g)\Delta)(x) = Df(g(x))\Delta(x)",
    kind=Kind.UPPER_BOUND,
    references=(
        Reference("Bartlett 2018 slides", None, "Stationary points: Proof ideas (1), item 3"),
        Reference("BEL18", "1804.05012", "derivative of composition with a near-identity"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="The induced norm is a sup over x != 0; on a finite sample the inequality holds "
    "pointwise, hence for the sample maxima, so the sampled check can only refute. ReLU points "
    "whose difference segment crosses a kink are left out of the central-difference check "
    "(f is not differentiable there). Sensitivity tests: alpha/2 planted, sigmoid slope bound "
    "1/8, a chain rule that forgets g (Df(x) in place of Df(g(x))), and the certificate alpha "
    "attained for ReLU layers with k <= d (the checks are only as sharp as alpha). The "
    "activation constants (sup sigma', sup |sigma^(3)|) are checked symbolically on the "
    "one-unit layer x + sigma(x)/2, whose certificate is sup sigma' / 2.",
    tags=("nonlinear", "lipschitz", "frechet", "C2"),
)
