"""C1 representation: h_i o ... o h_1 = g_{a_i} for every i, hence h_m o ... o h_1 = h on X.

Each layer h_i = g_{a_i} o g_{a_{i-1}}^{-1} is evaluated as written (with the iterative inverse
of h), for linear, geometric and random user-supplied schedules.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.c1_decomposition_exact import CLAIM
from resclaims.claims.engine.profiles import budget
from resclaims.impl.near_identity_decomposition import (
    NearIdentityDecomposition, geometric_schedule, linear_schedule)
from resclaims.impl.residual_layer import ConvergenceError, ResidualLayer
from resclaims.impl.smooth_residual_map import SmoothResidualMap
from canaries import expect_caught
from strategies.layers import MapCase, invertible_maps, make_map_case, row_norms
from tolerances import INVERSE_TOL, decomposition_tol

SCHEDULES = ("linear", "geometric", "random")
DEPTHS = (1, 2, 3, 5, 8, 16, 32)


def make_schedule(kind: str, m: int, rng: np.random.Generator) -> np.ndarray:
    """A schedule 0 < a_1 < ... < a_m = 1 of the given kind ("random": sorted uniforms, then 1)."""
    if kind == "linear":
        return linear_schedule(m)
    if kind == "geometric":
        return geometric_schedule(m)
    return np.append(np.sort(rng.uniform(1e-3, 1.0 - 1e-3, m - 1)), 1.0)


def partial_composition_errors(case: MapCase, schedule: np.ndarray, layer=None) -> np.ndarray:
    """max_x ||h_i o ... o h_1(x) - g_{a_i}(x)|| / tolerance for i = 1..m (<= 1: the identity holds).

    ``layer(dec, i, Z)`` evaluates h_i (default: the implementation's).
    """
    dec = NearIdentityDecomposition(case.h, schedule)
    layer = layer or (lambda dec, i, Z: dec.layer(i, Z, tol=INVERSE_TOL))
    X = case.points(8)
    inst = case.instance
    f = case.h.layers[0]
    Z, ratios = X, []
    for i in range(1, dec.m + 1):
        Z = layer(dec, i, Z)
        target = dec.g(dec.schedule[i - 1], X)
        scale = float(max(row_norms(X).max(), row_norms(target).max()))
        tol = decomposition_tol(i, inst["depth"], inst["layer_alpha"], f.d, f.k, inst["lipschitz"],
                                inst["inverse_lipschitz"], scale)
        ratios.append(float(row_norms(Z - target).max()) / tol)
    return np.array(ratios)


@given(case=invertible_maps(), kind=st.sampled_from(SCHEDULES), m=st.sampled_from(DEPTHS))
@settings(max_examples=budget(15))
@example(case=make_map_case(d=3, depth=3, width=3, seed=2, layer_alpha=0.8, b_scale=3.0, radius=2.0),
         kind="geometric", m=32)
@example(case=make_map_case(d=1, depth=1, width=1, seed=0, layer_alpha=0.8, b_scale=3.0, radius=2.0),
         kind="random", m=32)
def test_partial_compositions_equal_g_a_i(case, kind, m):
    """h_i o ... o h_1 = g_{a_i} on X for every i (slide, Key ideas item 2); i = m gives h."""
    schedule = make_schedule(kind, m, case.rng(1))
    ratios = partial_composition_errors(case, schedule)
    instance = {**case.instance, "schedule_kind": kind, "m": m, "schedule": schedule}
    evidence.check_close(CLAIM, instance, error=float(ratios.max()), tol=1.0,
                         what="max_i ||h_i o ... o h_1 - g_{a_i}|| / tolerance",
                         metrics={"composition error / tolerance": float(ratios.max())})
    evidence.record_metric(CLAIM, "largest m checked", m)


def test_inverse_reports_non_convergence_and_refuses_non_invertible_maps():
    """A clear error, never a silent wrong answer."""
    case = make_map_case(d=2, depth=2, width=2, seed=3, layer_alpha=0.8, b_scale=2.0, radius=1.0)
    with pytest.raises(ConvergenceError, match="did not converge in max_iter=1"):
        case.h.inverse(np.full(2, 3.0), max_iter=1)
    fold = SmoothResidualMap([ResidualLayer([[-2.0]], [[1.0]], "tanh")])
    with pytest.raises(ValueError, match="certified_invertible"):
        fold.inverse([0.5])
    with pytest.raises(ValueError, match="certified_invertible"):
        NearIdentityDecomposition(fold, linear_schedule(4)).compose([[0.5]])


# --- sensitivity: planted bugs and a broken hypothesis the check must catch ---------------

CANARY_CASES = st.tuples(invertible_maps(max_d=2, max_depth=2), st.sampled_from(SCHEDULES), st.sampled_from((2, 4, 8)))


def _describe(args) -> str:
    case, kind, m = args
    return f"{case!r}, schedule={kind}, m={m}"


def _off_by_one(dec, i, Z):
    """Bug: h_i = g_{a_i} o g_{a_{i-2}}^{-1} (previous scale taken one step too early)."""
    a_prev = dec.previous[i - 2] if i >= 2 else 0.0
    return dec.g(dec.schedule[i - 1], dec.g_inverse(a_prev, Z, tol=INVERSE_TOL))


def _sloppy_inverse(dec, i, Z):
    """Bug: the inverse of g_{a_{i-1}} stopped at tolerance 1e-6."""
    return dec.g(dec.schedule[i - 1], dec.g_inverse(dec.previous[i - 1], Z, tol=1e-6))


@pytest.mark.parametrize("bug", [_off_by_one, _sloppy_inverse])
def test_check_catches_planted_bug(bug):
    def violates(args):
        case, kind, m = args
        return partial_composition_errors(case, make_schedule(kind, m, case.rng(1)), bug).max() > 1.0

    expect_caught(CLAIM, bug.__doc__.split(":", 1)[1].strip(), CANARY_CASES, violates, describe=_describe)


def test_check_catches_schedule_not_ending_at_one():
    """Hypothesis broken: a_m = 0.9 < 1, so the composition is g_{0.9}, not h."""
    def violates(args):
        case, kind, m = args
        schedule = 0.9 * make_schedule(kind, m, case.rng(1))
        dec = NearIdentityDecomposition(case.h, np.append(schedule, 1.0))  # the construction up to a_m = 0.9
        X = case.points(8)
        Z = X
        for i in range(1, dec.m):
            Z = dec.layer(i, Z, tol=INVERSE_TOL)
        inst = case.instance
        tol = decomposition_tol(m, inst["depth"], inst["layer_alpha"], case.h.d, case.h.layers[0].k,
                                inst["lipschitz"], inst["inverse_lipschitz"], float(row_norms(case.h(X)).max()))
        return float(row_norms(Z - case.h(X)).max()) > tol

    expect_caught(CLAIM, "schedule ending at a_m = 0.9", CANARY_CASES, violates, describe=_describe)
