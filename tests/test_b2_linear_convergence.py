"""B2: linear convergence of gradient descent from a small initial loss, with the stated constants
c_0 = 1/256, p_1 = 4L, p_2 = 1.33/(eta L); measured rates, iterations versus log(1/eps) and the
largest initial loss that still converges, per (d, L)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings

from resclaims.claims.engine import evidence, profiles
from resclaims.claims.b2_linear_convergence import (
    BUDGET_METRIC, C0, C0_METRIC, C0_SEARCH_STEPS, CLAIM, P2_CONST, RATE_METRIC, SEARCH_EPS, STEP_FACTOR,
    STEP_SEARCH_STEPS, budget, guaranteed_rate, initial_loss, log_bound, needed_iteration_coefficient,
    needed_step_coefficient, p1, p2, radius_condition_slack)
from resclaims.impl.deep_linear import batched_gradient_descent, gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence
from scipy import optimize
from adversarial import SearchResult, multistart, starting_points
from canaries import expect_caught, raises_violation
from convergence_helpers import (
    counts_unmeasurable, first_hits, fit_log_rate, fit_slope, linearized_rate, log_ratio_max, rate_unmeasurable,
    singular_scale, unit_directions)
from oracles import reference_gradient_descent, slide_gradient
from strategies.convergence import EDGE, large_loss_negative_instances, small_loss_instances
from tolerances import (
    ATLAS_SEARCH_RTOL, BATCHED_LOSS_ATOL, BOUND_RTOL, LINEARIZED_RATE_RTOL, RATE_FIT_FLOOR_HEADROOM, RATE_WINDOW, TRAJECTORY_LOSS_RTOL,
    gd_loss_floor)

NIGHTLY = profiles.current_profile() == "nightly"

#: The measurement grid (the issue's small grid; the nightly profile adds larger cases).
GRID = [(d, L) for d in (2, 4, 8) for L in (2, 8, 32)] + ([(16, 8), (4, 128)] if NIGHTLY else [])
#: Random directions per grid point for the rate measurements and the c_0 search.
N_DIRECTIONS = 32 if NIGHTLY else 8
N_C0_DIRECTIONS = 24 if NIGHTLY else 6
#: Accuracies of the iterations-versus-log(1/eps) measurement.
EPS_GRID = 10.0 ** -np.arange(3, 15)
#: The c_0 search: "converges" means loss <= C0_EPS after C0_STEPS steps of eta = 1/(4L). Near the
#: boundary the rate tends to 0, so the measured c_0 is the largest initial loss that converges
#: *within this budget* (a longer budget moves it toward the singular bound of the table).
C0_STEPS, C0_EPS, C0_ROUNDS, C0_SCALE_CAP = 400, 1e-10, (7 if NIGHTLY else 5), 8.0


def instance_of(Phi: np.ndarray, L: int, eta: float, eps: float) -> dict:
    """The recorded instance: the data the hypotheses read (Phi, d, L, eta, eps), the initial loss
    and the rounding floor of the loss computed from the sizes and ||Phi||_2."""
    d = Phi.shape[0]
    return {"d": d, "L": L, "eta": eta, "eps": eps, "loss0": initial_loss(Phi), "Phi": Phi,
            "loss_floor": gd_loss_floor(d, L, float(np.linalg.norm(Phi, 2)))}


def check_trajectory(instance: dict, losses: np.ndarray, rho: float, *, diverged: bool = False,
                     metrics: dict | None = None) -> float | None:
    """The conclusion on one trajectory: loss(t) <= loss(0) (1 - rho)^t for 1 <= t (the recorded
    iterations, which run until loss <= eps or the budget T(eps)). Not reaching eps by T(eps)
    shows as a ratio > 1 at T, since loss(0)(1 - rho)^T <= eps.

    Measurable only if eps lies RATE_FIT_FLOOR_HEADROOM above the loss's rounding floor (every
    compared loss exceeds eps, except the last); else the instance is recorded as unmeasurable.
    A trajectory of one point (T(eps) = 0: loss(0) <= eps) has no iteration to bound."""
    if not instance["eps"] > RATE_FIT_FLOOR_HEADROOM * instance["loss_floor"]:
        evidence.record_unmeasurable(CLAIM, instance, reason="accuracy eps within rounding of the loss")
        return None
    losses = np.asarray(losses, dtype=float)
    if diverged:
        ratio = math.exp(700.0)
    elif losses.size <= 1:
        ratio = 0.0
    else:
        log_excess = log_ratio_max(losses, log_bound(np.arange(losses.size), instance["loss0"], rho))
        ratio = math.exp(min(700.0, log_excess))
    return evidence.check_upper(CLAIM, instance, lhs=ratio, rhs=1.0, rtol=BOUND_RTOL, metrics=metrics,
                                size=instance["L"])


def check(Phi, L, eta, eps, *, runner=gradient_descent, rho=None) -> float | None:
    """Run GD (``runner``) for the budget T(eps) and check the guaranteed linear decay."""
    instance = instance_of(Phi, L, eta, eps)
    loss0 = instance["loss0"]
    rho = guaranteed_rate(eta, L) if rho is None else rho
    T = budget(eta, L, loss0, eps, rho)
    run = runner(Phi, L, eta, T, tol=eps)
    metrics = {BUDGET_METRIC: run.steps / max(T, 1)}
    if run.steps > 0 and not run.diverged:
        average = math.log(loss0 / max(run.loss[-1], 1e-300)) / run.steps
        evidence.record_metric(CLAIM, "average rate ln(loss0/loss_T)/T / guaranteed -ln(1-rho) (min)",
                               average / -math.log1p(-rho), reduce="min")
    return check_trajectory(instance, run.loss, rho, diverged=run.diverged, metrics=metrics)


def _examples(test):
    adversarial = np.eye(3) - EDGE * np.diag([1.0, 0.0, 0.0])  # toward a singular target
    rotation = np.eye(2) + EDGE / math.sqrt(2) * np.array([[0.0, -1.0], [1.0, 0.0]])  # skew direction, loss = c_0
    for Phi, L in ((adversarial, 32), (rotation, 8), (np.array([[1.0 + EDGE]]), 1)):
        test = example(inst=(Phi, L, 1.0 / p1(Phi.shape[0], L), 1e-14))(test)
    return test


def test_stated_constants_close_the_induction():
    """The derivation's side condition holds at every admissible step (eta L <= 1/4), and
    T(eps) <= p_2 ln(1/eps) with p_2 = P_2 (1/eta)/L for every eps < c_0, at the largest initial
    loss allowed (Phi = 1 + sqrt(2 c_0), d = 1: loss(I) = c_0 less a few ulps)."""
    L, Phi = 16, np.array([[1.0 + EDGE]])
    for eta_L in (1 / 4, 1 / 8, 1 / 64, 1e-4):
        eta = eta_L / L
        evidence.check_lower(CLAIM, {**instance_of(Phi, L, eta, C0 / 2), "eta_L": eta_L},
                             lhs=radius_condition_slack(eta_L), rhs=0.0, rtol=0.0)
        for eps in (C0 / 2, 1e-6, 1e-14):
            inst = instance_of(Phi, L, eta, eps)
            evidence.check_upper(CLAIM, inst, lhs=budget(eta, L, inst["loss0"], eps),
                                 rhs=p2(inst["d"], L, 1 / eta) * math.log(1 / eps), rtol=0.0)
    evidence.record_metric(CLAIM, "radius condition r e^{-3r}(1-kappa) - sqrt(2 c_0) at eta L = 1/4",
                           radius_condition_slack(0.25), reduce="same")
    evidence.record_metric(CLAIM, "P_2 of p_2 = P_2/(eta L)", P2_CONST, reduce="same")
    # a larger c_0 would not close it: the stated constant is near the largest this proof allows
    evidence.check_upper(CLAIM, {**instance_of(Phi, L, 1 / p1(1, L), C0 / 2), "larger_c0": 1 / 200},
                         lhs=radius_condition_slack(0.25, c0=1 / 200), rhs=0.0, rtol=0.0)


@given(inst=small_loss_instances())
@settings(max_examples=profiles.budget(30))
@_examples
def test_linear_decay_within_budget(inst):
    check(*inst)


# --- measurements -------------------------------------------------------------------------

def _directions(d: int, count: int, salt: int) -> np.ndarray:
    """Fixed random directions per d (the same for every L): seeded from (d, salt)."""
    return unit_directions(np.random.default_rng([d, salt]), count, d)


@pytest.mark.parametrize("d, L", GRID)
def test_measured_rates_and_iterations(d, L):
    """Per (d, L): fitted linear rate of log loss(t), its prediction from the linearization at the
    limit, and iterations versus log(1/eps), on N_DIRECTIONS targets with loss(I) = c_0."""
    eta = 1.0 / p1(d, L)
    rho = guaranteed_rate(eta, L)
    Phis = np.eye(d) + EDGE * _directions(d, N_DIRECTIONS, salt=1)
    T = max(budget(eta, L, initial_loss(P), EPS_GRID[-1], rho) for P in Phis)
    layers, losses = batched_gradient_descent(Phis, L, eta, 2 * T)
    hits = first_hits(losses, EPS_GRID)  # (len(EPS_GRID), B)
    instances = [instance_of(P, L, eta, float(EPS_GRID[-1])) for P in Phis]
    for b, instance in enumerate(instances):
        # down to 1e-14; a target that does not get there by T(1e-14) is a violation at T
        t_end = int(hits[-1, b]) if hits[-1, b] >= 0 else losses.shape[0] - 1
        check_trajectory(instance, losses[: t_end + 1, b], rho,
                         metrics={BUDGET_METRIC: t_end / budget(eta, L, instance["loss0"], EPS_GRID[-1], rho)})
    # the batched engine is the per-problem engine (first target, down to 1e-14)
    single = gradient_descent(Phis[0], L, eta, int(hits[-1, 0])).loss
    evidence.check_allclose(CLAIM, instances[0], actual=losses[: single.size, 0], desired=single,
                            rtol=TRAJECTORY_LOSS_RTOL, atol=BATCHED_LOSS_ATOL,
                            what="batched GD losses against the per-problem engine")
    rates, predicted, per_nat = [], [], []
    for b, instance in enumerate(instances):
        reason = rate_unmeasurable(losses[:, b], floor=instance["loss_floor"]) or \
            counts_unmeasurable(hits[:, b])
        if reason is not None:
            evidence.record_unmeasurable(CLAIM, instance, reason=reason)
            continue
        rate, linearized = fit_log_rate(losses[:, b]), linearized_rate(layers[b], eta)
        # the fitted rate is the slowest mode's (up to the transient of faster ones, which only speed it up)
        evidence.check_close(CLAIM, instance, error=abs(rate / linearized - 1), tol=LINEARIZED_RATE_RTOL,
                             what="|fitted rate / linearization rate - 1|")
        rates.append(rate)
        predicted.append(linearized)
        per_nat.append(fit_slope(np.log(1 / EPS_GRID), hits[:, b]))
    if not rates:  # every direction recorded as unmeasurable above
        return
    rates, predicted = np.array(rates), np.array(predicted)
    guaranteed = -math.log1p(-rho)
    agreement = rates / predicted
    evidence.record_table(CLAIM, "measured linear rates and iterations per (d, L), loss(I) = c_0, eta = 1/(4L)",
                          ["d", "L", "fitted rate min", "fitted rate max", "linearization rate min",
                           "guaranteed -ln(1-rho)", "fitted / guaranteed min", "iterations per nat (mean fit)",
                           "budget per nat", "iterations to 1e-14 (max)", "budget T(1e-14)"],
                          [[d, L, rates.min(), rates.max(), predicted.min(), guaranteed, rates.min() / guaranteed,
                            float(np.mean(per_nat)), 1 / guaranteed, int(hits[-1].max()), T]])
    evidence.record_metric(CLAIM, RATE_METRIC, rates.min(), reduce="min")
    evidence.record_metric(CLAIM, "fitted linear rate per step (max over grid)", rates.max(), reduce="max")
    evidence.record_metric(CLAIM, "fitted / guaranteed rate (min)", rates.min() / guaranteed, reduce="min")
    evidence.record_metric(CLAIM, "fitted / linearization rate (max)", agreement.max(), reduce="max")
    evidence.record_metric(CLAIM, "fitted / linearization rate (min)", agreement.min(), reduce="min")
    evidence.record_metric(CLAIM, "iterations per nat of 1/eps, fitted (max)", max(per_nat), reduce="max")
    t = np.arange(losses.shape[0])
    floor_hit = int(first_hits(losses[:, 0], RATE_WINDOW[0] / 10))
    keep = t <= (floor_hit if floor_hit >= 0 else t[-1])  # down to a decade below the rate window
    evidence.record_series(CLAIM, "loss curves, loss(I) = c_0", x_label="iteration t (eta = 1/(4L))",
                           y_label="loss", log_y=True,
                           curves={f"d={d}, L={L:>2}": (t[keep], losses[keep, 0]),
                                   "guaranteed c_0 (1-rho)^t": (t[keep], np.exp(log_bound(t[keep], C0, rho)))})
    evidence.record_series(CLAIM, "iterations to eps vs ln(1/eps)",
                           x_label="ln(1/eps)", y_label="iterations (max over directions)",
                           curves={f"d={d}, L={L:>2}": (np.log(1 / EPS_GRID), hits.max(axis=1)),
                                   "budget T(eps)": (np.log(1 / EPS_GRID),
                                                     [budget(eta, L, C0, e, rho) for e in EPS_GRID])})


def converges(Phis: np.ndarray, L: int, eta: float) -> np.ndarray:
    """Which targets reach loss <= C0_EPS within C0_STEPS steps (batched GD)."""
    _, losses = batched_gradient_descent(Phis, L, eta, C0_STEPS)
    with np.errstate(invalid="ignore"):
        return np.isfinite(losses).all(axis=0) & (losses[-1] <= C0_EPS)


def largest_converging_scale(D: np.ndarray, L: int, eta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trisection, for every direction at once, of the largest s with I + s D converging.

    Bracket: s = sqrt(2 c_0) (converges by the claim: the caller checks the returned
    ``start_converged``) and the first singular target along the ray (capped at C0_SCALE_CAP);
    assumes convergence is monotone along each ray. Returns the largest converging scale found,
    whether the upper end converged (censored at the cap), and whether the lower end converged.
    """
    K, d, _ = D.shape
    eye = np.eye(d)
    lo = np.full(K, math.sqrt(2 * C0))
    hi = np.array([min(singular_scale(Dk), C0_SCALE_CAP) for Dk in D])
    ends = converges(np.concatenate([eye + lo[:, None, None] * D, eye + hi[:, None, None] * D]), L, eta)
    start_converged, censored = ends[:K], ends[K:]
    lo = np.where(censored, hi, lo)
    for _ in range(C0_ROUNDS):
        a, b = lo + (hi - lo) / 3, lo + 2 * (hi - lo) / 3
        ok = converges(np.concatenate([eye + a[:, None, None] * D, eye + b[:, None, None] * D]), L, eta)
        ok_a, ok_b = ok[:K], ok[K:]
        lo, hi = np.where(ok_b, b, np.where(ok_a, a, lo)), np.where(ok_b, hi, np.where(ok_a, b, a))
    return lo, censored, start_converged


