"""B6 corrected: symmetric Phi with margin gamma converges within the explicit budget
T(eps) = ceil(ln(d K^2 / 2 eps) / (-2 ln q)), q = 1 - eta L gamma^(2-2/L), for every depth; checked
along full GD (small d) and the symmetric fast path (large sweeps), with iteration counts against
L, ‖Φ‖/gamma and log(d/eps), fitted exponents and the measured linear rates."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence, profiles
from resclaims.claims.b6_symmetric_positive_convergence import max_step, spectral_norm
from resclaims.claims.b6_symmetric_positive_convergence_corrected import (
    BUDGET_METRIC, CLAIM, FAST_PATH_METRIC, budget, contraction, polynomial_budget, prefactor)
from resclaims.impl.deep_linear import gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence, symmetric_gradient_descent
from canaries import expect_caught, raises_violation
from convergence_helpers import first_hits, fit_exponent, fit_log_rate, fit_slope, log_ratio_max
from tolerances import BOUND_RTOL

NIGHTLY = profiles.current_profile() == "nightly"


# --- instances ------------------------------------------------------------------------------

@st.composite
def symmetric_positive_instances(draw, *, max_d: int = 64, max_L: int = 256, min_gamma: float = 0.2,
                                 max_norm: float = 3.0, min_step_fraction: float = 0.25):
    """(Phi, gamma, L, eta, eps) with Phi = U diag(mu) U^T, mu in [gamma(1 + gap), ‖Φ‖], by construction.

    The smallest eigenvalue sits at gamma (1 + gap) with gap in {1e-9, 1e-3, 0.1} (the budget is
    nearly attained as gap -> 0), the largest at ‖Φ‖ <= max_norm; U orthogonal from a drawn
    seed; eta = f / (L (1 + ‖Φ‖^2)) with f in [min_step_fraction, 1]. Phi is symmetrized exactly.
    """
    d = draw(st.integers(1, max_d))
    L = draw(st.one_of(st.integers(1, 3), st.integers(1, max_L)))  # small L: below the slide's depth condition
    gamma = draw(st.floats(min_gamma, 0.95))
    lam_min = gamma * (1.0 + draw(st.sampled_from([1e-9, 1e-3, 0.1])))
    norm = lam_min + draw(st.floats(0.0, 1.0)) * max(0.0, max_norm - lam_min)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mu = lam_min + rng.uniform(size=d) * (norm - lam_min)
    mu[0] = norm
    if d > 1:
        mu[-1] = lam_min
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    Phi = (U * mu) @ U.T
    Phi = 0.5 * (Phi + Phi.T)
    eta = draw(st.floats(min_step_fraction, 1.0)) * max_step(L, norm)
    eps = 10.0 ** -draw(st.floats(2.0, 12.0))
    return Phi, gamma, L, eta, eps


def instance_of(Phi: np.ndarray, gamma: float, L: int, eta: float, eps: float) -> dict:
    spectrum = np.linalg.eigvalsh(Phi)
    inst = {"d": Phi.shape[0], "L": L, "eta": eta, "gamma": gamma, "eps": eps, "spectrum": spectrum,
            "symmetric": bool(np.array_equal(Phi, Phi.T))}
    if Phi.size <= 64:
        inst["Phi"] = Phi
    return inst


def fast_runner(Phi, L, eta, steps, tol):
    _, run = symmetric_gradient_descent(Phi, L, eta, steps, tol=tol)
    return run.loss, run.steps, run.diverged


def full_runner(Phi, L, eta, steps, tol):
    run = gradient_descent(Phi, L, eta, steps, tol=tol)
    return run.loss, run.steps, run.diverged


# --- the check ------------------------------------------------------------------------------

def check_trajectory(inst: dict, losses: np.ndarray, steps: int, diverged: bool, *, q: float | None = None) -> float:
    """loss(t) <= (d/2) K^2 q^(2t) for every recorded t (the run stops at eps or at T(eps), where
    the bound is <= eps, so not reaching eps shows as a violation at T(eps))."""
    d, L, eta, gamma, eps = inst["d"], inst["L"], inst["eta"], inst["gamma"], inst["eps"]
    norm = spectral_norm(inst["spectrum"])
    q = contraction(eta, L, gamma) if q is None else q
    K = prefactor(gamma, norm)
    t = np.arange(len(losses))
    log_excess = log_ratio_max(losses, math.log(0.5 * d * K * K) + 2.0 * t * math.log(q), start=0)
    ratio = math.exp(min(700.0, math.inf if diverged else log_excess))
    T = budget(d, L, eta, gamma, norm, eps, q=q)
    metrics = {BUDGET_METRIC: steps / max(T, 1)}
    if eps <= d / math.e:
        metrics["T(eps) / polynomial form eta^-1 gamma^-2 (1 + 2 ln+ K) ln(d/eps)"] = \
            T / polynomial_budget(d, L, eta, gamma, norm, eps)
    if L < math.log(norm / gamma):
        evidence.record_metric(CLAIM, "instances with L < ln(‖Φ‖/gamma) (slide's depth condition, c_3 = 1, "
                               "dropped)", 1, reduce="sum")
    return evidence.check_upper(CLAIM, inst, lhs=ratio, rhs=1.0, rtol=BOUND_RTOL, metrics=metrics, size=L)


def check(Phi, gamma, L, eta, eps, *, runner=fast_runner, q=None) -> float:
    inst = instance_of(Phi, gamma, L, eta, eps)
    T = budget(inst["d"], L, eta, gamma, spectral_norm(inst["spectrum"]), eps,
               q=contraction(eta, L, gamma) if q is None else q)
    losses, steps, diverged = runner(Phi, L, eta, T, eps)
    return check_trajectory(inst, losses, steps, diverged, q=q)


def _tight(d: int, L: int, gamma: float = 0.3, norm: float = 2.0):
    mu = np.full(d, gamma * (1 + 1e-9))
    mu[0] = norm
    return np.diag(mu), gamma, L, max_step(L, norm), 1e-12


@given(inst=symmetric_positive_instances())
@settings(max_examples=profiles.budget(40))
@example(inst=_tight(1, 1))
@example(inst=_tight(4, 2))
@example(inst=_tight(64, 256, gamma=0.2, norm=3.0))
def test_budget_on_the_fast_path(inst):
    check(*inst)


@given(inst=symmetric_positive_instances(max_d=4, max_L=8, min_gamma=0.3, max_norm=2.0))
@settings(max_examples=profiles.budget(12))
@example(inst=_tight(3, 4))
def test_budget_on_full_gradient_descent_and_fast_path_agrees(inst):
    """Full GD satisfies the budget too, and its loss trajectory is the fast path's (B8 cross-check)."""
    Phi, gamma, L, eta, eps = inst
    check(*inst, runner=full_runner)
    T = budget(Phi.shape[0], L, eta, gamma, spectral_norm(np.linalg.eigvalsh(Phi)), eps)
    full, steps_full, _ = full_runner(Phi, L, eta, T, eps)
    fast, steps_fast, _ = fast_runner(Phi, L, eta, T, eps)
    n = min(len(full), len(fast))
    gap = float(np.max(np.abs(full[:n] - fast[:n]))) / max(full[0], 1e-300)
    evidence.record_metric(CLAIM, FAST_PATH_METRIC, gap, reduce="max")
    # both are the same recurrence in different rounding: a few ulps per step on O(1) quantities
    assert gap <= 1e-10 and abs(steps_full - steps_fast) <= 1, (gap, steps_full, steps_fast)


