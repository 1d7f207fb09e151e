"""B5: R(t+1) <= R(t) + eta (1 + R(t))^L sqrt(2 loss(t)) along the engine's GD trajectories.

Trajectories from the identity, from scaled identities, from random near-identity layers and from
rotations far from I; targets near I, rank-one above the start's product (where the sharper
exponent L - 1 is attained), with a negative eigenvalue, and large; step sizes from 1e-3/L to
3/L (the trajectory grows, sometimes diverges: the engine stops there and the recorded prefix
is checked). (1 + R)^L is handled in log space throughout.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings

from resclaims.claims.engine import evidence
from resclaims.claims.b5_stay_close_to_identity import (
    CLAIM,
    SHARPER_RATIO_METRIC,
    increment_ratio,
    log_increment_bound,
    scaled_sides,
)
from resclaims.claims.engine.profiles import budget
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.deep_linear import gradient_descent
from canaries import expect_caught, raises_violation
from oracles import reference_gradient_descent
from strategies.deep_linear import descent_cases, make_descent_case
from tolerances import BOUND_RTOL, RESOLUTION_FACTOR, STAY_CLOSE_EQUALITY_RTOL, oracle_step_tol, stay_close_atol

#: Keep every iterate (for the exact re-check of a borderline step) up to this many entries.
KEEP_ITERATES_MAX = 50_000


def exact_sides(layers: np.ndarray, layers_next: np.ndarray, target: np.ndarray, eta: float,
                exponent: int | None = None, loss_factor: float = 2.0):
    """(R(t+1), R(t) + eta (1+R(t))^k sqrt(loss_factor loss(t))) from the engine's float iterates
    ``layers`` (t) and ``layers_next`` (t + 1), evaluated in mpmath at the working precision.

    It removes the rounding of the check's own evaluation (SVDs, the product, the power), not
    the engine's: a wrong step stays wrong (the rounding of the engine's step is in the atol)."""
    import mpmath

    L, d = layers.shape[0], layers.shape[1]
    k = L if exponent is None else exponent
    I = mpmath.eye(d)
    P = I
    for th in layers:
        P = mpmath.matrix(th.tolist()) * P
    E = P - mpmath.matrix(target.tolist())
    loss = sum(E[i, j] ** 2 for i in range(d) for j in range(d)) / 2

    def radius(stack):
        return max(max(mpmath.svd_r(mpmath.matrix(A.tolist()) - I, compute_uv=False)) for A in stack)

    R = radius(layers)
    return radius(layers_next), R + mpmath.mpf(float(eta)) * (1 + R) ** k * mpmath.sqrt(loss_factor * loss)


def step_defect(layers_t: np.ndarray, layers_next: np.ndarray, target: np.ndarray, eta: float) -> float:
    """||Theta^(t+1) - (Theta^(t) - eta grad loss(Theta^(t)))||_F / tolerance: the engine's iterate
    against one step of the differential oracle from the engine's previous iterate (the data of
    the hypothesis ``gradient_descent_iterates``); nan if the oracle's step overflows."""
    L, d = layers_t.shape[0], layers_t.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.stack(reference_gradient_descent(target, L, eta, 1, start=layers_t).layers)
        error = float(np.linalg.norm(layers_next - expected))
    if not math.isfinite(error):
        return math.nan
    if error == 0.0:  # e.g. every layer exactly 0 (a stationary point): both steps are exact, tol may be 0
        return 0.0
    A = float(np.linalg.norm(layers_t, 2, axis=(1, 2)).max())
    with np.errstate(over="ignore", invalid="ignore"):
        tol = oracle_step_tol(d, L, A, float(np.linalg.norm(target)), eta, float(np.linalg.norm(layers_t)))
    return error / tol if tol > 0 else math.nan


def _pair(case, run, t: int, runner):
    """The engine's iterates t and t + 1: kept by the run, or recomputed by the same runner
    (a deterministic recursion from the same start)."""
    if run.iterates is not None:
        return run.iterates[t], run.iterates[t + 1]
    target, L, eta = case["target"], case["L"], case["eta"]
    return (np.asarray(runner(target, L, eta, t, start=case["layers"]).layers),
            np.asarray(runner(target, L, eta, t + 1, start=case["layers"]).layers))


def trajectory_check(case, *, runner=gradient_descent, exponent: int | None = None, loss_factor: float = 2.0,
                     record: bool = True):
    """Run GD and check the bound at every recorded step; one ``check_upper`` at the tightest step.
    Returns the normalized slack of the tightest step (None if no step was measurable)."""
    return _trajectory(case, runner=runner, exponent=exponent, loss_factor=loss_factor, record=record)[0]