@pytest.mark.parametrize("d, L", GRID)
def test_largest_initial_loss_that_converges(d, L):
    """The largest c_0 for which GD (eta = 1/(4L)) still converges, by trisection over the scale
    s of Phi = I + s D for fixed random unit directions D (c_0 = min over directions of s^2/2),
    and along the adversarial direction -e_1 e_1^T (singular at s = 1, so c_0 <= 1/2 there)."""
    eta = 1.0 / p1(d, L)
    adversarial = np.zeros((1, d, d))
    adversarial[0, 0, 0] = -1.0
    D = np.concatenate([_directions(d, N_C0_DIRECTIONS, salt=2), adversarial])
    scales, censored, start_converged = largest_converging_scale(D, L, eta)
    edge = [instance_of(np.eye(d) + math.sqrt(2 * C0) * Dk, L, eta, C0_EPS) for Dk in D]
    for instance, converged in zip(edge, start_converged):  # the stated c_0 converges along every direction
        evidence.check_true(CLAIM, instance, holds=bool(converged),
                            what=f"GD from loss(I) = c_0 reaches {C0_EPS:g} within {C0_STEPS} steps")
    c0_dirs = scales[:-1] ** 2 / 2
    singular = np.array([singular_scale(Dk) for Dk in D[:-1]])
    c0_measured = float(c0_dirs.min())
    evidence.check_lower(CLAIM, edge[int(np.argmin(c0_dirs))], lhs=c0_measured, rhs=C0, rtol=0.0)
    # the adversarial ray cannot converge past its singular target (s = 1)
    evidence.check_upper(CLAIM, edge[-1], lhs=float(scales[-1]), rhs=1.0, rtol=0.0)
    evidence.record_table(CLAIM, "largest initial loss that converges (within 400 steps to 1e-10), eta = 1/(4L)",
                          ["d", "L", "c_0 measured (min over directions)", "median", "max",
                           "directions censored at s = 8", "c_0 along -e_1 e_1^T", "singular bound min s*^2/2",
                           "stated c_0"],
                          [[d, L, c0_measured, float(np.median(c0_dirs)), float(c0_dirs.max()),
                            int(censored[:-1].sum()),
                            scales[-1] ** 2 / 2, float(np.min(singular) ** 2 / 2), C0]])
    evidence.record_metric(CLAIM, C0_METRIC, c0_measured, reduce="min")
    evidence.record_metric(CLAIM, "measured c_0 along -e_1 e_1^T (min over grid)", scales[-1] ** 2 / 2, reduce="min")
    evidence.record_metric(CLAIM, "stated c_0 / measured c_0 (max)", C0 / min(c0_measured, scales[-1] ** 2 / 2),
                           reduce="max")
    evidence.record_series(CLAIM, "measured c_0 vs L", x_label="L", y_label="largest converging loss(I)",
                           log_x=True, log_y=True,
                           curves={f"d={d}, random directions (min)": ([L], [c0_measured]),
                                   f"d={d}, -e_1 e_1^T": ([L], [scales[-1] ** 2 / 2]),
                                   "stated c_0": ([L], [C0])})


