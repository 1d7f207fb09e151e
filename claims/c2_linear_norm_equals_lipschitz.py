r"""C2 (4). For a linear map the induced norm is the Lipschitz seminorm [slide "Stationary
points: Proof ideas (1)"].

Statement of record (slide "Stationary points: Proof ideas (1)", item 4): *For a linear map*
:math:`h` *(such as* :math:`DF(g) - \mathrm{Id}`*),* :math:`\|h\| = \|h\|_L`, *with*
:math:`\|h\| := \sup\{\|h(x)\| / \|x\| : \|x\| > 0\}` *and* :math:`\|h\|_L` *the Lipschitz
seminorm.*

.. math::

   h \text{ linear} \implies \|h\| = \sup_{x \ne 0}\frac{\|h(x)\|}{\|x\|} =
   \sup_{x \ne y}\frac{\|h(x) - h(y)\|}{\|x - y\|} = \|h\|_L

(Linearity: :math:`h(x) - h(y) = h(x - y)`, so the two suprema range over the same
set of quotients.)

Checked for :math:`h(x) = Mx` on :math:`\mathbb{R}^d`: every sampled quotient
:math:`\|h(x) - h(y)\|/\|x - y\|` and :math:`\|h(x)\|/\|x\|` is at most
:math:`\|M\|_2`, and both suprema are attained (to rounding) along the top right singular
vector; symbolically (SymPy), :math:`h(x) - h(y) - h(x - y) \equiv 0` and the two quotients
coincide under :math:`u = x - y`.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def is_finite_real_matrix(M) -> bool:
    r"""Whether ``M`` is a matrix with finite real entries: a float array (2-D, finite), an
    explicit SymPy matrix whose entries are finite and real by their assumptions, or a SymPy
    ``MatrixSymbol`` (generic entries: an identity decided for it holds for every real matrix of
    its shape). The symbolic forms are the instances of the SymPy checks."""
    module = type(M).__module__
    if module.startswith("sympy"):
        import sympy

        if isinstance(M, sympy.MatrixSymbol):
            return True
        return isinstance(M, sympy.MatrixBase) and all(bool(e.is_real) and bool(e.is_finite) for e in M)
    A = np.asarray(M, dtype=float)
    return A.ndim == 2 and bool(np.all(np.isfinite(A)))


def induced_norm_of_matrix(M: np.ndarray) -> float:
    r""":math:`\|x \mapsto Mx\| = \sigma_{\max}(M)` (Euclidean norms)."""
    return float(np.linalg.svd(np.atleast_2d(M), compute_uv=False)[0])


CLAIM = Claim(
    id="c2_linear_norm_equals_lipschitz",
    title="For linear h, the induced norm equals the Lipschitz seminorm",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("linear", r"h(x) = Mx,\ M \in \mathbb{R}^{d \times d}\ \text{finite}",
                   lambda inst: is_finite_real_matrix(inst["M"])),
    ),
    conclusion=r"\frac{\|h(x) - h(y)\|}{\|x - y\|} \le \sigma_{\max}(M),\ "
    r"\frac{\|h(x)\|}{\|x\|} \le \sigma_{\max}(M),\ \text{both attained at } v_1",
    kind=Kind.IDENTITY,
    references=(
        Reference("Bartlett 2018 slides", None, "Stationary points: Proof ideas (1), item 4"),
        Reference("BEL18", "1804.05012", "induced norm of linear maps"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="Sensitivity tests: the spectral radius planted for the induced norm (non-normal M "
    "exceeds it), and linearity dropped (h(x) = tanh(x - 1) + tanh 1 has ||h|| < ||h||_L = 1).",
    tags=("linear", "lipschitz", "C2"),
)