def _trajectory(case, *, runner=gradient_descent, exponent: int | None = None, loss_factor: float = 2.0,
                record: bool = True) -> tuple[float | None, dict]:
    """:func:`trajectory_check`, also returning the instance recorded.

    ``exponent`` and ``loss_factor`` (2 in sqrt(2 loss)) are the slide's unless a test plants a
    wrong one. At the tightest step the engine's step is also compared with the oracle's GD step
    (``step_defect``): the hypothesis ``gradient_descent_iterates`` reads it, and a defect beyond
    its rounding tolerance is a violation of its own (the engine is not GD).
    """
    d, L, eta, steps = case["d"], case["L"], case["eta"], case["steps"]
    keep = case["layers"].size * (steps + 1) <= KEEP_ITERATES_MAX
    run = runner(case["target"], L, eta, steps, start=case["layers"], record=("loss", "radius"), keep_iterates=keep)
    R, losses = np.asarray(run.radius, dtype=float), np.asarray(run.loss, dtype=float)
    n = min(len(R), len(losses))
    instance = {k: case[k] for k in ("d", "L", "seed", "start", "r", "target_mode", "s", "eta", "steps")}
    instance.update({"diverged": bool(run.diverged), "target": case["target"]})
    if n < 2:
        evidence.record_unmeasurable(CLAIM, instance, reason="fewer than two finite iterates")
        return None, instance
    # The tightest step: a violation beyond the tolerances if there is one, else the smallest
    # slack among steps whose slack is resolved (rounding allowance below 1/RESOLUTION_FACTOR of
    # the bound: a target within 1e-9 of I gives steps of 1e-13 whose slack is pure rounding).
    worst, resolved = None, False
    for t in range(n - 1):
        loss_t = losses[t] * loss_factor / 2.0
        lhs, rhs, scale = scaled_sides(R[t], R[t + 1], loss_t, eta, L, exponent)
        if scale == 0.0:
            continue  # nothing moved and the loss is 0
        atol = stay_close_atol(d, L, (1.0 + R[t] + R[t + 1]) / scale + rhs - R[t] / scale)
        violated = evidence.exceeds(lhs, rhs, rtol=BOUND_RTOL, atol=atol)
        ok = violated or rhs > RESOLUTION_FACTOR * atol
        slack = (rhs - lhs) / rhs if rhs > 0 else -math.inf
        key = (not violated, not ok, slack)
        if worst is None or key < worst[0]:
            worst = (key, t, lhs, rhs, scale, atol)
        resolved |= ok
    if worst is None:
        evidence.record_unmeasurable(CLAIM, instance, reason="nothing moved and the loss is 0")
        return None, instance
    _, t, lhs, rhs, scale, atol = worst
    layers_t, layers_next = _pair(case, run, t, runner)
    instance.update({"t": t, "R_t": float(R[t]), "R_next": float(R[t + 1]), "loss_t": float(losses[t]),
                     "step_defect": step_defect(layers_t, layers_next, case["target"], eta)})
    if not resolved:
        evidence.record_unmeasurable(CLAIM, instance, reason="every step below rounding resolution")
        return None, instance
    if not math.isfinite(instance["step_defect"]):
        evidence.record_unmeasurable(CLAIM, instance, reason="the oracle's GD step overflows at the checked step")
        return None, instance
    exact = None
    if keep and math.isfinite(scale):
        target = case["target"]

        def exact_scaled():
            lhs_x, rhs_x = exact_sides(layers_t, layers_next, target, eta, exponent, loss_factor)
            return lhs_x / scale, rhs_x / scale

        exact = exact_scaled

    metrics = {}
    if record:
        # the share of the increment used is only meaningful where the increment is far above the
        # rounding of R(t+1) - R(t) (diverging runs reach R ~ 1e12 with increments below an ulp of R)
        steps_ok = [u for u in range(n - 1) if log_increment_bound(eta, R[u], losses[u], L, L - 1)
                    > math.log(RESOLUTION_FACTOR * stay_close_atol(d, L, 1.0 + R[u] + R[u + 1]))]
        ratios = [increment_ratio(R[u], R[u + 1], losses[u], eta, L) for u in steps_ok]
        sharper = [increment_ratio(R[u], R[u + 1], losses[u], eta, L, L - 1) for u in steps_ok]
        metrics = {"max (R(t+1) - R(t)) / (eta (1+R)^L sqrt(2 loss)) (slide)": max(ratios, default=0.0),
                   SHARPER_RATIO_METRIC: max(sharper, default=0.0),
                   "largest R(t) seen": float(R[:n].max()),
                   "largest log10 (1+R)^L seen": L * math.log1p(float(R[:n].max())) / math.log(10)}
        evidence.record_metric(CLAIM, "steps below rounding resolution (left out of the ratios)",
                               n - 1 - len(steps_ok), reduce="sum")
    slack = evidence.check_upper(CLAIM, instance, lhs=lhs, rhs=rhs, rtol=BOUND_RTOL, atol=atol, metrics=metrics,
                                 exact=exact, size=L)
    # the engine's step is GD: a conclusion about the system under test, conditioned on eta > 0
    # only (the hypothesis gradient_descent_iterates is what it establishes)
    held = {k: v for k, v in CLAIM.hypotheses_held(instance).items() if k != "gradient_descent_iterates"}
    evidence.check_close(CLAIM, instance, error=instance["step_defect"], tol=1.0, held=held,
                         what=f"engine step {t} -> {t + 1} against the oracle's GD step / rounding tolerance")
    return slack, instance