# --- sensitivity: gradient bugs planted in the oracle's GD (tests/oracles.py) ---------------

def transposed_residual_gradient(layers, prefix, suffix, E):
    """Bug: residual transposed, Theta_{i+1:L}^T E^T Theta_{1:i-1}^T (the skew part of E grows)."""
    return slide_gradient(layers, prefix, suffix, E.T)


def ascent_gradient(layers, prefix, suffix, E):
    """Bug: gradient with the wrong sign (ascent)."""
    return [-g for g in slide_gradient(layers, prefix, suffix, E)]


def dropped_left_transpose(layers, prefix, suffix, E):
    """Dropped transpose of Theta_{i+1:L}: Theta_{i+1:L} E Theta_{1:i-1}^T."""
    return [suffix[i] @ E @ prefix[i].T for i in range(len(layers))]


def off_by_one_prefix(layers, prefix, suffix, E):
    """Off-by-one layer index: Theta_{1:i} in place of Theta_{1:i-1}."""
    return [suffix[i].T @ E @ (layers[i] @ prefix[i]).T for i in range(len(layers))]


def _runner(gradient):
    def run(Phi, L, eta, steps, tol):
        with np.errstate(over="ignore", invalid="ignore"):  # a planted bug may diverge
            return reference_gradient_descent(Phi, L, eta, steps, tol=tol, gradient=gradient)
    return run


