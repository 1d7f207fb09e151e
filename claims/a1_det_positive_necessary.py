r"""A1 (necessity). :math:`\det A > 0` is necessary for a near-identity factorization
[slide "Products of near-identity matrices", footnote "Provided det(A) > 0"; HM16].

Statement of record: if :math:`\|A_i\| < 1` for every :math:`i`, then
:math:`\det\big((I + A_m)\cdots(I + A_1)\big) > 0`; so a matrix with :math:`\det A \le 0` has
no factorization into near-identities.

Checked through the lemma that gives it: every real eigenvalue :math:`\lambda` of
:math:`I + A_i` satisfies :math:`\lambda \ge 1 - \|A_i\| > 0` (complex eigenvalues come in
conjugate pairs), hence :math:`\det(I + A_i) > 0` and the product has positive determinant.
"""
from __future__ import annotations

import numpy as np

from .model import Claim, Expected, Hypothesis, Kind, Provenance, Reference


def eigen_margin_ratio(residuals: np.ndarray) -> float:
    r""":math:`\min_i \lambda^{\mathbb{R}}_{\min}(I + A_i) / (1 - \|A_i\|)` over factors with a
    real eigenvalue (``inf`` if none: the lemma is then vacuous); the lemma says it is :math:`\ge 1`."""
    d = residuals.shape[-1]
    ratios = []
    for Ai in residuals:
        eig = np.linalg.eigvals(np.eye(d) + Ai)
        real = eig.real[np.abs(eig.imag) <= 1e-12 * max(1.0, np.abs(eig).max())]
        if real.size:
            ratios.append(real.min() / (1.0 - np.linalg.norm(Ai, 2)))
    return min(ratios, default=np.inf)


def _exact(A: np.ndarray):
    """The float matrix as an exact rational SymPy matrix."""
    import sympy

    return sympy.Matrix(A.shape[0], A.shape[1], [sympy.Rational(float(v)) for v in A.ravel()])


def _real_roots(M, x):
    """Real roots of the characteristic polynomial of ``M`` (exact, Berkowitz)."""
    import sympy

    return sympy.Poly(M.charpoly(x).as_expr(), x).real_roots()


def exact_norms(residuals: np.ndarray, digits: int = 100) -> list:
    r""":math:`\|A_i\|_2` from the exact characteristic polynomial of :math:`A_i^\top A_i`, as
    mpmath numbers with ``digits`` correct digits."""
    import mpmath
    import sympy

    x = sympy.Symbol("x")
    with mpmath.workdps(digits):
        return [mpmath.sqrt(mpmath.mpf(str(max(_real_roots(M.T * M, x)).evalf(digits))))
                for M in map(_exact, residuals)]


def det_sign_exact(residuals: np.ndarray) -> int | None:
    r"""Sign of :math:`\det\prod_i (I + A_i)` in exact rational arithmetic, for the re-check of
    a float sign that rounding may have flipped; ``None`` if :math:`\|A_i\| < 1` fails exactly."""
    import sympy

    if any(norm >= 1 for norm in exact_norms(residuals)):
        return None
    d = residuals.shape[-1]
    signs = [sympy.sign((sympy.eye(d) + _exact(Ai)).det(method="berkowitz")) for Ai in residuals]
    return int(sympy.prod(signs))


def eigen_margin_ratio_exact(residuals: np.ndarray, digits: int = 100) -> tuple | None:
    r""":func:`eigen_margin_ratio` and its bound 1 from exact arithmetic, for the re-check of a
    borderline float violation; ``None`` if the hypothesis :math:`\|A_i\| < 1` fails exactly.

    The float entries are exact rationals; eigenvalues and :math:`\|A_i\|^2` are real roots of
    exact characteristic polynomials (SymPy, Berkowitz), each evaluated to ``digits`` digits,
    and the ratio is formed in mpmath at that precision (forming it symbolically first loses
    the cancellation in :math:`1 - \|A_i\|`). mpmath's own ``eig`` does not converge on the
    degenerate matrices where this matters.
    """
    import mpmath
    import sympy

    x = sympy.Symbol("x")
    norms = exact_norms(residuals, digits)
    if any(norm >= 1 for norm in norms):
        return None
    d = residuals.shape[-1]
    ratios = []
    with mpmath.workdps(digits):
        for Ai, norm in zip(residuals, norms):
            real = _real_roots(sympy.eye(d) + _exact(Ai), x)
            if real:
                ratios.append(mpmath.mpf(str(min(real).evalf(digits))) / (1 - norm))
        return min(ratios, default=mpmath.inf), mpmath.mpf(1)


CLAIM = Claim(
    id="a1_det_positive_necessary",
    title="det A > 0 is necessary: ||A_i|| < 1 for all i implies det((I+A_m)...(I+A_1)) > 0",
    statement=r"\max_i\|A_i\|_2 < 1 \Rightarrow \det\big((I + A_m)\cdots(I + A_1)\big) > 0",
    hypotheses=(
        Hypothesis("near_identity", r"\|A_i\|_2 < 1\ \forall i",
                   lambda inst: bool(np.all(np.linalg.norm(inst["residuals"], 2, axis=(1, 2)) < 1))),
    ),
    conclusion=r"\lambda \in \operatorname{spec}(I + A_i) \cap \mathbb{R} \Rightarrow "
    r"\lambda \ge 1 - \|A_i\|_2\ \text{and}\ \operatorname{sign}\det\prod_i (I + A_i) = +1",
    kind=Kind.IMPOSSIBILITY,
    references=(
        Reference("HM16", "1611.04231", "Thm 2.1 (det A > 0 hypothesis)"),
        Reference("Bartlett 2018 slides", None, 'slide "Products of near-identity matrices", footnote *'),
    ),
    provenance=Provenance.DERIVED,
    expected=Expected.HOLDS,
)