def test_polynomial_form_dominates_the_budget():
    """T(eps) <= eta^-1 gamma^-2 (1 + 2 ln+ K) ln(d/eps) on a grid (eps <= d/e)."""
    for d in (1, 7, 256):
        for L in (1, 2, 8, 256):
            for gamma, norm in ((0.05, 0.06), (0.2, 3.0), (0.9, 20.0)):
                eta = max_step(L, norm)
                for eps in (d / math.e, 1e-3, 1e-12):
                    assert budget(d, L, eta, gamma, norm, eps) <= polynomial_budget(d, L, eta, gamma, norm, eps)


# --- measurements (symmetric fast path) -----------------------------------------------------

def _spectrum(d: int, lam_min: float, norm: float) -> np.ndarray:
    return np.geomspace(lam_min, norm, d) if d > 1 else np.array([lam_min])


def _measure(mu: np.ndarray, gamma: float, L: int, eta: float, eps_grid: np.ndarray):
    """Iterations to each eps (fast path), their budgets, the fitted linear rate and the fixed
    point's predicted rate -2 ln(1 - eta L lambda_min^(2-2/L))."""
    d, norm = mu.size, float(mu.max())
    T = budget(d, L, eta, gamma, norm, float(eps_grid[-1]))
    run = scalar_recurrence(mu, L, eta, T, tol=float(eps_grid[-1]))
    hits = first_hits(run.loss, eps_grid)
    inst = {"d": d, "L": L, "eta": eta, "gamma": gamma, "eps": float(eps_grid[-1]), "spectrum": mu, "symmetric": True}
    last = int(hits[-1]) if hits[-1] >= 0 else len(run.loss) - 1
    check_trajectory(inst, run.loss[: last + 1], last, run.diverged)
    budgets = [budget(d, L, eta, gamma, norm, float(e)) for e in eps_grid]
    predicted = -2.0 * math.log1p(-eta * L * float(mu.min()) ** (2.0 - 2.0 / L))
    window = (float(eps_grid[-1]), 1e4 * float(eps_grid[-1]))  # the last four decades: past the transient
    return hits, budgets, fit_log_rate(run.loss, window), predicted


