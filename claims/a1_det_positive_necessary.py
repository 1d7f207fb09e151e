r"""A1 (necessity). :math:`\det A > 0` is necessary for a near-identity factorization
[slide "Products of near-identity matrices", footnote "Provided det(A) > 0"; HM16].

Statement of record (slide "Products of near-identity matrices", footnote "Provided det(A) > 0"):
if :math:`\|A_i\| < 1` for every :math:`i`, the product of the near-identities has positive
determinant; so a matrix with :math:`\det A \le 0` has no factorization into near-identities.

.. math::

   \max_i\|A_i\|_2 < 1 \Rightarrow \det\big((I + A_m)\cdots(I + A_1)\big) > 0

Checked through the lemma that gives it: every real eigenvalue :math:`\lambda` of
:math:`I + A_i` satisfies :math:`\lambda \ge 1 - \|A_i\| > 0` (complex eigenvalues come in
conjugate pairs), hence :math:`\det(I + A_i) > 0` and the product has positive determinant.
"""
from __future__ import annotations

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record


def eigen_margin(residuals: np.ndarray) -> float:
    r""":math:`\min_i \big(\lambda^{\mathbb{R}}_{\min}(I + A_i) + \|A_i\|\big)` over the factors
    with a real eigenvalue (``inf`` if none: the lemma is then vacuous); the lemma says
    it is :math:`\ge 1`. (The sum, not the ratio to :math:`1 - \|A_i\|`, which is ill
    conditioned at the edge :math:`\|A_i\| \to 1` that the search aims for.)"""
    d = residuals.shape[-1]
    margins = []
    for Ai in residuals:
        eig = np.linalg.eigvals(np.eye(d) + Ai)
        real = eig.real[np.abs(eig.imag) <= 1e-12 * max(1.0, np.abs(eig).max())]
        if real.size:
            margins.append(real.min() + np.linalg.norm(Ai, 2))
    return min(margins, default=np.inf)


def _exact(A: np.ndarray):
    """The float matrix as an exact rational SymPy matrix."""
    import sympy

    return sympy.Matrix(A.shape[0], A.shape[1], [sympy.Rational(float(v)) for v in A.ravel()])


def near_identity_exactly(residuals: np.ndarray) -> bool:
    r""":math:`\|A_i\| < 1` for all i in exact arithmetic: :math:`I - A_i^\top A_i \succ 0`, i.e. all
    its leading principal minors are positive (Sylvester)."""
    import sympy

    d = residuals.shape[-1]
    for Ai in residuals:
        G = sympy.eye(d) - _exact(Ai).T * _exact(Ai)
        if any(G[:k, :k].det(method="berkowitz") <= 0 for k in range(1, d + 1)):
            return False
    return True


def det_sign_exact(residuals: np.ndarray) -> int | None:
    r"""Sign of :math:`\det\prod_i (I + A_i)` in exact rational arithmetic, for the re-check of
    a float sign that rounding may have flipped; ``None`` if :math:`\|A_i\| < 1` fails exactly."""
    import sympy

    if not near_identity_exactly(residuals):
        return None
    d = residuals.shape[-1]
    return int(sympy.prod([sympy.sign((sympy.eye(d) + _exact(Ai)).det(method="berkowitz")) for Ai in residuals]))


def _roots(M, digits: int) -> list:
    """Roots of the exact characteristic polynomial of ``M`` at ``digits`` digits: each
    square-free factor separately, so that mpmath's ``polyroots`` sees simple roots only."""
    import mpmath
    import sympy

    x = sympy.Symbol("x")
    roots = []
    for factor, _ in sympy.sqf_list(M.charpoly(x).as_expr(), x)[1]:
        coeffs = [mpmath.mpf(c.p) / c.q for c in sympy.Poly(factor, x).all_coeffs()]
        if len(coeffs) > 1:
            roots += mpmath.polyroots(coeffs, maxsteps=200, extraprec=2 * digits)
    return roots


def eigen_margin_exact(residuals: np.ndarray, digits: int = 120) -> tuple | None:
    r""":func:`eigen_margin` and its bound 1 from the exact rational matrices at ``digits``
    digits, for the re-check of a borderline float violation; ``None`` if the hypothesis
    :math:`\|A_i\| < 1` fails exactly. (mpmath's ``eig`` does not converge on the degenerate
    matrices where this matters; square-free characteristic polynomials do.)"""
    import mpmath
    import sympy

    if not near_identity_exactly(residuals):
        return None
    d = residuals.shape[-1]
    margins = []
    with mpmath.workdps(digits):
        tiny = mpmath.mpf(10) ** (-digits // 2)
        for Ai in residuals:
            A = _exact(Ai)
            real = [mpmath.re(z) for z in _roots(sympy.eye(d) + A, digits) if abs(mpmath.im(z)) <= tiny]
            if real:
                margins.append(min(real) + mpmath.sqrt(max(mpmath.re(z) for z in _roots(A.T * A, digits))))
        return min(margins, default=mpmath.inf), mpmath.mpf(1)


CLAIM = Claim(
    id="a1_det_positive_necessary",
    title="det A > 0 is necessary: ||A_i|| < 1 for all i implies det((I+A_m)...(I+A_1)) > 0",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("near_identity", r"\|A_i\|_2 < 1\ \forall i",
                   lambda inst: bool(np.all(np.linalg.norm(inst["residuals"], 2, axis=(1, 2)) < 1)),
                   edge=lambda inst: 1.0 - float(np.max(np.linalg.norm(inst["residuals"], 2, axis=(1, 2)), initial=0.0))),
    ),
    conclusion=r"\lambda \in \operatorname{spec}(I + A_i) \cap \mathbb{R} \Rightarrow "
    r"\lambda + \|A_i\|_2 \ge 1\ \text{and}\ \operatorname{sign}\det\prod_i (I + A_i) = +1",
    kind=Kind.IMPOSSIBILITY,
    references=(
        Reference("HM16", "1611.04231", "Thm 2.1 (det A > 0 hypothesis)"),
        Reference("Bartlett 2018 slides", None, 'slide "Products of near-identity matrices", footnote *'),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
)
