"""Adversarial searches for the constants atlas: an optimizer over instances, from many starts.

A row of the atlas (``Constant`` in a claim module) is searched by minimising an objective over
an instance's parameters (a bound's slack, the initial loss of a failing target, ...) with a
local optimizer of :mod:`scipy.optimize` started from many seeded points, and the effort is
stated (``starts``, ``evaluations``); a search that needs a population method calls
``scipy.optimize.differential_evolution`` itself (B2's c_0, vectorized over batched GD). Everything is deterministic for a given ``seed``, so the
ci profile's atlas is reproducible and the gate can track it.

>>> import numpy as np
>>> found = multistart(lambda x: float((x[0] - 1.0) ** 2 + 3.0), starting_points(4, 1, seed=0))
>>> round(found.value, 6), found.starts, found.evaluations >= 4
(3.0, 4, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize


@dataclass(frozen=True)
class SearchResult:
    """The best point of a multistart search and its effort."""

    x: np.ndarray
    value: float
    method: str
    starts: int
    evaluations: int


class _Counted:
    """The objective, counting its evaluations; a non-finite value is +inf (an infeasible point)."""

    def __init__(self, objective: Callable[[np.ndarray], float]) -> None:
        self.objective, self.evaluations = objective, 0
        self.best_x, self.best_value = None, math.inf

    def __call__(self, x: np.ndarray) -> float:
        self.evaluations += 1
        value = float(self.objective(np.asarray(x, dtype=float)))
        if not math.isfinite(value):
            return math.inf
        if value < self.best_value:
            self.best_x, self.best_value = np.array(x, dtype=float), value
        return value


def starting_points(starts: int, dimension: int, *, seed: int, scale: float = 1.0) -> np.ndarray:
    """``starts`` seeded standard-normal points in ``dimension`` parameters, times ``scale``."""
    if starts < 1 or dimension < 1:
        raise ValueError(f"starting_points: starts and dimension must be >= 1, got {starts!r}, {dimension!r}")
    return scale * np.random.default_rng(seed).standard_normal((starts, dimension))


def multistart(
    objective: Callable[[np.ndarray], float],
    starts: np.ndarray,
    *,
    method: str = "Nelder-Mead",
    max_evaluations_per_start: int = 400,
    bounds=None,
) -> SearchResult:
    """Minimise ``objective`` with ``scipy.optimize.minimize(method=...)`` from every row of
    ``starts``; the best point over all evaluations (not only the optimizers' end points) wins.

    A non-finite objective value counts as +inf (the optimizer steps away from it). Bounds are
    passed to methods that accept them (Nelder-Mead, Powell, L-BFGS-B).
    """
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    if starts.shape[0] < 1:
        raise ValueError("multistart: starts must hold at least one point")
    if max_evaluations_per_start < 1:
        raise ValueError(f"multistart: max_evaluations_per_start must be >= 1, got {max_evaluations_per_start!r}")
    counted = _Counted(objective)
    options = {"maxfev": max_evaluations_per_start} if method in ("Nelder-Mead", "Powell") else \
        {"maxfun": max_evaluations_per_start} if method == "L-BFGS-B" else {"maxiter": max_evaluations_per_start}
    for x0 in starts:
        if math.isfinite(counted(x0)):
            optimize.minimize(counted, x0, method=method, bounds=bounds, options=options)
    if counted.best_x is None:
        raise RuntimeError(f"multistart: the objective was non-finite at every one of {counted.evaluations} points")
    return SearchResult(counted.best_x, counted.best_value, method, starts.shape[0], counted.evaluations)