def test_reference_loop_equals_the_engine():
    """The oracle's GD, into which gradient bugs are planted, is the engine's GD when given the
    slide's gradient (d = 3, L = 5, eta = 1/(4L), loss(I) = c_0, 60 steps)."""
    L, Phi = 5, np.eye(3) + EDGE * unit_directions(np.random.default_rng(0), 1, 3)[0]
    eta = 1.0 / p1(3, L)
    ref = reference_gradient_descent(Phi, L, eta, 60)
    eng = gradient_descent(Phi, L, eta, 60)
    evidence.check_allclose(CLAIM, instance_of(Phi, L, eta, float(eng.loss[-1])), actual=ref.loss, desired=eng.loss,
                            rtol=TRAJECTORY_LOSS_RTOL, atol=BATCHED_LOSS_ATOL,
                            what="oracle GD losses against the engine")


def _nonsymmetric(inst) -> bool:
    return not np.array_equal(inst.Phi, inst.Phi.T)


GRADIENT_BUGS = {
    "dropped transpose of Theta_{i+1:L}": dropped_left_transpose,
    "off-by-one prefix Theta_{1:i}": off_by_one_prefix,
    "residual transposed (E^T)": transposed_residual_gradient,
    "gradient sign flipped (ascent)": ascent_gradient,
}


