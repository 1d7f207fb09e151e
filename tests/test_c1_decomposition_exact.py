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
    NearIdentityDecomposition, linear_schedule)
from resclaims.impl.residual_layer import ConvergenceError, ResidualLayer
from resclaims.impl.smooth_residual_map import SmoothResidualMap
from canaries import expect_caught
from strategies.layers import MapCase, invertible_maps, make_map_case, row_norms
from strategies.maps import SCHEDULE_KINDS, make_schedule, map_instance, maps_with_schedules
from tolerances import INVERSE_TOL, decomposition_tol

DEPTHS = (1, 2, 3, 5, 8, 16, 32)

#: The planted bug of ``_sloppy_inverse``: the inverse stopped at this tolerance (a bug's
#: parameter, not a tolerance of a check; INVERSE_TOL is 1e-12).
SLOPPY_INVERSE_TOL = 1e-6


def partial_composition_errors(case: MapCase, schedule: np.ndarray, layer=None) -> np.ndarray:
    """max_x ||h_i o ... o h_1(x) - g_{a_i}(x)|| / tolerance for i = 1..m (<= 1: the identity holds).

    ``layer(dec, i, Z)`` evaluates h_i (default: the implementation's).
    """
    dec = NearIdentityDecomposition(case.h, schedule)
    layer = layer or (lambda dec, i, Z: dec.layer(i, Z, tol=INVERSE_TOL))
    X = case.points(8)
    inst = map_instance(case)
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


@given(case=invertible_maps(), kind=st.sampled_from(SCHEDULE_KINDS), m=st.sampled_from(DEPTHS))
@settings(max_examples=budget(15))
@example(case=make_map_case(d=3, depth=3, width=3, seed=2, layer_alpha=0.8, b_scale=3.0, radius=2.0),
         kind="geometric", m=32)
@example(case=make_map_case(d=1, depth=1, width=1, seed=0, layer_alpha=0.8, b_scale=3.0, radius=2.0),
         kind="random", m=32)
def test_partial_compositions_equal_g_a_i(case, kind, m):
    """h_i o ... o h_1 = g_{a_i} on X for every i (slide, Key ideas item 2); i = m gives h."""
    schedule = make_schedule(kind, m, case.rng(1))
    ratios = partial_composition_errors(case, schedule)
    instance = {**map_instance(case), "schedule_kind": kind, "m": m, "schedule": schedule}
    evidence.check_close(CLAIM, instance, error=float(ratios.max()), tol=1.0,
                         what="max_i ||h_i o ... o h_1 - g_{a_i}|| / tolerance",
                         metrics={"composition error / tolerance": float(ratios.max())})
    evidence.record_metric(CLAIM, "largest m checked", m)


def raised(call, exception: type[BaseException], fragment: str) -> tuple[bool, str]:
    """Whether ``call()`` raises ``exception`` with ``fragment`` in its message, and what it did."""
    try:
        call()
    except exception as exc:
        return fragment in str(exc), f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # another error: reported, not swallowed as a pass
        return False, f"{type(exc).__name__}: {exc}"
    return False, "returned without an error"


def test_inverse_reports_non_convergence_and_refuses_non_invertible_maps():
    """A clear error, never a silent wrong answer. On a map satisfying the hypotheses, an
    inverse stopped after one iteration must say so (a check of the claim's instance); a fold
    (hypothesis "invertible" broken) must be refused (sensitivity records)."""
    case = make_map_case(d=2, depth=2, width=2, seed=3, layer_alpha=0.8, b_scale=2.0, radius=1.0)
    ok, outcome = raised(lambda: case.h.inverse(np.full(2, 3.0), max_iter=1), ConvergenceError,
                         "did not converge in max_iter=1")
    # the inverse of h = g_{a_m}, a_m = 1: the one-layer schedule (1,)
    evidence.check_true(CLAIM, {**map_instance(case), "schedule": linear_schedule(1), "outcome": outcome}, holds=ok,
                        what="h.inverse(max_iter=1) raises ConvergenceError 'did not converge in max_iter=1'")
    fold = SmoothResidualMap([ResidualLayer([[-2.0]], [[1.0]], "tanh")])
    for name, call in (("fold: h.inverse refused", lambda: fold.inverse([0.5])),
                       ("fold: decomposition refused",
                        lambda: NearIdentityDecomposition(fold, linear_schedule(4)).compose([[0.5]]))):
        ok, outcome = raised(call, ValueError, "certified_invertible")
        evidence.record_canary(CLAIM, name, caught=ok, detail=f"x - 2 tanh(x) (not invertible): {outcome}")


# --- sensitivity: planted bugs and a broken hypothesis the check must catch ---------------

CANARY_CASES = maps_with_schedules(max_d=2, max_depth=2, depths=(2, 4, 8))


def _describe(args) -> str:
    case, kind, m = args
    return f"{case!r}, schedule={kind}, m={m}"


def _off_by_one(dec, i, Z):
    """Bug: h_i = g_{a_i} o g_{a_{i-2}}^{-1} (previous scale taken one step too early)."""
    a_prev = dec.previous[i - 2] if i >= 2 else 0.0
    return dec.g(dec.schedule[i - 1], dec.g_inverse(a_prev, Z, tol=INVERSE_TOL))


def _sloppy_inverse(dec, i, Z):
    """Bug: the inverse of g_{a_{i-1}} stopped at tolerance SLOPPY_INVERSE_TOL = 1e-6."""
    return dec.g(dec.schedule[i - 1], dec.g_inverse(dec.previous[i - 1], Z, tol=SLOPPY_INVERSE_TOL))


@pytest.mark.parametrize("bug", [_off_by_one, _sloppy_inverse])
def test_check_catches_planted_bug(bug):
    def violates(args):
        case, kind, m = args
        return partial_composition_errors(case, make_schedule(kind, m, case.rng(1)), bug).max() > 1.0

    expect_caught(CLAIM, bug.__doc__.split(":", 1)[1].strip(), CANARY_CASES, violates, describe=_describe)


def test_check_catches_schedule_not_ending_at_one():
    """Hypothesis broken: a_m = 0.9 < 1, so the composition is g_{0.9}, not h."""
    end = 0.9  # the broken schedule's last scale
    def violates(args):
        case, kind, m = args
        schedule = end * make_schedule(kind, m, case.rng(1))
        dec = NearIdentityDecomposition(case.h, np.append(schedule, 1.0))  # the construction up to a_m = 0.9
        X = case.points(8)
        Z = X
        for i in range(1, dec.m):
            Z = dec.layer(i, Z, tol=INVERSE_TOL)
        inst = map_instance(case)
        tol = decomposition_tol(m, inst["depth"], inst["layer_alpha"], case.h.d, case.h.layers[0].k,
                                inst["lipschitz"], inst["inverse_lipschitz"], float(row_norms(case.h(X)).max()))
        return float(row_norms(Z - case.h(X)).max()) > tol

    expect_caught(CLAIM, "schedule ending at a_m = 0.9", CANARY_CASES, violates, describe=_describe)
