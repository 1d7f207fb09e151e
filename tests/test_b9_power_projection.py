"""B9: power projection converges within the stated budget; margin and balance kept throughout."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence, profiles
from resclaims.claims.b9_margin_projection import sym_margin
from resclaims.claims.b9_power_projection import CHECKED_EPSILON, CLAIM, GRID_RATIO, iteration_budget, step_size
from resclaims.impl import power_projection as pp
from resclaims.impl.deep_linear import product
from canaries import expect_caught, raises_violation
from strategies.factorizations import margin_targets
from tolerances import BOUND_RTOL, RATE_FIT_MIN_STEPS, log_loss_fit_floor, product_tol, spectrum_rtol

#: The target loss of the convergence check (recorded in each instance).
EPSILON = CHECKED_EPSILON


def _instance(Phi, gamma, L):
    return {"d": Phi.shape[0], "L": L, "gamma": gamma, "target_margin": sym_margin(Phi), "target": Phi,
            "epsilon": EPSILON}


def fitted_contraction(run, d: int, L: int, target_fro: float) -> float | None:
    """exp(slope) of log loss on the second half of a run, or None where it is not measurable:
    a diverged or short run (fewer than RATE_FIT_MIN_STEPS steps), or a tail that reaches the
    rounding of the loss (log_loss_fit_floor)."""
    if run.diverged or run.steps < RATE_FIT_MIN_STEPS:
        return None
    tail = np.asarray(run.loss[run.steps // 2:], dtype=float)
    if tail.min() < log_loss_fit_floor(d, L, target_fro):
        return None
    return float(np.exp(np.polyfit(np.arange(tail.size), np.log(tail), 1)[0]))


def check_convergence(Phi, gamma, L, *, budget=iteration_budget, algorithm=None) -> float:
    algorithm = algorithm or pp.power_projection
    instance = _instance(Phi, gamma, L)
    if evidence.hypotheses_fail(CLAIM, instance):
        return np.nan
    norm_f = float(np.linalg.norm(Phi))
    initial = algorithm(Phi, L, step_size(L, norm_f), gamma, 0, record=("loss",)).loss[0]
    T = budget(initial, EPSILON, gamma, norm_f)
    run = algorithm(Phi, L, step_size(L, norm_f), gamma, T, tol=EPSILON, record=("loss",))
    metrics = {"iterations used / budget": run.steps / max(T, 1)}
    rho = fitted_contraction(run, Phi.shape[0], L, norm_f)
    if rho is not None:
        metrics["observed contraction per step (fit of log loss), max"] = rho
    return evidence.check_upper(CLAIM, {**instance, "budget": T}, lhs=run.loss[-1], rhs=EPSILON, rtol=0.0,
                                metrics=metrics)


@given(case=margin_targets(), L=st.integers(1, 6))
@settings(max_examples=profiles.budget(25))
@example(case=(np.array([[0.5, 1.0], [-1.0, 0.5]]), 0.5), L=4)  # margin exactly gamma, far from normal
def test_converges_within_budget(case, L):
    check_convergence(*case, L)


def check_invariants(Phi, gamma, L, steps=60, *, algorithm=None) -> float:
    """Every iterate: margin(Theta_{1:L}) >= gamma and sigma_j(Theta_i)^L = sigma_j(Theta_{1:L})."""
    algorithm = algorithm or pp.power_projection
    instance = _instance(Phi, gamma, L)
    if evidence.hypotheses_fail(CLAIM, instance):
        return np.nan
    run = algorithm(Phi, L, step_size(L, float(np.linalg.norm(Phi))), gamma, steps, record=("loss",),
                    keep_iterates=True)
    d = Phi.shape[0]
    worst = 0.0
    for layers in run.iterates:
        P = product(layers)
        sigma = np.linalg.svd(P, compute_uv=False)
        # the product of the rebalanced layers carries their rounding: product_tol relative to ||P||
        margin_deficit = (gamma - sym_margin(P)) / (product_tol(d, L, sigma[0] / sigma[-1]) * sigma[0])
        balance = np.abs(np.linalg.svd(layers, compute_uv=False) ** L - sigma).max() / sigma[0]
        worst = max(worst, margin_deficit, balance / spectrum_rtol(d, L))
    return evidence.check_close(CLAIM, instance, error=worst, tol=1.0,
                                what="max over iterates of margin deficit and layer imbalance (in tolerances)")


@given(case=margin_targets(), L=st.integers(1, 6))
@settings(max_examples=profiles.budget(15))
def test_margin_and_balance_kept_at_every_iterate(case, L):
    check_invariants(*case, L)


def test_rate_table():
    """Measured iterations and contraction per (d, L, gamma) on fixed seeds, against the budget."""
    rows, curves = [], {}
    for d in (2, 4):
        for L in (2, 8):
            for gamma in (0.25, 1.0):
                rng = np.random.default_rng(100 * d + 10 * L + int(4 * gamma))
                K = rng.standard_normal((d, d))
                Phi = gamma * np.eye(d) + 0.5 * (K - K.T) + 0.2 * np.eye(d)
                norm_f = float(np.linalg.norm(Phi))
                run = pp.power_projection(Phi, L, step_size(L, norm_f), gamma, 100_000, tol=EPSILON, record=("loss",))
                T = iteration_budget(run.loss[0], EPSILON, gamma, norm_f)
                instance = {**_instance(Phi, gamma, L), "budget": T}
                evidence.check_upper(CLAIM, instance, lhs=run.steps if run.converged else run.steps + 1, rhs=T, rtol=0.0)
                rho = fitted_contraction(run, d, L, norm_f)
                predicted = 1 - min(1.0, gamma) ** 2 / (1 + norm_f ** 2)
                rows.append([d, L, gamma, round(norm_f, 3), run.steps, T, None if rho is None else round(rho, 5),
                             round(predicted, 5)])
                if d == 4:
                    curves[f"L={L}, gamma={gamma}"] = (np.arange(run.loss.size), run.loss)
                if rho is None:
                    evidence.record_unmeasurable(CLAIM, {**instance, "steps": run.steps},
                                                 reason="contraction fit: short run or loss at rounding")
                    continue
                # the contraction the budget is derived from (the fit's error is far below the gaps)
                evidence.check_upper(CLAIM, {**instance, "observed_contraction": rho}, lhs=rho, rhs=predicted,
                                     rtol=BOUND_RTOL)
    evidence.record_metric(CLAIM, GRID_RATIO, max(r[4] / r[5] for r in rows), reduce="same")
    evidence.record_table(CLAIM, "iterations to loss 1e-10 (fixed seeds)",
                          ["d", "L", "gamma", "||Phi||_F", "iterations", "budget T", "observed contraction",
                           "guaranteed contraction"], rows)
    evidence.record_series(CLAIM, "loss along power projection (d = 4)", x_label="iteration", y_label="loss",
                           curves=curves, log_y=True)


# --- sensitivity ------------------------------------------------------------------------------

def _budget_too_small(initial, eps, gamma, norm_f):
    """Planted wrong constant: the budget divided by 50."""
    return iteration_budget(initial, eps, gamma, norm_f) // 50


class _AscentStepper(pp._Stepper):
    """Planted wrong algorithm: a gradient step with the wrong sign."""

    def __init__(self, layers, target, step, penalty):
        super().__init__(layers, target, -step, penalty)


def _unbalanced(A, L):
    """Planted wrong algorithm: the projected product put into the first layer, identities after."""
    layers = np.broadcast_to(np.eye(A.shape[0]), (L, *A.shape)).copy()
    layers[0] = A
    return layers


def test_budget_check_catches_planted_constant():
    expect_caught(CLAIM, _budget_too_small.__doc__.split(":")[1].strip(),
                  st.tuples(margin_targets(max_d=2), st.integers(1, 3)),
                  lambda c: raises_violation(check_convergence, *c[0], c[1], budget=_budget_too_small),
                  describe=lambda c: f"d={c[0][0].shape[0]}, L={c[1]}")


@pytest.mark.parametrize("name, replacement", [("_Stepper", _AscentStepper), ("balanced_factorization", _unbalanced)])
def test_checks_catch_planted_algorithm_bugs(monkeypatch, name, replacement):
    monkeypatch.setattr(pp, name, replacement)
    check = check_convergence if name == "_Stepper" else check_invariants
    expect_caught(CLAIM, replacement.__doc__.split(":")[1].strip(), st.tuples(margin_targets(max_d=2), st.integers(2, 3)),
                  lambda c: raises_violation(check, *c[0], c[1]), describe=lambda c: f"d={c[0][0].shape[0]}, L={c[1]}")


def test_divergence_is_reported_not_raised():
    """A step far too large overflows the product: the run stops with diverged=True (found by
    planting a 0.9 eta regression, where the ascent canary then crashed the projection)."""
    Phi, gamma, L, steps = 3 * np.eye(2), 0.5, 4, 50
    run = pp.power_projection(Phi, depth=L, step=5.0, margin=gamma, steps=steps)
    instance = {**_instance(Phi, gamma, L), "step": 5.0, "steps": steps, "steps_done": run.steps}
    evidence.check_true(CLAIM, instance, holds=bool(run.diverged), what="the overflowing run reports diverged=True")
    evidence.check_true(CLAIM, instance, holds=bool(np.isfinite(run.loss).all()),
                        what="the recorded losses of a diverged run are finite")
    evidence.check_true(CLAIM, instance, holds=run.steps < steps, what="the diverged run stops before its budget")