@pytest.mark.parametrize("name", ["residual transposed (E^T)", "gradient sign flipped (ascent)"])
def test_check_catches_wrong_gradient(name):
    bug = GRADIENT_BUGS[name]
    expect_caught(CLAIM, f"{name}, planted in GD",
                  small_loss_instances(max_d=3, max_L=4, kinds=("gaussian", "skew")),
                  lambda inst: _nonsymmetric(inst) and raises_violation(check, *inst, runner=_runner(bug)),
                  describe=lambda inst: f"d={inst.Phi.shape[0]}, L={inst.L}, eta={inst.eta:.4g}")


def test_check_catches_too_large_step():
    """Engine bug: the step is multiplied by 10 (eta L = 2.5 > 2: oscillates and diverges)."""
    def big_step(Phi, L, eta, steps, tol):
        return gradient_descent(Phi, L, 10 * eta, steps, tol=tol)

    expect_caught(CLAIM, "step multiplied by 10 in the engine", small_loss_instances(max_d=3, max_L=8),
                  lambda inst: inst.eta == 1 / p1(inst.Phi.shape[0], inst.L) and initial_loss(inst.Phi) > 0
                  and raises_violation(check, *inst, runner=big_step),
                  describe=lambda inst: f"d={inst.Phi.shape[0]}, L={inst.L}")


def test_check_catches_too_fast_rate():
    """Planted wrong constant: a guaranteed rate 3x the derived one."""
    expect_caught(CLAIM, "guaranteed rate rho multiplied by 3", small_loss_instances(max_d=3, max_L=8),
                  lambda inst: initial_loss(inst.Phi) > 0
                  and raises_violation(check, *inst, rho=3 * guaranteed_rate(inst.eta, inst.L)),
                  describe=lambda inst: f"d={inst.Phi.shape[0]}, L={inst.L}, loss0={initial_loss(inst.Phi):.3g}")


def test_dropping_small_initial_loss_breaks_convergence():
    def fails(inst):
        Phi, L, eta, eps = inst
        run = gradient_descent(Phi, L, eta, budget(eta, L, initial_loss(Phi), eps), tol=eps)
        return not run.converged

    expect_caught(CLAIM, "initial loss above c_0 toward a negative eigenvalue (even L): never converges",
                  large_loss_negative_instances(), fails,
                  describe=lambda inst: f"d={inst.Phi.shape[0]}, L={inst.L}, Phi_11={inst.Phi[0, 0]:.3g}")


def test_near_identity_gradient_bugs_that_a_convergence_check_cannot_see():
    """Sensitivity, documented: a dropped transpose of a near-identity factor, or an off-by-one
    prefix, still gives a descent direction near I, so GD still converges linearly within the
    budget; such bugs are B1's to catch (the gradient formula against finite differences). The
    transposed residual and the sign error change the fixed point's stability and are caught on
    every one of the 4 targets (canaries)."""
    rows, caught = [], {}
    rng = np.random.default_rng(7)
    for name, bug in GRADIENT_BUGS.items():
        caught[name] = 0
        for _ in range(4):
            d, L = 3, 4
            Phi = np.eye(d) + EDGE * unit_directions(rng, 1, d)[0]
            with evidence.scratch():
                caught[name] += raises_violation(check, Phi, L, 1 / p1(d, L), 1e-12, runner=_runner(bug))
        rows.append([name, f"{caught[name]}/4"])
    evidence.record_table(CLAIM, "planted gradient bugs against the convergence check (d = 3, L = 4, loss(I) = c_0)",
                          ["planted bug", "instances caught"], rows)
    for name in ("residual transposed (E^T)", "gradient sign flipped (ascent)"):
        evidence.record_canary(CLAIM, f"{name}, planted in GD, on every one of 4 targets at loss(I) = c_0",
                               caught=caught[name] == 4, detail=f"{caught[name]}/4 targets caught (d = 3, L = 4)")


# --- constants atlas (issue 10): the true c_0, p_1 and p_2, searched adversarially ----------
#
# Outcomes are defined computably. "Converges": the loss reaches SEARCH_EPS = 1e-10 within the
# stated budget of steps (C0_SEARCH_STEPS for c_0, STEP_SEARCH_STEPS for p_1). "Fails": it does
# not; a failure is classified as "sign-blocked" (det Phi <= 0 while every layer kept a positive
# determinant: the product cannot reach Phi without a layer crossing singularity, and then
# loss >= sigma_min(Phi)^2 / 2 along the run), "diverged" (a non-finite loss), or "not within
# budget" (det Phi > 0, finite; rerun with 10x the budget to say whether it converges later).

