r"""A3. Projection theorem, "why wlog" [slide "Optimization in deep linear residual networks:
why wlog?"].

Statement of record (slide "Optimization in deep linear residual networks: why wlog?"): with
:math:`\Phi` the minimizer of :math:`\mathbb{E}\|\Phi x - y\|^2`,
":math:`\mathbb{E}\|\Theta x - y\|^2 = \mathbb{E}\|\Theta x - \Phi x\|^2
+ 2\mathbb{E}(\Theta x - \Phi x)^\top(\Phi x - y) + \mathbb{E}\|\Phi x - y\|^2
= \mathbb{E}\|\Theta x - \Phi x\|^2 + \mathbb{E}\|\Phi x - y\|^2`", so one may assume
:math:`y = \Phi x`.

.. math::

   \Phi \in \arg\min_\Phi \mathbb{E}\|\Phi x - y\|^2 \Rightarrow \forall\Theta:\
   \mathbb{E}\|\Theta x - y\|^2 = \mathbb{E}\|\Theta x - \Phi x\|^2 + \mathbb{E}\|\Phi x - y\|^2

Checked for the empirical distribution of a sample (where it holds exactly, rank-deficient
inputs included) for every :math:`\Theta`, and symbolically with SymPy in population form
(:math:`\Sigma = \mathbb{E}xx^\top`, :math:`C = \mathbb{E}yx^\top`, :math:`\Phi = C\Sigma^{-1}`).
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def normal_equations_residual(Phi: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
    r"""Relative residual of :math:`\Phi X^\top X = Y^\top X` (0 iff :math:`\Phi` is a minimizer)."""
    G = X.T @ X
    return float(np.linalg.norm(Phi @ G - Y.T @ X) / max(np.linalg.norm(Y) * np.linalg.norm(X), 1e-300))


CLAIM = Claim(
    id="a3_projection_theorem",
    title="Projection theorem: E||Theta x - y||^2 = E||Theta x - Phi x||^2 + E||Phi x - y||^2",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("phi_least_squares", r"\Phi X^\top X = Y^\top X\ \text{(normal equations)}",
                   lambda inst: normal_equations_residual(inst["Phi"], inst["X"], inst["Y"]) <= 1e-8),
    ),
    conclusion=r"\big|\mathbb{E}\|\Theta x - y\|^2 - \mathbb{E}\|\Theta x - \Phi x\|^2 - "
    r"\mathbb{E}\|\Phi x - y\|^2\big| \le \tau\,(\mathbb{E}\|\Theta x - \Phi x\|^2 + \mathbb{E}\|\Phi x - y\|^2)",
    kind=Kind.IDENTITY,
    references=(Reference("Bartlett 2018 slides", None, 'slide "why wlog?" (projection theorem)'),),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
)