EPS = 1e-10
DEPTHS = [1, 2, 4, 8, 16, 32, 64, 128, 256] + ([512, 1024] if NIGHTLY else [])
GAMMAS = [0.4, 0.2, 0.1, 0.05] + ([0.025] if NIGHTLY else [])
NORMS = [1.0, 2.0, 4.0, 8.0] + ([16.0] if NIGHTLY else [])
SWEEP_TABLE = "iterations to 1e-10 against L and ‖Φ‖/gamma (fast path, d = 8, eta = 1/(L(1+‖Φ‖^2)))"
COLUMNS = ["sweep", "L", "gamma", "‖Φ‖", "‖Φ‖/gamma", "eta", "T(1e-10)", "budget", "T / budget",
           "fitted rate", "fixed-point rate", "fitted / fixed-point"]


def _row(sweep, L, gamma, norm, eta, T, B, rate, predicted):
    return [sweep, L, gamma, norm, norm / gamma, eta, int(T), int(B), T / B, rate, predicted, rate / predicted]


def test_iterations_against_depth():
    """gamma = 0.2, ‖Φ‖ = 2, d = 8 (geometric spectrum from 1.05 gamma), eta at the slide's maximum."""
    gamma, norm = 0.2, 2.0
    mu = _spectrum(8, 1.05 * gamma, norm)
    rows, counts = [], []
    for L in DEPTHS:
        eta = max_step(L, norm)
        hits, budgets, rate, predicted = _measure(mu, gamma, L, eta, np.array([EPS]))
        counts.append(int(hits[0]))
        rows.append(_row("depth", L, gamma, norm, eta, hits[0], budgets[0], rate, predicted))
        assert abs(rate / predicted - 1) < 0.05
    deep = [i for i, L in enumerate(DEPTHS) if L >= 16]
    exponent = fit_exponent([DEPTHS[i] for i in deep], [counts[i] for i in deep])
    evidence.record_table(CLAIM, SWEEP_TABLE, COLUMNS, rows)
    evidence.record_metric(CLAIM, "fitted exponent of T in L (L >= 16, eta L = 1/(1+‖Φ‖^2) fixed; "
                           "T tends to a limit)", exponent, reduce="same")
    evidence.record_series(CLAIM, "iterations to 1e-10 vs L", x_label="L", y_label="iterations", log_x=True,
                           log_y=True, curves={"measured": (DEPTHS, counts),
                                               "budget T(eps)": (DEPTHS, [r[7] for r in rows])})
    # with eta = 1/(L(1+‖Φ‖^2)) the count increases to a limit ~ gamma^-2 (gamma^(2-2/L) -> gamma^2)
    assert abs(exponent) < 0.1 and counts[-1] < 1.1 * counts[DEPTHS.index(64)]


