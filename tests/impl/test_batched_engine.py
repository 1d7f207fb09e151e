"""The batched engine's two paths (stacked BLAS products; the optional numba kernel) against the
per-problem engine :func:`gradient_descent`, problem by problem, to rounding (issue 10)."""
from __future__ import annotations

import numpy as np
import pytest

from resclaims.impl import deep_linear
from resclaims.impl.deep_linear import gradient_descent, product
from tolerances import batched_layers_tol, batched_loss_tol

#: (d, L, penalty), with and without penalty: widths below, at and above the compiled kernel's
#: register block (4), one that is not a multiple of it (9), and one beyond the compiled widths.
CASES = [(1, 1, 0.0), (3, 5, 0.0), (4, 8, 0.1), (9, 3, 0.2), (17, 2, 0.1)]
PROBLEMS, STEPS = 5, 25


def _targets(d: int) -> np.ndarray:
    rng = np.random.default_rng(d)
    return np.eye(d) + 0.4 * rng.standard_normal((PROBLEMS, d, d)) / np.sqrt(d)


def _worst_error_ratio(layers, losses, targets, L, eta, kappa) -> float:
    """max over problems of |batched - per-problem| / its rounding allowance (layers and losses),
    with the allowances of tests/tolerances.py (the ones B1 uses for the batched engine)."""
    d, worst = targets.shape[1], 0.0
    for b, target in enumerate(targets):
        run = gradient_descent(target, L, eta, STEPS, penalty=kappa, keep_iterates=True)
        iterates = np.stack(run.iterates)
        A = float(np.linalg.norm(iterates, 2, axis=(2, 3)).max())
        error_2 = max(float(np.linalg.norm(product(th) - target, 2)) for th in run.iterates)
        layers_fro = float(np.sqrt((iterates ** 2).sum(axis=(1, 2, 3))).max())
        tol = batched_layers_tol(d, L, A, error_2, float(np.linalg.norm(target)), eta, layers_fro, STEPS, kappa)
        loss_tol = batched_loss_tol(d, L, A, float(np.sqrt(2 * run.loss.max())), float(np.linalg.norm(target)),
                                    kappa, layers_fro, tol)
        worst = max(worst, float(np.linalg.norm(layers[b] - run.layers)) / tol,
                    float(np.abs(losses[:, b] - run.loss).max()) / loss_tol)
    return worst


@pytest.mark.parametrize("d, L, kappa", CASES)
def test_stacked_path_follows_the_per_problem_engine(d, L, kappa):
    targets, eta = _targets(d), 0.4 / L
    layers, losses = deep_linear._batched_stacked(targets, L, eta, STEPS, kappa)
    assert _worst_error_ratio(layers, losses, targets, L, eta, kappa) <= 1.0


@pytest.mark.parametrize("d, L, kappa", [case for case in CASES if case[0] in deep_linear._COMPILED_WIDTHS])
def test_compiled_path_follows_the_per_problem_engine(d, L, kappa):
    pytest.importorskip("numba")
    targets, eta = _targets(d), 0.4 / L
    layers, losses = deep_linear._batched_compiled(deep_linear._compiled_kernel(d), targets, L, eta, STEPS, kappa)
    assert _worst_error_ratio(layers, losses, targets, L, eta, kappa) <= 1.0


def test_compiled_path_chunks_and_keeps_divergence():
    """More problems than one block (and not a whole number of blocks), one of them diverging:
    each block's problems land in their own places and a diverged problem shows non-finite
    losses without touching the others."""
    pytest.importorskip("numba")
    d, L, eta, steps = 2, 3, 0.3, 12
    count = 2 * deep_linear._LANES + 3
    targets = np.eye(d) + np.linspace(-0.3, 0.3, count)[:, None, None] * np.eye(d)
    targets[-1] = 40.0 * np.eye(d)  # far outside the step's range: diverges
    fast = deep_linear._batched_compiled(deep_linear._compiled_kernel(d), targets, L, eta, steps, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        stacked = deep_linear._batched_stacked(targets, L, eta, steps, 0.0)
    assert not np.isfinite(fast[1][:, -1]).all() and np.isfinite(fast[1][:, :-1]).all()
    np.testing.assert_allclose(fast[1][:, :-1], stacked[1][:, :-1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fast[0][:-1], stacked[0][:-1], rtol=1e-12, atol=1e-15)


def test_public_entry_takes_the_compiled_path_only_where_it_pays():
    """d <= 16 with numba: the kernel; d > 16 or without numba: the stacked products."""
    targets = _targets(3)
    kernel = deep_linear._compiled_kernel(3)
    expected = (deep_linear._batched_compiled(kernel, targets, 2, 0.1, 3, 0.0)
                if kernel is not None else deep_linear._batched_stacked(targets, 2, 0.1, 3, 0.0))
    layers, losses = deep_linear.batched_gradient_descent(targets, 2, 0.1, 3)
    assert np.array_equal(layers, expected[0]) and np.array_equal(losses, expected[1])
    assert 8 in deep_linear._COMPILED_WIDTHS and 17 not in deep_linear._COMPILED_WIDTHS