#: (d, L) of the c_0 search; the nightly profile adds larger d, odd and deeper L.
C0_SEARCH_GRID = [(2, 3)] + ([(2, 2), (2, 4), (3, 2), (3, 3), (3, 4), (2, 8)] if NIGHTLY else [])
#: (d, L) of the p_1 and p_2 searches.
STEP_SEARCH_GRID = [(2, 2)] + ([(3, 4), (2, 8), (4, 2), (4, 8), (3, 3)] if NIGHTLY else [])
ITERATION_SEARCH_GRID = [(2, 2), (3, 4)] + ([(2, 5), (4, 2), (4, 8), (3, 3), (2, 16)] if NIGHTLY else [])
#: Bisection rounds on the scale s of Phi = I + s D (bracket [sqrt(2 c_0), C0_SCALE_CEILING]) and on
#: ln(eta) (bracket [1/(4L), STEP_CEILING_FACTOR/L]).
C0_BISECTION_ROUNDS, C0_SCALE_CEILING = 7, 1.2
#: Differential evolution of the c_0 search: population per parameter of D, generations.
C0_POPULATION_PER_PARAMETER, C0_GENERATIONS = (3, 1) if not NIGHTLY else (6, 30)
STEP_BISECTION_ROUNDS, STEP_CEILING_FACTOR = 6, 4.0
#: Accuracies of the p_2 measurement (max over them of eta L T_eps / ln(1/eps)).
P2_EPS_GRID = 10.0 ** -np.arange(3, 15)
#: Nelder-Mead evaluations per start of the p_1 and p_2 searches.
STEP_EVALUATIONS = 5 if not NIGHTLY else 100
ITERATION_EVALUATIONS = 20 if not NIGHTLY else 300


def _direction(x: np.ndarray, d: int) -> np.ndarray:
    """The unit-Frobenius d x d direction of an optimizer's point (the identity's normal if x = 0)."""
    D = np.asarray(x, dtype=float).reshape(d, d)
    norm = float(np.linalg.norm(D))
    return D / norm if norm > 0 else -np.eye(d) / math.sqrt(d)


def _sign_blocked_start(d: int) -> np.ndarray:
    """-e_1 e_1^T: the symmetric family diag(1 - s, 1, ..., 1), singular at s = 1 (loss(I) = 1/2)."""
    D = np.zeros((d, d))
    D[0, 0] = -1.0
    return D.ravel()


def reaches(Phi: np.ndarray, L: int, eta: float, steps: int) -> bool:
    """'Converges': GD from the identity reaches SEARCH_EPS within ``steps`` steps (stops early)."""
    return bool(gradient_descent(Phi, L, eta, steps, tol=SEARCH_EPS).converged)


def failing_scales(D: np.ndarray, L: int) -> np.ndarray:
    """Bisection, for a batch of unit directions D (P, d, d) at once (batched GD), for the smallest s
    with I + s D failing the c_0 budget (eta = 1/(4L)), in [sqrt(2 c_0), C0_SCALE_CEILING] (the
    ceiling where even that converges); assumes failures are monotone along each ray. The returned
    scales fail (or are the ceiling)."""
    eye, eta = np.eye(D.shape[1]), 1.0 / p1(D.shape[1], L)

    def converge(scales):
        _, losses = batched_gradient_descent(eye + scales[:, None, None] * D, L, eta, C0_SEARCH_STEPS)
        return first_hits(losses, SEARCH_EPS) >= 0

    lo, hi = np.full(len(D), math.sqrt(2 * C0)), np.full(len(D), C0_SCALE_CEILING)
    for _ in range(C0_BISECTION_ROUNDS):
        mid = 0.5 * (lo + hi)
        ok = converge(mid)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return hi


def classify_failure(Phi: np.ndarray, L: int, eta: float, steps: int) -> str:
    """The kind of a failure within ``steps`` (see the section's comment)."""
    run = gradient_descent(Phi, L, eta, 10 * steps, tol=SEARCH_EPS)
    if run.diverged:
        return "diverged"
    if np.linalg.det(Phi) <= 0 and np.all(np.linalg.det(run.layers) > 0):
        return "sign-blocked"
    return f"not within budget (converges by {run.steps} steps)" if run.converged else \
        f"not within budget (not by {10 * steps} steps either)"


def _reproduction(Phi: np.ndarray, L: int, eta_expr: str, steps: int, value_expr: str) -> str:
    return (
        "import numpy as np\n"
        "from resclaims.impl.deep_linear import gradient_descent\n"
        f"Phi = np.array({Phi.tolist()!r})\n"
        f"L, eta = {L}, {eta_expr}\n"
        f"run = gradient_descent(Phi, L, eta, {steps}, tol=1e-10)  # run.converged: False (a failure)\n"
        f"value = {value_expr}\n")


