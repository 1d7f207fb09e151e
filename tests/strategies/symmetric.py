"""Hypothesis strategies for symmetric targets and step parameters (B6, B7, B8).

Strategies (plural nouns, keyword-only arguments validated at call time with
``InvalidArgument``, valid by construction, shrinking toward the simplest instance):
:func:`symmetric_targets`, :func:`spectra`, :func:`symmetric_gd_runs`, :func:`penalties`,
:func:`log_uniform`. Builders (plain functions, used by strategies and reproductions):
:func:`seeded_orthogonal`, :func:`symmetric_from_spectrum`.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import NamedTuple, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra.numpy import arrays

from resclaims.claims.b8_commuting_normal_invariance import slide_step


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _check_integer(name: str, value, *, min_value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < min_value:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {min_value}")


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not (0 < value < math.inf):
        raise InvalidArgument(f"{name}={value!r} must be a finite real number > 0")


def _check_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be a bool")


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


def symmetric_targets(
    *,
    min_d: int = 1,
    max_d: int = 5,
    max_abs: float = 4.0,
    negative: bool = False,
    min_lambda: float = 0.05,
    repeated: bool = True,
) -> st.SearchStrategy[SymmetricTarget]:
    r"""Symmetric :math:`\Phi = Q\,\mathrm{diag}(\mu)\,Q^\top` with :math:`|\mu_j| \le` ``max_abs``,
    ``Q`` from a seeded generator, exactly symmetrized.

    Each eigenvalue is drawn as :math:`\mu_j = 1 + \delta_j` (shrinking moves to :math:`\Phi = I`).
    ``negative=True`` makes :math:`\mu_1 = -\lambda` with :math:`\lambda \in` [``min_lambda``,
    ``max_abs``] (an eigenvalue :math:`-\lambda < 0` by construction, no filtering).
    ``repeated`` lets an eigenvalue copy its predecessor (exactly repeated in the drawn
    spectrum; equal to rounding in ``Phi``).
    """
    _check_integer("min_d", min_d, min_value=1)
    _check_integer("max_d", max_d, min_value=min_d)
    _check_positive("max_abs", max_abs)
    _check_bool("negative", negative)
    _check_positive("min_lambda", min_lambda)
    if min_lambda > max_abs:
        raise InvalidArgument(f"min_lambda={min_lambda!r} must be <= max_abs={max_abs!r}")
    _check_bool("repeated", repeated)
    return _symmetric_targets(int(min_d), int(max_d), float(max_abs), negative, float(min_lambda), repeated)


@st.composite
def _symmetric_targets(draw, min_d, max_d, max_abs, negative, min_lambda, repeated) -> SymmetricTarget:
    d = draw(st.integers(min_d, max_d))
    mu = 1.0 + draw(arrays(np.float64, d, elements=_floats(-max_abs - 1.0, max_abs - 1.0)))
    if negative:
        mu[0] = -draw(_floats(min_lambda, max_abs))
    if repeated and d > 1:
        ties = draw(arrays(np.bool_, d - 1))
        for j in np.flatnonzero(ties) + 1:
            mu[j] = mu[j - 1]
    return symmetric_from_spectrum(mu, draw(st.integers(0, 2**32 - 1)))


def spectra(*, min_d: int = 1, max_d: int = 6, max_abs: float = 5.0) -> st.SearchStrategy[np.ndarray]:
    """Spectra: float64 arrays of d entries in [-max_abs, max_abs], ``min_d <= d <= max_d`` (no
    subnormals; shrinks to zeros)."""
    _check_integer("min_d", min_d, min_value=1)
    _check_integer("max_d", max_d, min_value=min_d)
    _check_positive("max_abs", max_abs)
    return arrays(np.float64, st.integers(int(min_d), int(max_d)), elements=_floats(-float(max_abs), float(max_abs)))


class SymmetricRun(NamedTuple):
    """One gradient-descent problem on a symmetric target (unpacks as a tuple)."""

    target: SymmetricTarget
    L: int
    step: float
    penalty: float
    steps: int


def symmetric_gd_runs(
    *,
    values: Sequence[float] = (1.0, 2.0, 0.5, -1.0, 3.0, -0.25),
    max_d: int = 3,
    max_L: int = 4,
    step_fractions: Sequence[float] = (1.0, 0.5, 0.25),
    penalty_values: Sequence[float] = (0.0, 0.5),
    max_steps: int = 8,
    max_seed: int = 3,
) -> st.SearchStrategy[SymmetricRun]:
    """Small GD runs for sensitivity searches: a symmetric target with eigenvalues from ``values``
    (``1 <= d <= max_d``, basis seed in ``[0, max_seed]``), depth ``1 <= L <= max_L``, a step equal to a
    fraction (from ``step_fractions``, each in (0, 1]) of the slide's (non-expanding dynamics: no
    rounding amplification, so a violation is real), a penalty from ``penalty_values`` (each >= 0),
    ``1 <= steps <= max_steps``. Discrete choices shrink fast toward the first of each list."""
    for name, seq in (("values", values), ("step_fractions", step_fractions), ("penalty_values", penalty_values)):
        if not len(seq) or not all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in seq):
            raise InvalidArgument(f"{name}={seq!r} must be a non-empty sequence of finite real numbers")
    if not all(0 < f <= 1 for f in step_fractions):
        raise InvalidArgument(f"step_fractions={step_fractions!r} must lie in (0, 1]")
    if not all(p >= 0 for p in penalty_values):
        raise InvalidArgument(f"penalty_values={penalty_values!r} must be >= 0")
    _check_integer("max_d", max_d, min_value=1)
    _check_integer("max_L", max_L, min_value=1)
    _check_integer("max_steps", max_steps, min_value=1)
    _check_integer("max_seed", max_seed, min_value=0)
    return _symmetric_gd_runs(tuple(values), int(max_d), int(max_L), tuple(step_fractions), tuple(penalty_values),
                              int(max_steps), int(max_seed))


@st.composite
def _symmetric_gd_runs(draw, values, max_d, max_L, step_fractions, penalty_values, max_steps, max_seed):
    mu = draw(st.lists(st.sampled_from(values), min_size=1, max_size=max_d))
    target = symmetric_from_spectrum(mu, draw(st.integers(0, max_seed)))
    L = draw(st.integers(1, max_L))
    step = draw(st.sampled_from(step_fractions)) * slide_step(target.Phi, L)
    return SymmetricRun(target, L, step, draw(st.sampled_from(penalty_values)), draw(st.integers(1, max_steps)))


def penalties() -> st.SearchStrategy[float]:
    """Penalty kappa of regularized GD: 0 (plain GD) half the time, else in [0.01, 3]."""
    return st.tuples(st.booleans(), st.floats(0.01, 3.0)).map(lambda p: p[1] if p[0] else 0.0)


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Log-uniform floats in [lo, hi] (0 < lo < 1 < hi); the exponent shrinks to 0, i.e. to 1.
    (Positional bounds, like ``st.floats(min_value, max_value)``.)"""
    _check_positive("lo", lo)
    _check_positive("hi", hi)
    if not lo < 1 < hi:
        raise InvalidArgument(f"lo={lo!r}, hi={hi!r} must satisfy lo < 1 < hi (the shrink target 1 inside)")
    return st.floats(math.log(lo), math.log(hi)).map(math.exp)
