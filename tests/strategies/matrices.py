"""Hypothesis strategies for the linear-algebra claims.

Instances are valid by construction (orthogonal x spectrum x orthogonal, ``expm`` of bounded
skew matrices): no ``assume``/filter for structure, so shrinking moves every drawn float to 0,
i.e. toward the identity.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import scipy.linalg
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra.numpy import arrays


def check_integer(name: str, value, *, min_value: int = 1) -> None:
    """``InvalidArgument`` unless ``value`` is an integer (not a bool) >= ``min_value``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < min_value:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {min_value}")


def check_real(name: str, value, *, low: float, high: float = math.inf, low_open: bool = False,
               high_open: bool = False) -> None:
    """``InvalidArgument`` unless ``value`` is a real number in the stated interval."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and not math.isnan(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low!r}, {high!r}{')' if high_open else ']'}"
        raise InvalidArgument(f"{name}={value!r} must be a real number in {interval}")


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def rotations(d: int) -> st.SearchStrategy[np.ndarray]:
    r"""A rotation :math:`\exp(K) \in SO(d)`, ``K`` skew with entries in :math:`[-\pi, \pi]`
    (shrinks to the identity). ``d`` may be passed positionally."""
    check_integer("d", d)
    return _rotations(int(d))


@st.composite
def _rotations(draw, d):
    upper = draw(arrays(np.float64, d * (d - 1) // 2, elements=_floats(-np.pi, np.pi)))
    K = np.zeros((d, d))
    K[np.triu_indices(d, 1)] = upper
    return scipy.linalg.expm(K - K.T)


#: The values of ``square_matrices(det_sign=...)``.
DET_SIGNS = ("positive", "negative", "any")


def square_matrices(
    *,
    min_d: int = 1,
    max_d: int = 6,
    max_log_sigma: float = 3.0,
    det_sign: str = "positive",
) -> st.SearchStrategy[np.ndarray]:
    r"""Real :math:`A = U \operatorname{diag}(e^{s}) V^\top` with :math:`|s_j| \le` ``max_log_sigma``.

    ``det_sign``: ``"positive"`` (det A > 0, negative eigenvalues included), ``"negative"``
    (a reflection is applied), or ``"any"`` (either sign, and singular matrices with some
    singular values set to exactly 0). Any other value raises ``InvalidArgument``.
    """
    check_integer("min_d", min_d)
    check_integer("max_d", max_d)
    if max_d < min_d:
        raise InvalidArgument(f"max_d={max_d!r} must be >= min_d={min_d!r}")
    check_real("max_log_sigma", max_log_sigma, low=0.0, high=math.inf, high_open=True)
    if det_sign not in DET_SIGNS:
        raise InvalidArgument(f"det_sign={det_sign!r} must be one of {DET_SIGNS!r}")
    return _square_matrices(int(min_d), int(max_d), float(max_log_sigma), det_sign)


@st.composite
def _square_matrices(draw, min_d, max_d, max_log_sigma, det_sign):
    d = draw(st.integers(min_d, max_d))
    log_s = draw(arrays(np.float64, d, elements=_floats(-max_log_sigma, max_log_sigma)))
    s = np.exp(log_s)
    left, right = draw(_rotations(d)), draw(_rotations(d))
    sign = {"positive": 1, "negative": -1}.get(det_sign) or draw(st.sampled_from([1, -1]))
    if det_sign == "any":
        zeros = draw(st.integers(0, d))
        s[d - zeros:] = 0.0
    s[0] *= sign
    return (left * s) @ right.T


#: Matrices the search must always contain (explicit examples): -I, rotation by pi,
#: negative eigenvalues with det > 0, a defective-looking Jordan-like block.
SPECIAL_POSITIVE_DET = (
    -np.eye(2),
    -np.eye(4),
    np.array([[0.0, -1.0], [1.0, 0.0]]),
    np.diag([-1.0, -4.0, 0.5]),
    np.array([[-1.0, 10.0], [0.0, -1.0]]),
)


#: Exactly singular matrices whose SVD gives det(U V^T) = -1 (the polar factor must be
#: repaired on the kernel) and a det < 0 one: random draws are never exactly singular.
SPECIAL_ANY_DET = (
    np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    np.array([[0.0, 0.0], [0.0, -1.0]]),
    np.zeros((2, 2)),
    np.diag([2.0, -1.0]),
)


def depths(max_L: int = 64) -> st.SearchStrategy[int]:
    """Depths ``L`` in ``[1, max_L]`` (shrinks to 1). ``max_L`` may be passed positionally."""
    check_integer("max_L", max_L)
    return st.integers(1, int(max_L))


def layer_stacks(*, max_d: int = 4, max_L: int = 8, min_sigma: float = 0.05,
                 max_sigma: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    r"""Layers :math:`\Theta_i = U_i \operatorname{diag}(s_i) V_i^\top`, shape ``(L, d, d)``, with
    every singular value in ``[min_sigma, max_sigma]`` (``0 < min_sigma <= 1 <= max_sigma``); or,
    half the time at most, the scaled identities :math:`\Theta_i = c_i I` (where the gradient
    bounds of B3 are attained).

    Singular values are ``lo + spread * u`` with ``u`` uniform in [0, 1]; shrinking moves toward
    ``lo = 1`` and ``spread = 0``, the identity stack.
    """
    check_integer("max_d", max_d)
    check_integer("max_L", max_L)
    check_real("min_sigma", min_sigma, low=0.0, high=1.0, low_open=True)
    check_real("max_sigma", max_sigma, low=1.0, high=math.inf, high_open=True)
    return _layer_stacks(int(max_d), int(max_L), float(min_sigma), float(max_sigma))


@st.composite
def _layer_stacks(draw, max_d, max_L, min_sigma, max_sigma):
    d = draw(st.integers(1, max_d))
    L = draw(st.integers(1, max_L))
    lo = 1.0 - draw(_floats(0.0, 1.0 - min_sigma))
    spread = draw(_floats(0.0, max(0.0, max_sigma - lo)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # c_i I
        return np.einsum("l,ij->lij", lo + spread * rng.uniform(size=L), np.eye(d))
    s = lo + spread * rng.uniform(size=(L, d))
    U = np.linalg.qr(rng.standard_normal((L, d, d)))[0]
    V = np.linalg.qr(rng.standard_normal((L, d, d)))[0]
    return (U * s[:, None, :]) @ np.swapaxes(V, -1, -2)