@pytest.mark.parametrize("sweep", ["gamma", "norm"])
def test_iterations_against_condition(sweep):
    """‖Φ‖/gamma through gamma (‖Φ‖ = 2) or through ‖Φ‖ (gamma = 0.2), L = 8, d = 8."""
    L = 8
    params = [(g, 2.0) for g in GAMMAS] if sweep == "gamma" else [(0.2, n) for n in NORMS]
    rows, kappas, counts = [], [], []
    for gamma, norm in params:
        mu = _spectrum(8, 1.05 * gamma, norm)
        eta = max_step(L, norm)
        hits, budgets, rate, predicted = _measure(mu, gamma, L, eta, np.array([EPS]))
        kappas.append(norm / gamma)
        counts.append(int(hits[0]))
        rows.append(_row(f"‖Φ‖/gamma via {sweep}", L, gamma, norm, eta, hits[0], budgets[0], rate, predicted))
        assert abs(rate / predicted - 1) < 0.05
    exponent = fit_exponent(kappas, counts)
    evidence.record_table(CLAIM, SWEEP_TABLE, COLUMNS, rows)
    expected = {"gamma": "2 - 2/L = 1.75 (the slow eigenvalue ~ gamma)", "norm": "-> 2 (eta ~ 1/‖Φ‖^2)"}[sweep]
    evidence.record_metric(CLAIM, f"fitted exponent of T in ‖Φ‖/gamma via {sweep} (L = 8; expected {expected})",
                           exponent, reduce="same")
    evidence.record_series(CLAIM, "iterations to 1e-10 vs ‖Φ‖/gamma (L = 8)", x_label="‖Φ‖/gamma",
                           y_label="iterations", log_x=True, log_y=True,
                           curves={f"via {sweep}": (kappas, counts)})
    assert 1.0 < exponent < 2.5


def test_iterations_against_log_d_over_eps():
    """Phi = 0.21 I (every eigenvalue the slow one: the worst case for d), gamma = 0.2, L = 8,
    d in {1, 16, 256}: T against ln(d/eps) is one line for all d, of slope 1/(fixed-point rate)."""
    gamma, L = 0.2, 8
    eps_grid = 10.0 ** -np.arange(2, 13)
    eta = max_step(L, 1.05 * gamma)
    curves, slopes, rows = {}, [], []
    for d in (1, 16, 256) + ((4096,) if NIGHTLY else ()):
        mu = np.full(d, 1.05 * gamma)
        hits, budgets, rate, predicted = _measure(mu, gamma, L, eta, eps_grid)
        x = np.log(d / eps_grid)
        curves[f"d={d}"] = (x, hits)
        slopes.append(fit_slope(x[3:], hits[3:]))
        rows.append([d, slopes[-1], 1 / predicted, int(hits[-1]), int(budgets[-1]), rate, predicted])
    curves["budget T(eps), d = 1"] = (np.log(1 / eps_grid),
                                      [budget(1, L, eta, gamma, 1.05 * gamma, e) for e in eps_grid])
    evidence.record_table(CLAIM, "iterations against ln(d/eps), Phi = 0.21 I, gamma = 0.2, L = 8",
                          ["d", "iterations per nat of d/eps (fit)", "1 / fixed-point rate", "T(1e-12)", "budget",
                           "fitted rate", "fixed-point rate"], rows)
    evidence.record_series(CLAIM, "iterations vs ln(d/eps)", x_label="ln(d/eps)", y_label="iterations", curves=curves)
    evidence.record_metric(CLAIM, "iterations per nat of d/eps, fitted (max)", max(slopes), reduce="max")
    assert max(slopes) / min(slopes) < 1.02 and abs(slopes[0] * rows[0][-1] - 1) < 0.05


# --- sensitivity: dropped hypotheses and planted bugs ----------------------------------------

def _big_step(factor):
    def runner(Phi, L, eta, steps, tol):
        _, run = symmetric_gradient_descent(Phi, L, factor * eta, steps, tol=tol)
        return run.loss, run.steps, run.diverged
    return runner


def test_dropping_the_step_size_bound_breaks_convergence():
    """eta = 20 / (L (1 + ‖Φ‖^2)): the iterates oscillate or diverge."""
    expect_caught(CLAIM, "step 20x the slide's 1/(L(1+‖Φ‖^2)): diverges or oscillates",
                  symmetric_positive_instances(max_d=6, max_L=16),
                  lambda inst: raises_violation(check, *inst, runner=_big_step(20.0)),
                  describe=lambda inst: f"d={inst[0].shape[0]}, L={inst[2]}, ‖Φ‖={np.linalg.norm(inst[0], 2):.3g}")


@st.composite
def negative_eigenvalue_instances(draw):
    """Margin dropped: one eigenvalue -lambda < 0 (the others positive)."""
    Phi, gamma, L, eta, eps = draw(symmetric_positive_instances(max_d=6, max_L=16))
    lam, U = np.linalg.eigh(Phi)
    lam[0] = -draw(st.floats(0.05, 1.0))
    Phi = (U * lam) @ U.T
    return 0.5 * (Phi + Phi.T), gamma, L, eta, eps


