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
from resclaims.claims.b8_commuting_normal_invariance import recurrence_iterates, recurrence_step
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence
from canaries import expect_caught
from oracles import start_radius
from strategies.symmetric import spectra, symmetric_targets
from tolerances import (
    BOUND_RTOL,
    EPS,
    INVARIANCE_C,
    POSITIVITY_TINY,
    SCALAR_RECURRENCE_RTOL,
    THRESHOLD_EXACT_RTOL,
    THRESHOLD_SCAN_RESOLUTION,
    USABLE_COORDINATE_FACTOR,
    full_gd_certificate_rtol,
    positivity_certificate_rtol,
)

#: Checks of a lemma or a finding recorded under the claim whose hypotheses are not the claim's
#: (a derivation, a differential agreement of the scan with impl, what happens beyond (A)): the
#: claim's hypotheses would make them vacuous exactly where they matter, so none is evaluated.
NO_CLAIM_HYPOTHESES: dict = {}


def certificate(history: np.ndarray, mu: np.ndarray, L: int, step: float, *, atol=None) -> tuple[float, float]:
    """(min_{t,j} x_{t+1}/((1 - c_j) x_t), max_{t,j} x_t / M_j) over a coordinate history (t, j).

    A negative coordinate makes the first number negative. With ``atol`` (full GD: coordinates are
    only known to atol), coordinates below max(POSITIVITY_TINY, USABLE_COORDINATE_FACTOR atol) enter
    through their sign only."""
    c = contraction(mu, step)
    M = upper_invariant(mu, L)
    prev, nxt = history[:-1], history[1:]
    floor = POSITIVITY_TINY if atol is None else max(POSITIVITY_TINY, USABLE_COORDINATE_FACTOR * atol)
    usable = prev >= floor
    ratios = np.where(usable, nxt / np.where(usable, prev, 1.0) / (1.0 - c), np.inf)
    lo = float(ratios.min()) if ratios.size else np.inf
    negative = history < (0.0 if atol is None else -atol)
    if negative.any():
        lo = min(lo, -1.0)
    return lo, float((history / M).max())


def check_history(history, mu, L, step, instance, *, exact=None) -> float:
    lo, hi = certificate(history, mu, L, step)
    evidence.record_metric(CLAIM, "max x_t / max(1, mu^{1/L})", hi)
    evidence.record_metric(CLAIM, "min x_{t+1} / ((1 - c) x_t)", lo, reduce="min")
    # one lower-bound check on min(lower certificate, 2 - upper ratio) >= 1: slack = the worse margin
    c = float(np.max(contraction(mu, step)))
    return evidence.check_lower(CLAIM, instance, lhs=min(lo, 2.0 - hi), rhs=1.0,
                                rtol=positivity_certificate_rtol(L, c), exact=exact)


def _exact_certificate(mu, L, step, steps):
    """The certificate of the recurrence (claim formula) run on mpmath numbers; called by the
    evidence API inside ``mpmath.workdps(RECHECK_DIGITS)``."""
    def exact():
        import mpmath

        mus = [mpmath.mpf(float(m)) for m in mu]
        xs = recurrence_iterates(mus, L, mpmath.mpf(step), steps, one=mpmath.mpf(1))
        c = [mpmath.mpf(step) * max(0, 1 - m) for m in mus]
        M = [max(mpmath.mpf(1), max(m, 0) ** (mpmath.mpf(1) / L)) for m in mus]
        lo = min((xs[t + 1][j] / ((1 - c[j]) * xs[t][j]) if xs[t][j] > 0 else mpmath.mpf(-1))
                 for t in range(steps) for j in range(len(mu))) if steps else mpmath.inf
        if any(x < 0 for row in xs for x in row):
            lo = min(lo, mpmath.mpf(-1))
        hi = max(xs[t][j] / M[j] for t in range(steps + 1) for j in range(len(mu)))
        return min(lo, 2 - hi), mpmath.mpf(1)
    return exact


