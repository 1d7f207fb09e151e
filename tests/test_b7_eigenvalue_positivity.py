"""B7, proof idea: the eigenvalue coordinates of the decoupled dynamics stay positive (and below
max(1, mu^{1/L})) under the derived step condition; where positivity stops, per L; what depth
parity does to the loss bound when positivity fails."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from resclaims.claims.engine import evidence
from resclaims.claims.b7_eigenvalue_positivity import (
    CLAIM,
    condition_a,
    condition_b,
    contraction,
    per_step_condition,
    slide_step_for,
    sufficient_step,
    upper_invariant,
)
from resclaims.claims.b7_negative_eigenvalue_blocks import coordinate_loss, loss_floor
from resclaims.claims.b8_commuting_normal_invariance import EXACT_DIGITS, exact_scalar_recurrence, recurrence_step
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence
from canaries import expect_caught
from strategies.symmetric import symmetric_targets
from tolerances import EPS

#: Coordinates below this are not used in the ratio x_{t+1}/x_t (subnormal range: the ratio of
#: two underflowing numbers is rounding); their sign is still checked.
TINY = 1e-250


def certificate(history: np.ndarray, mu: np.ndarray, L: int, step: float, *, atol=None) -> tuple[float, float]:
    """(min_{t,j} x_{t+1}/((1 - c_j) x_t), max_{t,j} x_t / M_j) over a coordinate history (t, j).

    A negative coordinate makes the first number negative. With ``atol`` (full GD: coordinates are
    only known to atol), coordinates below max(TINY, 1e6 atol) enter through their sign only."""
    c = contraction(mu, step)
    M = upper_invariant(mu, L)
    prev, nxt = history[:-1], history[1:]
    floor = TINY if atol is None else max(TINY, 1e6 * atol)
    usable = prev >= floor
    ratios = np.where(usable, nxt / np.where(usable, prev, 1.0) / (1.0 - c), np.inf)
    lo = float(ratios.min()) if ratios.size else np.inf
    negative = history < (0.0 if atol is None else -atol)
    if negative.any():
        lo = min(lo, -1.0)
    return lo, float((history / M).max())


def certificate_rtol(mu, L: int, step: float) -> float:
    """Rounding of x_{t+1}/((1-c) x_t): the update x + eta x^{L-1}(mu - x^L) is exact to
    (2L + 4) eps relative to x + |eta x^{L-1}(mu - x^L)| <= (1 + c) x (or <= 2x where x^L < mu,
    by (B)), and the ratio divides by 1 - c; 4 is headroom. M = mu^{1/L} itself carries L eps."""
    c = float(np.max(contraction(mu, step)))
    return 4.0 * (2 * L + 4) * EPS * 2.0 / (1.0 - c)


def check_history(history, mu, L, step, instance, *, atol=None, exact=None) -> float:
    lo, hi = certificate(history, mu, L, step, atol=atol)
    evidence.record_metric(CLAIM, "max x_t / max(1, mu^{1/L})", hi)
    evidence.record_metric(CLAIM, "min x_{t+1} / ((1 - c) x_t)", lo, reduce="min")
    # one lower-bound check on min(lower certificate, 2 - upper ratio) >= 1: slack = the worse margin
    return evidence.check_lower(CLAIM, instance, lhs=min(lo, 2.0 - hi), rhs=1.0,
                                rtol=certificate_rtol(mu, L, step), exact=exact)


def _exact_certificate(mu, L, step, steps):
    def exact():
        import mpmath

        with mpmath.workdps(EXACT_DIGITS):
            xs = exact_scalar_recurrence(mu, L, step, steps)
            c = [mpmath.mpf(step) * max(0, 1 - mpmath.mpf(float(m))) for m in mu]
            M = [max(mpmath.mpf(1), max(mpmath.mpf(float(m)), 0) ** (mpmath.mpf(1) / L)) for m in mu]
            lo = min((xs[t + 1][j] / ((1 - c[j]) * xs[t][j]) if xs[t][j] > 0 else mpmath.mpf(-1))
                     for t in range(steps) for j in range(len(mu))) if steps else mpmath.inf
            if any(x < 0 for row in xs for x in row):
                lo = min(lo, mpmath.mpf(-1))
            hi = max(xs[t][j] / M[j] for t in range(steps + 1) for j in range(len(mu)))
            return min(lo, 2 - hi), mpmath.mpf(1)
    return exact


# --- the claim on the fast path: slide's step and the derived condition's edge ---------------

_SPECTRA = arrays(np.float64, st.integers(1, 6), elements=st.floats(-5.0, 5.0, allow_subnormal=False))


@settings(max_examples=budget(40))
@given(mu=_SPECTRA, L=st.one_of(st.integers(2, 12), st.sampled_from([16, 32, 64, 256])),
       mode=st.sampled_from(["slide", "sufficient"]), fraction=st.floats(0.01, 0.999))
@example(mu=np.array([-1.0]), L=2, mode="sufficient", fraction=0.999)
@example(mu=np.array([4.0, -4.0, 0.5]), L=4, mode="sufficient", fraction=0.999)
@example(mu=np.array([0.9, 0.9, 5.0]), L=64, mode="slide", fraction=0.999)
def test_coordinates_stay_positive_fast_path(mu, L, mode, fraction):
    """2000 steps of impl's scalar recurrence at the slide's step (times a fraction) or at the
    edge of the derived condition (A)-(B): 0 < x_t <= M, x_{t+1} >= (1 - c) x_t."""
    step = fraction * (slide_step_for(mu, L) if mode == "slide" else float(np.min(sufficient_step(mu, L))))
    steps = 2000
    run = scalar_recurrence(mu, L, step, steps, keep_history=True)
    assert not run.diverged
    instance = {"spectrum": mu, "L": L, "step": step, "mode": mode, "fraction": fraction, "steps": steps,
                "penalty": 0.0, "path": "fast path"}
    check_history(run.history, mu, L, step, instance, exact=_exact_certificate(mu, L, step, steps))


@settings(max_examples=budget(20))
@given(target=symmetric_targets(max_d=3), L=st.integers(2, 6), fraction=st.floats(0.05, 1.0), steps=st.integers(1, 100))
def test_coordinates_stay_positive_full_gd(target, L, fraction, steps):
    """Full float GD, small instances, the slide's step: the layers' eigen-coordinates
    diag(U^T Theta_i U) of every layer stay positive and below M, with the same certificate."""
    Phi = target.Phi
    mu, U = np.linalg.eigh(Phi)
    step = fraction * slide_step_for(mu, L)
    run = gradient_descent(Phi, L, step, steps, keep_iterates=True)
    coords = np.array([np.einsum("ij,lik,kj->lj", U, th, U) for th in run.iterates])  # (t, layer, j)
    d = Phi.shape[0]
    atol = 16 * (steps + 1) * L * d * EPS * max(1.0, float(np.abs(coords).max()))
    instance = {"Phi": Phi, "spectrum": mu, "L": L, "step": step, "fraction": fraction, "steps": steps,
                "penalty": 0.0, "path": "full GD", "seed": target.seed}
    lo = min(certificate(coords[:, i], mu, L, step, atol=atol)[0] for i in range(L))
    hi = max(certificate(coords[:, i], mu, L, step, atol=atol)[1] for i in range(L))
    evidence.record_metric(CLAIM, "full GD: min eigen-coordinate of any layer", float(coords.min()), reduce="min")
    # a usable coordinate (>= 1e6 atol) is known to relative 1e-6: the ratio to 2e-6 / (1 - c)
    c = float(np.max(contraction(mu, step)))
    evidence.check_lower(CLAIM, instance, lhs=min(lo, 2.0 - hi), rhs=1.0,
                         rtol=certificate_rtol(mu, L, step) + 4e-6 / (1.0 - c))


# --- the step conditions: the slide's step implies them ---------------------------------------

@given(mu=st.floats(-1e3, 1e3), extra=st.floats(0.0, 1e3), L=st.integers(2, 10_000))
def test_slide_step_implies_conditions(mu, extra, L):
    """For L >= 2 and every eigenvalue mu of Phi (||Phi|| = |mu| + extra), the slide's step meets
    (A) with room: eta (1 - mu) <= (1 + sqrt 2)/(2L), and (B)."""
    step = 1.0 / (L * (1.0 + (abs(mu) + extra) ** 2))
    assert condition_a(mu, L, step) and condition_b(mu, L, step)
    assert step * (1 - mu) <= (1 + math.sqrt(2)) / (2 * L) * (1 + 1e-12)


def test_sympy_slide_step_bounds():
    """The two inequalities behind 'slide's step => (A), (B)': max_{m >= 0} (1 + m)/(1 + m^2) =
    (1 + sqrt 2)/2 < 2 (so eta (1 - mu) < 1 for L >= 2), and m^{2 - 2/L} <= 1 + m^2, i.e. with
    m = y^L, 1 + y^{2L} - y^{2L-2} > 0 on y >= 0."""
    from sympy.calculus.util import maximum, minimum

    m, y = sympy.Symbol("m", nonnegative=True), sympy.Symbol("y", nonnegative=True)
    peak = maximum((1 + m) / (1 + m**2), m, sympy.Interval(0, sympy.oo))
    assert sympy.nsimplify(peak - (1 + sympy.sqrt(2)) / 2) == 0 and peak < 2
    for L in (2, 3, 4, 8):
        assert minimum(1 + y ** (2 * L) - y ** (2 * L - 2), y, sympy.Interval(0, sympy.oo)) > 0


# --- where positivity stops ----------------------------------------------------------------

SCAN_MU = (-4.0, -1.0, -0.25, 0.0, 0.25, 0.5, 0.9, 1.5, 2.0, 4.0)
SCAN_L = (1, 2, 3, 4, 6, 8, 16)
SCAN_T = 1000


def _positive_along(mu: np.ndarray, L: int, etas: np.ndarray, steps: int) -> np.ndarray:
    """For each (mu_k, eta_k): no iterate of the recurrence (claim formula, B8) is negative or
    non-finite in ``steps`` steps (an infinite iterate would be followed by a negative one in exact
    arithmetic; a coordinate underflowing to 0 from above is still positive)."""
    x = np.ones(np.broadcast(mu, etas).shape)
    ok = np.ones(x.shape, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            x = recurrence_step(x, mu, L, etas)
            ok &= np.isfinite(x) & (x >= 0)
            x = np.where(ok, x, 1.0)
    return ok


def first_failure(mu: float, L: int, steps: int = SCAN_T) -> tuple[float | None, float | None, bool]:
    """(largest step with positivity at all smaller grid steps, smallest failing step, holds again
    above): a log grid from 1e-3 to 1e3 (0.5% apart), refined to 1e-5 relative."""
    if L == 1 and mu < 0:  # x_t = mu + (1 - eta)^t (1 - mu) -> mu < 0 for every eta in (0, 2): no step holds
        return 0.0, 0.0, False
    grid = np.geomspace(1e-3, 1e3, 2800)
    ok = _positive_along(np.full(grid.shape, mu), L, grid, steps)
    if ok.all():
        return None, None, False
    i = int(np.argmin(ok))
    if i == 0:
        return 0.0, float(grid[0]), bool(ok.any())
    fine = np.linspace(grid[i - 1], grid[i], 500)
    ok_fine = _positive_along(np.full(fine.shape, mu), L, fine, steps)
    k = int(np.argmin(ok_fine))
    return float(fine[k - 1]), float(fine[k]), bool(ok[i:].any())


def _impl_positive(mu: float, L: int, step: float, steps: int) -> bool:
    run = scalar_recurrence([mu], L, step, steps, keep_history=True)
    return not run.diverged and bool(np.all(run.history >= 0)) and run.steps == steps


@pytest.mark.parametrize("L", SCAN_L)
def test_where_positivity_stops(L):
    """Per L and eigenvalue: the largest step for which positivity held (T = 1000 steps), against
    the slide's step and the derived sufficient step; impl's recurrence agrees on both sides of the
    threshold. For mu <= 0 and L >= 2 the threshold is exactly 1/(1 - mu) (first step)."""
    rows, thresholds = [], []
    for mu in SCAN_MU:
        hold, fail, again = first_failure(mu, L)
        slide = slide_step_for([mu], L)
        suff = float(sufficient_step([mu], L)[0]) if L >= 2 else None
        if fail:
            assert _impl_positive(mu, L, fail, SCAN_T) is False
            if hold:
                assert _impl_positive(mu, L, hold, SCAN_T) is True
        if L >= 2 and mu <= 0:
            assert fail is not None and abs(hold / (1 / (1 - mu)) - 1) < 1e-4, (mu, hold)
        if L >= 2 and hold is not None:  # the claim in another guise: no failure below the sufficient step
            evidence.check_lower(CLAIM, {"spectrum": [mu], "L": L, "step": suff * (1 - 1e-9), "steps": SCAN_T,
                                         "penalty": 0.0, "path": "threshold scan", "first_failing_step": fail},
                                 lhs=fail, rhs=suff, rtol=1e-5)
        thresholds.append(hold if hold is not None else math.inf)
        rows.append([L, mu, slide, suff, hold, None if hold is None else hold / slide,
                     None if (hold is None or suff is None) else hold / suff, again])
    evidence.record_table(CLAIM, f"where positivity stops (T = {SCAN_T} steps from x = 1)",
                          ["L", "mu", "slide step 1/(L(1+mu^2))", "sufficient step (A),(B)", "largest step held",
                           "held / slide", "held / sufficient", "holds again above"], rows)
    spectrum_slide = slide_step_for(SCAN_MU, L)
    evidence.record_table(CLAIM, f"largest step keeping every coordinate positive, spectrum {list(SCAN_MU)}",
                          ["L", "slide step (||Phi|| = 4)", "largest step held (min over mu)", "ratio", "binding mu"],
                          [[L, spectrum_slide, min(thresholds), min(thresholds) / spectrum_slide,
                            SCAN_MU[int(np.argmin(thresholds))]]])


# --- depth parity: what the loss bound does when positivity fails -----------------------------

@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 6])
def test_parity_decides_the_loss_bound_when_positivity_fails(L):
    """Phi with spectrum (-1, 1/2) (lambda = 1): at steps on both sides of 1/(1 + lambda) the
    coordinate of -1 stays positive or not; for even L the bound l >= lambda^2/2 holds either way
    (x^L >= 0); for odd L every t with l(t) < lambda^2/2 has a negative coordinate. Fast path
    (5000 steps) and full GD (Phi = diag(-1, 1/2), 60 steps)."""
    mu = np.array([-1.0, 0.5])
    lam = 1.0
    rows = []
    for label, step in (("slide", slide_step_for(mu, L)), ("0.9/(1+lambda)", 0.9 / (1 + lam)),
                        ("1.1/(1+lambda)", 1.1 / (1 + lam)), ("1.5/(1+lambda)", 1.5 / (1 + lam))):
        run = scalar_recurrence(mu, L, step, 5000, keep_history=True)
        x = run.history
        losses = coordinate_loss(x, mu, L)
        positive = bool(np.all(x[:, 0] > 0))
        below = losses < loss_floor(lam) * (1 - 1e-12)
        if L % 2 == 0:
            assert not below.any()
        else:
            assert np.all(x[below, 0] < 0)
        if L >= 2 and step < 1 / (1 + lam):
            assert positive
        if L == 1:
            assert not positive
        full = gradient_descent(np.diag(mu), L, step, 60)
        full_below = bool((full.loss < loss_floor(lam) * (1 - 1e-9)).any())
        assert full_below == bool(below[: full.loss.size].any())
        rows.append([L, label, step, positive, float(losses.min() / loss_floor(lam)), bool(below.any()), full_below])
    evidence.record_table(CLAIM, "parity: positivity of the -lambda coordinate vs the loss bound (spectrum -1, 1/2)",
                          ["L", "step", "eta", "coordinate stayed positive", "min l / (lambda^2/2)",
                           "bound broken (fast path)", "bound broken (full GD, 60 steps)"], rows)


def test_per_step_condition_is_exact():
    """x_{t+1} = x_t (1 - eta x_t^{L-2}(x_t^L - mu)): along runs with large steps, a coordinate turns
    negative exactly at the first step where the per-step condition reaches 1."""
    for L, mu, step in ((2, -1.0, 0.6), (3, -2.0, 0.4), (4, 4.0, 0.2), (6, 0.9, 1.2), (8, 2.0, 0.25)):
        x = scalar_recurrence([mu], L, step, 200, keep_history=True).history[:, 0]
        cond = per_step_condition(x[:-1], mu, L, step)
        turned = np.flatnonzero(x[1:] < 0)
        assert turned.size, (L, mu, step)
        t = int(turned[0])
        assert np.all(x[: t + 1] > 0) and cond[t] > 1 and np.all(cond[:t] < 1)


# --- sensitivity ----------------------------------------------------------------------------

_CANARY_MU = st.lists(st.sampled_from([-1.0, 0.5, 2.0, -4.0, 1.5, 4.0]), min_size=1, max_size=3)


def _violates(mu, L, step, steps=100) -> bool:
    """The conclusion 0 < x_t <= M fails somewhere in ``steps`` steps (or the run diverges)."""
    mu = np.asarray(mu, dtype=float)
    with np.errstate(all="ignore"):
        run = scalar_recurrence(mu, L, step, steps, keep_history=True)
    x = run.history
    return bool(run.diverged or np.any(x <= 0) or np.any(x > upper_invariant(mu, L) * (1 + 1e-12)))


def test_dropping_depth_at_least_2():
    """L = 1: the iterates converge to mu, negative for a negative eigenvalue, at any step."""
    expect_caught(CLAIM, "L = 1", st.tuples(_CANARY_MU, st.sampled_from([1.0, 0.5])),
                  lambda a: bool(np.any(scalar_recurrence(np.asarray(a[0]), 1, a[1] * slide_step_for(a[0], 1),
                                                          300, keep_history=True).history < 0)),
                  describe=lambda a: f"spectrum={a[0]}, step={a[1]} x slide")


def test_dropping_condition_a():
    """Step at or above 1/(1 - mu) for an eigenvalue mu <= 0 (where (A) binds): x_1 <= 0."""
    def violates(args):
        mu, L, over = args
        return _violates(mu, L, over * float(np.min(sufficient_step(mu, L))))

    found = expect_caught(CLAIM, "condition (A) dropped: eta (1 - mu) >= 1",
                          st.tuples(st.lists(st.sampled_from([-1.0, -4.0, -0.25]), min_size=1, max_size=2),
                                    st.sampled_from([2, 3, 4]), st.sampled_from([0.9, 1.0, 1.05, 1.5])),
                          violates, describe=lambda a: f"spectrum={a[0]}, L={a[1]}, step={a[2]} x sufficient")
    assert found[2] >= 1.0  # 0.9 x the sufficient step never violates


def test_dropping_condition_b():
    """mu > 1 with (A) vacuous: a step above 1/(L mu^{2-2/L}) overshoots mu^{1/L} (x > M), and
    larger ones make the coordinate negative."""
    def violates(args):
        mu, L, over = args
        step = over / (L * mu ** (2 - 2 / L))
        return _violates([mu], L, step)

    found = expect_caught(CLAIM, "condition (B) dropped: overshoot above mu^{1/L}",
                          st.tuples(st.sampled_from([2.0, 4.0, 1.5]), st.sampled_from([2, 4, 8]),
                                    st.sampled_from([1.0, 1.5, 2.0, 4.0])),
                          violates, describe=lambda a: f"mu={a[0]}, L={a[1]}, step={a[2]} / (L mu^(2-2/L))")
    assert found[2] > 1.0


def test_planted_certificate_constant_is_caught():
    """Planted: c = eta (1 - mu) / 2 in place of eta (1 - mu). The certificate is attained at the
    first step, so the halved constant fails at once."""
    def violates(args):
        mu, L, fraction = args
        mu = np.asarray(mu)
        step = fraction * slide_step_for(mu, L)
        x = scalar_recurrence(mu, L, step, 5, keep_history=True).history
        c = contraction(mu, step) / 2
        return bool(np.any(x[1:] < (1 - c) * x[:-1] * (1 - 1e-12)))

    expect_caught(CLAIM, "contraction constant halved", st.tuples(_CANARY_MU, st.sampled_from([2, 3, 4]),
                                                                  st.sampled_from([1.0, 0.5])),
                  violates, describe=lambda a: f"spectrum={a[0]}, L={a[1]}, step={a[2]} x slide")