#: Largest L d^2 steps of a trajectory the polish replays (a cheap objective: ~5 ms at this size).
POLISH_MAX_WORK = 50_000


def _polish_case(instance: dict) -> tuple[dict]:
    """The trajectory of a stored instance: the start rebuilt by :func:`make_descent_case` from its recipe
    (d, L, seed, start, r), the target and eta as stored, the same number of steps. Too long a
    replay raises ``ValueError`` (the polish scores it +inf)."""
    d, L, steps = int(instance["d"]), int(instance["L"]), int(instance["steps"])
    if L * d * d * steps > POLISH_MAX_WORK:
        raise ValueError(f"trajectory too long to replay cheaply: L d^2 steps = {L * d * d * steps}")
    case = make_descent_case(d, L, int(instance["seed"]), start=instance["start"], r=float(instance["r"]),
                             target=instance["target_mode"], s=float(instance["s"]), steps=steps)
    case["target"] = np.array(instance["target"], dtype=float)
    case["eta"] = float(instance["eta"])
    return (case,)


#: Polish the step size, the start's distance r from I and the target of the tightest trajectory.
POLISH = Polish(trajectory_check, _polish_case, free=("eta", "r", "target"))


@given(case=descent_cases())
@example(case=make_descent_case(1, 1, target="near", s=1.0))  # first step from I, d = 1: equality
@example(case=make_descent_case(3, 4, 5, start="scaled_identity", r=0.3, target="above_product", s=1.0))
@example(case=make_descent_case(4, 6, 2, start="rotations", r=1.0, target="large", s=1.0, eta_log=0.5))
@example(case=make_descent_case(2, 8, 9, target="negative_eigenvalue", s=1.5, eta_log=0.5, steps=40))
@settings(max_examples=budget(40))
def test_stay_close_along_gd(case):
    trajectory_check(case)


@pytest.mark.parametrize("L", [1, 2, 5])
def test_first_step_from_identity_is_tight(L):
    """From the identity every layer moves by -eta (I - Phi), so R(1) = eta ||I - Phi||_2, which
    equals the slide's eta (1 + 0)^L sqrt(2 loss) = eta ||I - Phi||_F when I - Phi has rank one."""
    d = 3
    u = np.array([1.0, 2.0, 2.0]) / 3.0
    case = make_descent_case(d, L, target="near")
    case["target"] = np.eye(d) + 0.5 * np.outer(u, u)
    slack, instance = _trajectory(case)
    evidence.check_true(CLAIM, instance, holds=slack is not None, what="the first step is above rounding resolution")
    evidence.check_close(CLAIM, instance, error=abs(slack), tol=STAY_CLOSE_EQUALITY_RTOL,
                         what="|slack| of the first step from I toward a rank-one I - Phi (equality)")


@pytest.mark.parametrize("L", [2, 3, 7])
def test_sharper_exponent_attained(L):
    """Theta_i = (1+r) I and Phi = (1+r)^L I + s u u^T: the first step uses the whole of the
    sharper increment eta (1+R)^(L-1) sqrt(2 loss) (ratio 1), i.e. 1/(1+r) of the slide's."""
    r = 0.25
    case = make_descent_case(3, L, 4, start="scaled_identity", r=r, target="above_product", s=0.5, steps=1)
    _, instance = _trajectory(case)
    run = gradient_descent(case["target"], L, case["eta"], 1, start=case["layers"], record=("loss", "radius"))
    sharper = increment_ratio(run.radius[0], run.radius[1], run.loss[0], case["eta"], L, L - 1)
    slide = increment_ratio(run.radius[0], run.radius[1], run.loss[0], case["eta"], L)
    evidence.check_allclose(CLAIM, instance, actual=[sharper, slide], desired=[1.0, 1 / (1 + r)],
                            rtol=STAY_CLOSE_EQUALITY_RTOL,
                            what="share of the increment used (sharper exponent L - 1, slide's L)")