def fast_path_instance(mu, L: int, step: float, steps: int, x0, **extra) -> dict:
    """Instance of a scalar-recurrence run: the target is diag(mu), the start x0 as used."""
    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    return {"spectrum": mu, "Phi": np.diag(mu), "L": L, "step": step, "steps": steps, "penalty": 0.0,
            "start_radius": float(np.max(np.abs(np.asarray(x0, dtype=float) - 1.0))), **extra}


# --- the claim on the fast path: slide's step and the derived condition's edge ---------------

@settings(max_examples=budget(40))
@given(mu=spectra(max_d=6, max_abs=5.0), L=st.one_of(st.integers(2, 12), st.sampled_from([16, 32, 64, 256])),
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
    instance = fast_path_instance(mu, L, step, steps, run.history[0], mode=mode, fraction=fraction,
                                  path="fast path", diverged=run.diverged)
    # a non-finite x_t breaks x_t <= M (and the certificate below needs finite numbers)
    evidence.check_true(CLAIM, instance, holds=not run.diverged, what="every x_t finite (x_t <= M)")
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
    # the layers are only known to B8's invariance tolerance
    atol = INVARIANCE_C * (steps + 1) * L * d * EPS * max(1.0, float(np.abs(coords).max()))
    instance = {"Phi": Phi, "spectrum": mu, "L": L, "step": step, "fraction": fraction, "steps": steps,
                "penalty": 0.0, "start_radius": start_radius(run.iterates[0]), "path": "full GD",
                "seed": target.seed}
    lo = min(certificate(coords[:, i], mu, L, step, atol=atol)[0] for i in range(L))
    hi = max(certificate(coords[:, i], mu, L, step, atol=atol)[1] for i in range(L))
    evidence.record_metric(CLAIM, "full GD: min eigen-coordinate of any layer", float(coords.min()), reduce="min")
    c = float(np.max(contraction(mu, step)))
    evidence.check_lower(CLAIM, instance, lhs=min(lo, 2.0 - hi), rhs=1.0, rtol=full_gd_certificate_rtol(L, c))


# --- the step conditions: the slide's step implies them ---------------------------------------

@given(mu=st.floats(-1e3, 1e3), extra=st.floats(0.0, 1e3), L=st.integers(2, 10_000))
def test_slide_step_implies_conditions(mu, extra, L):
    """For L >= 2 and every eigenvalue mu of Phi (||Phi|| = |mu| + extra), the slide's step meets
    (A) with room: eta (1 - mu) <= (1 + sqrt 2)/(2L), and (B). (A lemma: its hypotheses are
    L >= 2 and the slide's step, not (A) and (B), which it proves.)"""
    step = 1.0 / (L * (1.0 + (abs(mu) + extra) ** 2))
    instance = {"mu": mu, "norm_Phi": abs(mu) + extra, "L": L, "step": step, "lemma": "slide step => (A), (B)"}
    evidence.check_true(CLAIM, instance, holds=bool(condition_a(mu, L, step) and condition_b(mu, L, step)),
                        what="the slide's step meets (A) and (B)", held=NO_CLAIM_HYPOTHESES)
    evidence.check_upper(CLAIM, instance, lhs=step * (1 - mu), rhs=(1 + math.sqrt(2)) / (2 * L),
                         rtol=SCALAR_RECURRENCE_RTOL, held=NO_CLAIM_HYPOTHESES)


def test_sympy_slide_step_bounds():
    """The two inequalities behind 'slide's step => (A), (B)': max_{m >= 0} (1 + m)/(1 + m^2) =
    (1 + sqrt 2)/2 < 2 (so eta (1 - mu) < 1 for L >= 2), and m^{2 - 2/L} <= 1 + m^2, i.e. with
    m = y^L, 1 + y^{2L} - y^{2L-2} > 0 on y >= 0."""
    from sympy.calculus.util import maximum, minimum

    m, y = sympy.Symbol("m", nonnegative=True), sympy.Symbol("y", nonnegative=True)
    peak = maximum((1 + m) / (1 + m**2), m, sympy.Interval(0, sympy.oo))
    instance = {"lemma": "max (1 + m)/(1 + m^2) = (1 + sqrt 2)/2 < 2", "peak": str(peak)}
    evidence.check_symbolic(CLAIM, instance, lhs=peak, rhs=(1 + sympy.sqrt(2)) / 2,
                            what="max_{m >= 0} (1 + m)/(1 + m^2)", held=NO_CLAIM_HYPOTHESES)
    evidence.check_true(CLAIM, instance, holds=bool(peak < 2), what="the peak is < 2", held=NO_CLAIM_HYPOTHESES)
    for L in (2, 3, 4, 8):
        low = minimum(1 + y ** (2 * L) - y ** (2 * L - 2), y, sympy.Interval(0, sympy.oo))
        evidence.check_true(CLAIM, {"lemma": "min_{y >= 0} 1 + y^{2L} - y^{2L-2} > 0", "L": L, "minimum": str(low)},
                            holds=bool(low > 0), what="1 + y^{2L} - y^{2L-2} > 0 on y >= 0",
                            held=NO_CLAIM_HYPOTHESES)


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
    above): a log grid from 1e-3 to 1e3 (0.5% apart), refined to THRESHOLD_SCAN_RESOLUTION."""
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
        scan = {"mu": mu, "L": L, "steps": SCAN_T, "largest_step_held": hold, "first_failing_step": fail,
                "path": "threshold scan"}
        if fail:  # the scan (claim formula) and impl agree on both sides of the threshold
            evidence.check_equal(CLAIM, scan, actual=_impl_positive(mu, L, fail, SCAN_T), expected=False,
                                 what="impl's recurrence positive at the scan's first failing step",
                                 held=NO_CLAIM_HYPOTHESES)
            if hold:
                evidence.check_equal(CLAIM, scan, actual=_impl_positive(mu, L, hold, SCAN_T), expected=True,
                                     what="impl's recurrence positive at the scan's largest held step",
                                     held=NO_CLAIM_HYPOTHESES)
        if L >= 2 and mu <= 0:  # (A) is necessary: the threshold is exactly 1/(1 - mu)
            evidence.check_true(CLAIM, scan, holds=fail is not None, what="positivity fails on the grid",
                                held=NO_CLAIM_HYPOTHESES)
            evidence.check_close(CLAIM, scan, error=abs(hold * (1 - mu) - 1), tol=THRESHOLD_EXACT_RTOL,
                                 what="|threshold / (1/(1 - mu)) - 1|", held=NO_CLAIM_HYPOTHESES)
        if L >= 2 and hold is not None:  # the claim in another guise: no failure below the sufficient step
            below = suff * (1 - THRESHOLD_SCAN_RESOLUTION)  # the steps the scan resolves below it
            evidence.check_lower(CLAIM, fast_path_instance(mu, L, below, SCAN_T, np.ones(1), path="threshold scan",
                                                           first_failing_step=fail),
                                 lhs=fail, rhs=suff, rtol=THRESHOLD_SCAN_RESOLUTION)
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
    (5000 steps) and full GD (Phi = diag(-1, 1/2), 60 steps). Positivity itself is checked as the
    claim (its hypotheses decide where it applies: L >= 2 and a step below 1/(1 + lambda))."""
    mu = np.array([-1.0, 0.5])
    lam = 1.0
    rows = []
    for label, step in (("slide", slide_step_for(mu, L)), ("0.9/(1+lambda)", 0.9 / (1 + lam)),
                        ("1.1/(1+lambda)", 1.1 / (1 + lam)), ("1.5/(1+lambda)", 1.5 / (1 + lam))):
        run = scalar_recurrence(mu, L, step, 5000, keep_history=True)
        x = run.history
        losses = coordinate_loss(x, mu, L)
        positive = bool(np.all(x[:, 0] > 0))
        below = losses < loss_floor(lam) * (1 - SCALAR_RECURRENCE_RTOL)
        instance = fast_path_instance(mu, L, step, 5000, x[0], label=label, path="parity")
        evidence.check_true(CLAIM, instance, holds=bool(np.all(x > 0)), what="every coordinate stays positive")
        if L % 2 == 0:
            evidence.check_lower(CLAIM, instance, lhs=float(losses.min()), rhs=loss_floor(lam),
                                 rtol=SCALAR_RECURRENCE_RTOL, held=NO_CLAIM_HYPOTHESES)
        else:
            evidence.check_true(CLAIM, instance, holds=bool(np.all(x[below, 0] < 0)),
                                what="odd L: l(t) < lambda^2/2 only where x_{-lambda}(t) < 0", held=NO_CLAIM_HYPOTHESES)
        if L == 1:
            evidence.check_true(CLAIM, instance, holds=not positive, what="L = 1: x_{-lambda} turns negative",
                                held=NO_CLAIM_HYPOTHESES)
        full = gradient_descent(np.diag(mu), L, step, 60)
        full_below = bool((full.loss < loss_floor(lam) * (1 - BOUND_RTOL)).any())
        evidence.check_equal(CLAIM, instance, actual=full_below, expected=bool(below[: full.loss.size].any()),
                             what="full GD breaks the bound within 60 steps iff the fast path does",
                             held=NO_CLAIM_HYPOTHESES)
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
        instance = {"mu": mu, "L": L, "step": step, "steps": 200, "lemma": "per-step condition"}
        evidence.check_true(CLAIM, instance, holds=bool(turned.size), what="the coordinate turns negative",
                            held=NO_CLAIM_HYPOTHESES)
        t = int(turned[0])
        evidence.check_true(CLAIM, {**instance, "t": t},
                            holds=bool(np.all(x[: t + 1] > 0) and cond[t] > 1 and np.all(cond[:t] < 1)),
                            what="it turns negative exactly where the per-step condition first exceeds 1",
                            held=NO_CLAIM_HYPOTHESES)


