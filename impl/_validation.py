"""Input validation shared by every public function of ``impl``.

Each checker raises ``ValueError`` (``TypeError`` for a wrong type) whose message names the
argument and the violated condition, so that bad input never becomes a silent NaN.
"""
from __future__ import annotations

import numbers

import numpy as np


def finite_array(name: str, value, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a float64 array; reject complex, NaN/inf and a wrong ``ndim``."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def square_matrix(name: str, value) -> np.ndarray:
    """A finite real square matrix (d x d, d >= 1)."""
    arr = finite_array(name, value, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}")
    return arr


def positive_det_matrix(name: str, value) -> np.ndarray:
    """A finite real square matrix with ``det > 0`` (sign from a stable LU, not from overflow)."""
    arr = square_matrix(name, value)
    sign, _ = np.linalg.slogdet(arr)
    if sign <= 0:
        raise ValueError(f"{name} must have det > 0, got det {'= 0' if sign == 0 else '< 0'}")
    return arr


def positive_int(name: str, value) -> int:
    """An integer >= 1 (bools and non-integral floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def nonnegative_int(name: str, value) -> int:
    """An integer >= 0 (bools and non-integral floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def positive_real(name: str, value) -> float:
    """A finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number > 0, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return value


def finite_real(name: str, value) -> float:
    """A finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value