def test_exact_recheck_agrees_with_floats():
    """The mpmath re-check of a step (used only on a borderline float violation) agrees with
    the float evaluation to rounding."""
    case = make_descent_case(2, 3, 1, start="near_identity", r=0.3, target="large", s=0.7, steps=1)
    run = gradient_descent(case["target"], 3, case["eta"], 1, start=case["layers"], record=("loss", "radius"),
                           keep_iterates=True)
    lhs, rhs = exact_sides(run.iterates[0], run.iterates[1], case["target"], case["eta"])
    inc = math.exp(log_increment_bound(case["eta"], run.radius[0], run.loss[0], 3))
    instance = {k: case[k] for k in ("d", "L", "seed", "start", "r", "target_mode", "s", "eta", "steps", "target")}
    instance.update({"t": 0, "step_defect": step_defect(run.iterates[0], run.iterates[1], case["target"], case["eta"])})
    evidence.check_allclose(CLAIM, instance, actual=[float(lhs), float(rhs)], desired=[run.radius[1], run.radius[0] + inc],
                            rtol=STAY_CLOSE_EQUALITY_RTOL, what="(R(1), R(0) + increment): mpmath against float")


# --- deep networks in the ci profile: no overflow, no NaN, the bound in log space ----------

def _finite(run) -> bool:
    return bool(np.all(np.isfinite(run.loss)) and np.all(np.isfinite(run.radius)))


def test_deep_network_runs_without_overflow():
    """d = 8, L = 1000: from rotations far from I ((1+R)^L ~ 10^338, beyond the float range) and from
    the identity, a few GD steps stay finite and satisfy B5 evaluated in log space; a step size
    far above 1/L makes the run diverge, which the engine reports (no NaN in what it recorded)
    and the recorded prefix still satisfies B5."""
    d, L = 8, 1000
    rotations = make_descent_case(d, L, 0, start="rotations", r=0.4, target="near", s=0.3, eta_log=0.0, steps=3)
    run = gradient_descent(rotations["target"], L, rotations["eta"], 3, start=rotations["layers"],
                           record=("loss", "radius"))
    _, instance = _trajectory(rotations)
    evidence.check_true(CLAIM, instance, holds=not run.diverged and _finite(run) and bool(np.all(np.isfinite(run.layers))),
                        what="from rotations far from I, 3 steps stay finite (layers, losses, radii)")
    evidence.check_true(CLAIM, instance, holds=L * math.log1p(run.radius.max()) > math.log(np.finfo(float).max),
                        what="(1+R)^L overflows a float (so the bound must be evaluated in log space)")
    from_identity = make_descent_case(d, L, 1, target="near", s=0.5, eta_log=-1.0, steps=3)
    slack, instance = _trajectory(from_identity)
    evidence.check_true(CLAIM, instance, holds=slack is not None,
                        what="from the identity, some step is above rounding resolution (the bound was checked)")
    diverging = make_descent_case(d, L, 2, target="near", s=2.0, eta_log=1.0, steps=30)
    run = gradient_descent(diverging["target"], L, diverging["eta"], 30, record=("loss", "radius"))
    _, instance = _trajectory(diverging)
    evidence.check_true(CLAIM, instance, holds=run.diverged and _finite(run),
                        what="eta = 10/L diverges: the engine stops and reports it, with no NaN in what it recorded")
    evidence.record_metric(CLAIM, "deep run (d = 8, L = 1000): steps before divergence at eta = 10/L", run.steps,
                           reduce="max")


# --- sensitivity: planted constants and a planted engine bug the search must catch ---------

def test_check_catches_sqrt_loss_for_sqrt_two_loss():
    """Planted: sqrt(loss) in place of sqrt(2 loss) (the 1/2 of the loss forgotten)."""
    expect_caught(CLAIM, "sqrt(loss) in place of sqrt(2 loss)", descent_cases(max_d=3, max_L=4),
                  lambda case: _raises(case, loss_factor=1.0), describe=_describe)


def test_check_catches_exponent_l_minus_2():
    """Planted: exponent L - 2 in place of L (the sharper L - 1 holds; L - 2 must not)."""
    expect_caught(CLAIM, "exponent L - 2 in place of L", descent_cases(max_d=3, max_L=4),
                  lambda case: case["L"] >= 2 and _raises(case, exponent=case["L"] - 2), describe=_describe)


def _double_step(target, depth, step, steps, **kwargs):
    """Planted: the engine takes steps of 2 eta (the bound is evaluated with eta)."""
    return gradient_descent(target, depth, 2 * step, steps, **kwargs)


def test_check_catches_engine_taking_double_steps():
    expect_caught(CLAIM, "engine taking steps of 2 eta", descent_cases(max_d=3, max_L=4),
                  lambda case: _raises(case, runner=_double_step), describe=_describe)


def _raises(case, **kwargs) -> bool:
    return raises_violation(trajectory_check, case, record=False, **kwargs)


def _describe(case):
    return (f"d={case['d']}, L={case['L']}, start={case['start']} (r={case['r']}), "
            f"target={case['target_mode']} (s={case['s']}), eta={case['eta']}")