# --- sensitivity ----------------------------------------------------------------------------

_CANARY_MU = st.lists(st.sampled_from([-1.0, 0.5, 2.0, -4.0, 1.5, 4.0]), min_size=1, max_size=3)


def _violates(mu, L, step, steps=100) -> bool:
    """The conclusion 0 < x_t <= M fails somewhere in ``steps`` steps (or the run diverges)."""
    mu = np.asarray(mu, dtype=float)
    with np.errstate(all="ignore"):
        run = scalar_recurrence(mu, L, step, steps, keep_history=True)
    x = run.history
    return bool(run.diverged or np.any(x <= 0) or np.any(x > upper_invariant(mu, L) + SCALAR_RECURRENCE_RTOL * np.abs(upper_invariant(mu, L))))


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
    evidence.check_true(CLAIM, {"spectrum": found[0], "L": found[1], "step_over_sufficient": found[2]},
                        holds=found[2] >= 1.0, what="the minimal violation has a step >= the sufficient one "
                        "(0.9 x the sufficient step never violates)", held=NO_CLAIM_HYPOTHESES)


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
    evidence.check_true(CLAIM, {"mu": found[0], "L": found[1], "step_over_B_edge": found[2]},
                        holds=found[2] > 1.0, what="the minimal violation has a step above the edge of (B)",
                        held=NO_CLAIM_HYPOTHESES)


def test_planted_certificate_constant_is_caught():
    """Planted: c = eta (1 - mu) / 2 in place of eta (1 - mu). The certificate is attained at the
    first step, so the halved constant fails at once."""
    def violates(args):
        mu, L, fraction = args
        mu = np.asarray(mu)
        step = fraction * slide_step_for(mu, L)
        x = scalar_recurrence(mu, L, step, 5, keep_history=True).history
        c = contraction(mu, step) / 2
        return bool(np.any(x[1:] < (1 - c) * x[:-1] * (1 - SCALAR_RECURRENCE_RTOL)))

    expect_caught(CLAIM, "contraction constant halved", st.tuples(_CANARY_MU, st.sampled_from([2, 3, 4]),
                                                                  st.sampled_from([1.0, 0.5])),
                  violates, describe=lambda a: f"spectrum={a[0]}, L={a[1]}, step={a[2]} x slide")
