"""Hypothesis strategies for symmetric targets and step parameters (B6, B7, B8)."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from strategies.matrices import _floats


class SymmetricTarget(NamedTuple):
    r"""A symmetric target :math:`\Phi = Q\,\mathrm{diag}(\mu)\,Q^\top`, exactly symmetric.

    ``spectrum`` is the drawn :math:`\mu` (unsorted, repeats allowed), ``basis`` the orthogonal
    :math:`Q` and ``seed`` the seed of the generator that drew it (reproduces ``basis``).
    The eigenvalues of ``Phi`` equal ``spectrum`` to rounding (``eigvalsh(Phi)`` is the truth).
    """

    Phi: np.ndarray
    spectrum: np.ndarray
    basis: np.ndarray
    seed: int


def seeded_orthogonal(d: int, seed: int) -> np.ndarray:
    """A Haar-distributed orthogonal matrix from ``np.random.default_rng(seed)`` (QR of a
    Gaussian matrix with the signs of R's diagonal folded into Q)."""
    Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def symmetric_from_spectrum(spectrum, seed: int) -> SymmetricTarget:
    r""":math:`\tfrac12(P + P^\top)` with :math:`P = Q\,\mathrm{diag}(\mu)\,Q^\top` (float addition is
    commutative, so the result is exactly symmetric: ``Phi == Phi.T``)."""
    mu = np.asarray(spectrum, dtype=float)
    Q = seeded_orthogonal(mu.size, seed)
    P = (Q * mu) @ Q.T
    return SymmetricTarget(0.5 * (P + P.T), mu, Q, int(seed))


@st.composite
def symmetric_targets(
    draw,
    *,
    min_d: int = 1,
    max_d: int = 5,
    max_abs: float = 4.0,
    negative: bool = False,
    min_lambda: float = 0.05,
    repeated: bool = True,
) -> SymmetricTarget:
    r"""Symmetric :math:`\Phi = Q\,\mathrm{diag}(\mu)\,Q^\top` with :math:`|\mu_j| \le` ``max_abs``,
    ``Q`` from a seeded generator, exactly symmetrized.

    Each eigenvalue is drawn as :math:`\mu_j = 1 + \delta_j` (shrinking moves to :math:`\Phi = I`).
    ``negative=True`` makes :math:`\mu_1 = -\lambda` with :math:`\lambda \in` [``min_lambda``,
    ``max_abs``] (an eigenvalue :math:`-\lambda < 0` by construction, no filtering).
    ``repeated`` lets an eigenvalue copy its predecessor (exactly repeated in the drawn
    spectrum; equal to rounding in ``Phi``).
    """
    d = draw(st.integers(min_d, max_d))
    mu = 1.0 + draw(arrays(np.float64, d, elements=_floats(-max_abs - 1.0, max_abs - 1.0)))
    if negative:
        mu[0] = -draw(_floats(min_lambda, max_abs))
    if repeated and d > 1:
        ties = draw(arrays(np.bool_, d - 1))
        for j in np.flatnonzero(ties) + 1:
            mu[j] = mu[j - 1]
    return symmetric_from_spectrum(mu, draw(st.integers(0, 2**32 - 1)))


def penalties() -> st.SearchStrategy[float]:
    """Penalty kappa of regularized GD: 0 (plain GD) half the time, else in [0.01, 3]."""
    return st.tuples(st.booleans(), st.floats(0.01, 3.0)).map(lambda p: p[1] if p[0] else 0.0)


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Log-uniform floats in [lo, hi] (lo < 1 < hi); the exponent shrinks to 0, i.e. to 1."""
    return st.floats(math.log(lo), math.log(hi)).map(math.exp)