@pytest.mark.parametrize("d, L", C0_SEARCH_GRID)
def test_atlas_true_c0_search(d, L):
    """The true c_0 under the budget: minimise loss(I) = s*(D)^2 / 2 over unit directions D, s*(D)
    the failing scale of Phi = I + s D (batched bisection), by differential evolution (vectorized)
    from the symmetric direction -e_1 e_1^T and seeded random non-symmetric ones. The extremal failure is classified and recorded
    as the atlas row's instance; the stated c_0 converges along it."""
    eta = 1.0 / p1(d, L)
    population = C0_POPULATION_PER_PARAMETER * d * d
    init = np.clip(np.concatenate([_sign_blocked_start(d)[None],
                                   starting_points(population - 1, d * d, seed=10 + d, scale=0.5)]), -1, 1)
    evaluations = [0]

    def objective(X):  # vectorized: X has shape (d*d, P)
        evaluations[0] += X.shape[1]
        D = np.stack([_direction(x, d) for x in X.T])
        return failing_scales(D, L) ** 2 / 2

    result = optimize.differential_evolution(objective, [(-1.0, 1.0)] * (d * d), init=init, seed=d * 100 + L,
                                             maxiter=C0_GENERATIONS, tol=0.0, polish=False, vectorized=True,
                                             updating="deferred")
    found = SearchResult(result.x, float(result.fun), "differential evolution (vectorized, batched GD bisection)",
                         population, evaluations[0])
    D = _direction(found.x, d)
    s_star = math.sqrt(2 * found.value)
    Phi = np.eye(d) + s_star * D
    kind = classify_failure(Phi, L, eta, C0_SEARCH_STEPS)
    instance = {**instance_of(Phi, L, eta, SEARCH_EPS), "budget_steps": C0_SEARCH_STEPS, "failure": kind,
                "det_Phi": float(np.linalg.det(Phi)), "sigma_min_Phi": float(np.linalg.svd(Phi)[1][-1])}
    evidence.check_true(CLAIM, instance_of(np.eye(d) + EDGE * D, L, eta, SEARCH_EPS),
                        holds=reaches(np.eye(d) + EDGE * D, L, eta, C0_SEARCH_STEPS),
                        what="the stated c_0 converges along the extremal direction")
    evidence.check_true(CLAIM, instance, holds=not reaches(Phi, L, eta, C0_SEARCH_STEPS) or found.value >= 0.5 * C0_SCALE_CEILING ** 2,
                        what="the recorded instance fails the budget (or the search hit its ceiling)")
    evidence.record_constant(
        CLAIM, "c_0", value=initial_loss(Phi), instance=instance,
        reproduction=_reproduction(Phi, L, f"{eta!r}", C0_SEARCH_STEPS,
                                   "0.5 * float(np.sum((np.eye(len(Phi)) - Phi) ** 2))"),
        method=found.method, starts=found.starts, evaluations=found.evaluations, rtol=ATLAS_SEARCH_RTOL)
    evidence.record_canary(CLAIM, "planted c_0 = 1/2 (the sign ceiling) in place of the budget's c_0",
                           caught=initial_loss(Phi) < 0.5,
                           detail=f"a failure within {C0_SEARCH_STEPS} steps at loss(I) = {initial_loss(Phi):.4g}")
    evidence.record_table(CLAIM, f"true c_0 search (eta = 1/(4L), converges = loss <= 1e-10 within "
                          f"{C0_SEARCH_STEPS} steps)",
                          ["d", "L", "best failing loss(I)", "failure kind", "det Phi", "sigma_min(Phi)",
                           "starts", "evaluations"],
                          [[d, L, initial_loss(Phi), kind, instance["det_Phi"], instance["sigma_min_Phi"],
                            found.starts, found.evaluations]])


def test_symmetric_family_c0_tends_to_one_half_with_the_budget():
    """The other side of c_0, exactly: Phi = diag(1 - s, 1, ..., 1) through B8's scalar recurrence
    (only the coordinate mu = 1 - s moves). Its first budget failure c_0(T) rises toward 1/2 as the
    budget T grows; at s >= 1 (loss(I) >= 1/2) it never converges (det Phi <= 0)."""
    budgets = [100, C0_SEARCH_STEPS, 2000] + ([10_000, 100_000] if NIGHTLY else [])
    rows = []
    for L in (2, 3, 4) + ((8,) if NIGHTLY else ()):
        s = np.linspace(0.5, 1.0, 201)
        run = scalar_recurrence((1.0 - s)[:, None], L, 1.0 / p1(1, L), budgets[-1])
        hits = first_hits(run.loss, SEARCH_EPS)
        row = [L]
        for T in budgets:
            failing = s[(hits < 0) | (hits > T)]
            row.append(float(failing.min() ** 2 / 2))
        rows.append(row)
        edge = np.diag([1.0 - math.sqrt(2 * row[-1]), 1.0])
        evidence.check_upper(CLAIM, {**instance_of(edge, L, 1.0 / p1(2, L), SEARCH_EPS), "budget_steps": budgets[-1]},
                             lhs=row[-1], rhs=0.5, rtol=0.0)
    evidence.record_table(CLAIM, "c_0 within a budget of T steps, family diag(1 - s, 1, ..., 1), eta = 1/(4L), "
                          "eps = 1e-10 (exact recurrence; s on a grid of step 1/400)",
                          ["L"] + [f"c_0(T = {T})" for T in budgets], rows)



def largest_step_failure(D: np.ndarray, L: int) -> float:
    """Bisection on ln(eta) in [1/(4L), STEP_CEILING_FACTOR / L] for the smallest step at which GD
    from Phi = I + sqrt(2 c_0) D (loss(I) = c_0) fails to reach SEARCH_EPS within STEP_SEARCH_STEPS
    steps (the ceiling if even that converges); assumes the converging steps form an interval."""
    Phi = np.eye(D.shape[0]) + EDGE * D
    lo, hi = 1.0 / p1(D.shape[0], L), STEP_CEILING_FACTOR / L
    if reaches(Phi, L, hi, STEP_SEARCH_STEPS):
        return hi
    for _ in range(STEP_BISECTION_ROUNDS):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if reaches(Phi, L, mid, STEP_SEARCH_STEPS) else (lo, mid)
    return hi