def test_negative_eigenvalue_never_converges():
    """Without the margin (an eigenvalue -lambda): loss stays >= lambda^2/2 (B7), the budget is missed."""
    def fails(inst):
        Phi, gamma, L, eta, eps = inst
        T = budget(Phi.shape[0], L, eta, gamma, np.linalg.norm(Phi, 2), eps)
        losses, _, _ = fast_runner(Phi, L, eta, T, eps)
        return losses[-1] > eps

    expect_caught(CLAIM, "margin dropped (a negative eigenvalue): never converges", negative_eigenvalue_instances(),
                  fails, describe=lambda inst: f"d={inst[0].shape[0]}, L={inst[2]}, "
                  f"lambda_min={np.linalg.eigvalsh(inst[0])[0]:.3g}")


def test_check_catches_too_fast_rate():
    """Planted wrong constant: q^2 in place of q (a rate twice the derived one)."""
    expect_caught(CLAIM, "contraction q squared (rate doubled)", symmetric_positive_instances(max_d=6, max_L=16),
                  lambda inst: raises_violation(check, *inst, q=contraction(inst[3], inst[2], inst[1]) ** 2),
                  describe=lambda inst: f"d={inst[0].shape[0]}, L={inst[2]}, gamma={inst[1]:.3g}")


def _wrong_exponent_runner(Phi, L, eta, steps, tol):
    """Bug in a fast path: x <- x + eta x^L (mu - x^L) (exponent L in place of L - 1)."""
    mu = np.linalg.eigvalsh(Phi)
    x = np.ones_like(mu)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            gap = mu - x ** L
            losses.append(0.5 * float(gap @ gap))
            if not np.isfinite(losses[-1]):
                return np.asarray(losses[:-1]), t, True
            if losses[-1] <= tol or t == steps:
                return np.asarray(losses), t, False
            x = x + eta * x ** L * gap
    raise AssertionError("unreachable")


def test_check_catches_wrong_exponent_in_the_recurrence():
    expect_caught(CLAIM, "recurrence exponent L in place of L - 1 (planted in a fast path)",
                  symmetric_positive_instances(max_d=6, max_L=16),
                  lambda inst: raises_violation(check, *inst, runner=_wrong_exponent_runner),
                  describe=lambda inst: f"d={inst[0].shape[0]}, L={inst[2]}, gamma={inst[1]:.3g}")


def test_what_dropping_each_hypothesis_does():
    """One instance per dropped hypothesis, with the outcome (a table in the report)."""
    rows = []
    base_mu, gamma, L = np.array([2.0, 0.5, 0.25]), 0.2, 4

    def outcome(mu, eta, depth=L, steps=20_000):
        run = scalar_recurrence(mu, depth, eta, steps, tol=1e-10)
        if run.diverged:
            return f"diverged after {run.steps} steps"
        if run.converged:
            return f"converged in {run.steps} steps"
        tail = run.loss[-200:]
        return (f"no convergence in {steps} steps (final loss {tail[-1]:.3g}, "
                f"tail range [{tail.min():.3g}, {tail.max():.3g}])")

    eta = max_step(L, 2.0)
    T = budget(3, L, eta, gamma, 2.0, 1e-10)
    rows.append(["none (all hypotheses)", outcome(base_mu, eta), f"budget {T}"])
    rows.append(["step: eta = 20/(L(1+‖Φ‖^2))", outcome(base_mu, 20 * eta), "—"])
    rows.append(["step: eta = 3/(L(1+‖Φ‖^2))", outcome(base_mu, 3 * eta), "—"])
    rows.append(["margin: eigenvalue -0.25 (L = 4 even)", outcome(np.array([2.0, 0.5, -0.25]), eta),
                 "loss >= 0.25^2/2"])
    rows.append(["depth: L = 1 < ln(10)", f"{outcome(base_mu, max_step(1, 2.0), depth=1)} (L = 1)",
                 f"budget {budget(3, 1, max_step(1, 2.0), gamma, 2.0, 1e-10)}"])
    evidence.record_table(CLAIM, "dropping one hypothesis (Phi = diag(2, 0.5, 0.25), gamma = 0.2, L = 4)",
                          ["hypothesis dropped", "outcome", "note"], rows)
    assert rows[0][1].startswith("converged") and not rows[1][1].startswith("converged")
    assert not rows[3][1].startswith("converged") and rows[4][1].startswith("converged")
