r"""B1. Gradient of the deep linear loss, and the gradient-descent update [slide "Gradient descent"].

Statement of record (slide): for :math:`\ell(\Theta) = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2` with
:math:`\Theta_{i:j} = \Theta_j\cdots\Theta_i` (an empty product is :math:`I`),

.. math::  \nabla_{\Theta_i}\ell(\Theta) = (\Theta_{i+1:L})^\top\,(\Theta_{1:L} - \Phi)\,(\Theta_{1:i-1})^\top,
           \qquad i = 1, \dots, L,

and gradient descent is :math:`\Theta^{(0)} = (I, \dots, I)`,
:math:`\Theta_i^{(t+1)} = \Theta_i^{(t)} - \eta\,\nabla_{\Theta_i}\ell(\Theta^{(t)})` (all layers
from the same iterate).

Checked (i) symbolically with SymPy: ``diff`` of the trace form
:math:`\tfrac12\operatorname{tr}((\Theta_{1:L} - \Phi)^\top(\Theta_{1:L} - \Phi))` with respect to
each ``MatrixSymbol`` :math:`\Theta_i` of symbolic size :math:`n`, minus the slide's formula as a
matrix expression, expands to the zero matrix (L = 1..4); and entry by entry for tiny explicit
matrices, where the exact Hessian is compared with the engine's too; (ii) numerically: the
engine's gradient, Hessian-vector product and exact Hessian against central differences whose
tolerance is the proven truncation + rounding bound; (iii) one GD step of the engine equals
:math:`\Theta - \eta\nabla\ell` and the batched engine follows the per-problem recursion.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, Tracked


def partial_product(layers: np.ndarray, i: int, j: int) -> np.ndarray:
    r""":math:`\Theta_{i:j} = \Theta_j \cdots \Theta_i` (1-based, inclusive); :math:`I` when :math:`i > j`."""
    d = layers.shape[-1]
    out = np.eye(d)
    for k in range(i, j + 1):
        out = layers[k - 1] @ out
    return out


def slide_gradient(layers: np.ndarray, target: np.ndarray) -> np.ndarray:
    r"""The slide's formula evaluated literally, layer by layer (O(L^2) products; a reference,
    not an engine): :math:`(\Theta_{i+1:L})^\top(\Theta_{1:L} - \Phi)(\Theta_{1:i-1})^\top`."""
    L = layers.shape[0]
    E = partial_product(layers, 1, L) - target
    return np.stack([partial_product(layers, i + 1, L).T @ E @ partial_product(layers, 1, i - 1).T
                     for i in range(1, L + 1)])


def symbolic_slide_gradient(thetas, target, i: int):
    r"""The slide's formula as a SymPy matrix expression, for ``MatrixSymbol`` layers
    ``thetas[0..L-1]`` (:math:`\Theta_1..\Theta_L`) and ``target`` :math:`\Phi`."""
    import sympy

    n = target.shape[0]

    def prod(a: int, b: int):
        factors = [thetas[k - 1] for k in range(b, a - 1, -1)]
        if not factors:
            return sympy.Identity(n)
        return sympy.MatMul(*factors) if len(factors) > 1 else factors[0]

    L = len(thetas)
    return prod(i + 1, L).T * (prod(1, L) - target) * prod(1, i - 1).T


def symbolic_loss(thetas, target):
    r""":math:`\tfrac12\operatorname{tr}(E^\top E)`, :math:`E = \Theta_L\cdots\Theta_1 - \Phi`, as a SymPy expression."""
    import sympy

    P = sympy.MatMul(*reversed(thetas)) if len(thetas) > 1 else thetas[0]
    E = P - target
    return sympy.Rational(1, 2) * sympy.Trace(E.T * E)


def _square_stack(inst) -> bool:
    """Square layers and target(s) of one size; symbolic instances (MatrixSymbols declared
    n x n) hold by construction."""
    if inst.get("symbolic"):
        return True
    if "targets" in inst:  # a batch of problems sharing d and L
        targets = np.asarray(inst["targets"])
        return targets.ndim == 3 and targets.shape[1] == targets.shape[2] == inst["d"]
    layers, target = np.asarray(inst["layers"]), np.asarray(inst["target"])
    return layers.ndim == 3 and layers.shape[1] == layers.shape[2] and target.shape == layers.shape[1:]


CLAIM = Claim(
    id="b1_gradient_formula",
    title="Gradient of 1/2||Theta_{1:L} - Phi||_F^2: Theta_{i+1:L}^T (Theta_{1:L} - Phi) Theta_{1:i-1}^T; GD step",
    statement=r"\nabla_{\Theta_i}\ell(\Theta) = (\Theta_{i+1:L})^\top(\Theta_{1:L} - \Phi)(\Theta_{1:i-1})^\top,"
    r"\quad \Theta_i^{(t+1)} = \Theta_i^{(t)} - \eta\,\nabla_{\Theta_i}\ell(\Theta^{(t)}),\ \Theta^{(0)} = (I,\dots,I)",
    hypotheses=(
        Hypothesis("square_layers", r"\Theta_1,\dots,\Theta_L,\Phi \in \mathbb{R}^{d\times d}", _square_stack),
    ),
    conclusion=r"\text{engine gradient, HVP, Hessian} = \text{central differences (proven tolerance)};\ "
    r"\partial\ell/\partial\Theta_i - \text{slide formula} \equiv 0\ \text{(SymPy)};\ "
    r"\text{one GD step} = \Theta - \eta\nabla\ell",
    kind=Kind.IDENTITY,
    references=(
        Reference("Bartlett 2018 slides", None, 'slide "Gradient descent"'),
        Reference("BHL18", "1802.06093", "gradient of the population loss of a deep linear network"),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="Numerical checks use central differences along coordinate (gradient) and random "
    "(Hessian-vector product) directions, with tolerance 2 (t^2/6 sup|third derivative| + rounding/t) "
    "from explicit bounds on the derivatives of the product along the segment (tests/tolerances.py), "
    "and t chosen to minimise it. Sensitivity tests plant: transposes dropped, an off-by-one layer "
    "index, the gradient of the loss without 1/2, a penalty of the wrong sign (gradient); the "
    "Gauss-Newton product and a transposed direction (HVP); layers updated one after another "
    "(GD step); a reference run with step eta (1 + 1e-6) (batched engine); and four wrong formulas "
    "that the symbolic comparison must reject.",
    tags=("deep linear", "gradient", "symbolic", "B1"),
    # the slack is 1 - error/tolerance with rounding-level errors, which vary with the BLAS
    # kernels: the gate only asks that errors stay below half their proven tolerance
    tracked=(Tracked("worst slack", "higher", atol=0.5),),
)