@pytest.mark.parametrize("d, L", STEP_SEARCH_GRID)
def test_atlas_p1_search(d, L):
    """p_1 = kappa L: maximise the kappa = 1/(L eta_fail) an instance needs over unit directions D
    (Phi = I + sqrt(2 c_0) D, Nelder-Mead from the symmetric direction and seeded random ones)."""
    starts = np.concatenate([_sign_blocked_start(d)[None], starting_points(profiles.budget(1), d * d, seed=20 + d)])
    found = multistart(lambda x: -needed_step_coefficient(largest_step_failure(_direction(x, d), L), L), starts,
                       max_evaluations_per_start=STEP_EVALUATIONS)
    D = _direction(found.x, d)
    Phi, eta_fail = np.eye(d) + EDGE * D, largest_step_failure(D, L)
    kappa = needed_step_coefficient(eta_fail, L)
    instance = {**instance_of(Phi, L, eta_fail, SEARCH_EPS), "budget_steps": STEP_SEARCH_STEPS, "kappa": kappa}
    evidence.check_true(CLAIM, instance_of(Phi, L, 1.0 / p1(d, L), SEARCH_EPS),
                        holds=reaches(Phi, L, 1.0 / p1(d, L), STEP_SEARCH_STEPS),
                        what="the stated step 1/(4L) converges at the extremal target")
    evidence.check_true(CLAIM, instance, holds=not reaches(Phi, L, eta_fail, STEP_SEARCH_STEPS)
                        or eta_fail >= STEP_CEILING_FACTOR / L,
                        what="the recorded step fails the budget (or the search hit its ceiling)")
    evidence.record_constant(
        CLAIM, "p_1", value=kappa, instance=instance,
        reproduction=_reproduction(Phi, L, f"{eta_fail!r}", STEP_SEARCH_STEPS, "1.0 / (L * eta)"),
        method=found.method, starts=found.starts, evaluations=found.evaluations, rtol=ATLAS_SEARCH_RTOL)
    evidence.record_table(CLAIM, f"largest stable step: kappa needed in p_1 = kappa L (loss(I) = c_0, converges = "
                          f"loss <= 1e-10 within {STEP_SEARCH_STEPS} steps)",
                          ["d", "L", "kappa needed (max found)", "eta_fail L", "stated kappa", "starts", "evaluations"],
                          [[d, L, kappa, eta_fail * L, STEP_FACTOR, found.starts, found.evaluations]])


def needed_p2(D: np.ndarray, L: int) -> float:
    """The P_2 that GD from Phi = I + sqrt(2 c_0) D needs at eta = 1/(4L) over P2_EPS_GRID."""
    eta = 1.0 / p1(D.shape[0], L)
    Phi = np.eye(D.shape[0]) + EDGE * D
    run = gradient_descent(Phi, L, eta, budget(eta, L, initial_loss(Phi), P2_EPS_GRID[-1]), tol=P2_EPS_GRID[-1])
    hits = first_hits(run.loss, P2_EPS_GRID)
    if np.any(hits < 0):  # the stated budget T(eps) was not enough: a violation of the theorem's p_2
        return math.inf
    return needed_iteration_coefficient(hits, P2_EPS_GRID, eta, L)


@pytest.mark.parametrize("d, L", ITERATION_SEARCH_GRID)
def test_atlas_p2_search(d, L):
    """p_2 = P_2 (1/eta)/L: maximise the P_2 an instance needs (eta = 1/(4L), loss(I) = c_0) over unit
    directions D by Nelder-Mead from the symmetric direction and seeded random ones."""
    eta = 1.0 / p1(d, L)
    starts = np.concatenate([_sign_blocked_start(d)[None], starting_points(profiles.budget(2), d * d, seed=30 + d)])
    found = multistart(lambda x: -needed_p2(_direction(x, d), L), starts,
                       max_evaluations_per_start=ITERATION_EVALUATIONS)
    D = _direction(found.x, d)
    Phi = np.eye(d) + EDGE * D
    value = needed_p2(D, L)
    instance = {**instance_of(Phi, L, eta, float(P2_EPS_GRID[-1])), "P_2": value}
    reproduction = (
        "import numpy as np\n"
        "from resclaims.impl.deep_linear import gradient_descent\n"
        f"Phi = np.array({Phi.tolist()!r})\n"
        f"L, eta = {L}, {eta!r}\n"
        "eps = 10.0 ** -np.arange(3, 15)\n"
        "loss = gradient_descent(Phi, L, eta, 2000, tol=1e-14).loss\n"
        "hits = np.array([int(np.argmax(loss <= e)) for e in eps])\n"
        "value = float(np.max(eta * L * hits / np.log(1.0 / eps)))\n")
    evidence.record_constant(CLAIM, "p_2", value=value, instance=instance, reproduction=reproduction,
                             method=found.method, starts=found.starts, evaluations=found.evaluations,
                             rtol=ATLAS_SEARCH_RTOL)
    evidence.record_table(CLAIM, "iterations per ln(1/eps): P_2 needed in p_2 = P_2 (1/eta)/L (eta = 1/(4L), "
                          "loss(I) = c_0, eps in [1e-14, 1e-3])",
                          ["d", "L", "P_2 needed (max found)", "iterations per nat at the worst target",
                           "stated P_2", "starts", "evaluations"],
                          [[d, L, value, value / (eta * L), P2_CONST, found.starts, found.evaluations]])
