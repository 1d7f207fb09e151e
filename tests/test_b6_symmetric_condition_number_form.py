"""B6 in the abstract's form (poly(L, kappa(Phi)) log(d/eps) updates): refuted by the family
Phi = mu (d = 1, kappa = 1), eta = 1/(L(1 + mu^2)), eps = min(1, mu^2)/100, whose iteration count per
log(d/eps) grows without bound both as mu -> 0 and as mu -> oo at fixed (L, kappa) = (L, 1).

Facts about each counterexample (the family satisfies every hypothesis, converges, and its
T/ln(d/eps) grows by more than CONDITION_FAMILY_MIN_GROWTH with the expected sign of exponent) are in
its reproduction snippet, which runs as printed when it is recorded and raises if they fail."""
from __future__ import annotations

import math

import numpy as np
import pytest

from resclaims.claims.engine import evidence
from resclaims.claims.b6_symmetric_condition_number_form import (
    CLAIM, asymptotic_iterations_per_nat, condition_number, family_member)
from resclaims.impl.deep_linear import gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence
from adversarial import multistart, starting_points
from convergence_helpers import exponent_unmeasurable, fit_exponent
from tolerances import CONDITION_FAMILY_MIN_GROWTH, FAMILY_EXPONENT_ATOL, TRAJECTORY_LOSS_RTOL

#: The family's members per (scale, depth): a 33x change of scale (5x at small scale and L = 8, where
#: the count grows like mu^-1.75 and costs more).
FAMILIES = {("small", 2): [0.1, 0.03, 0.01, 0.003], ("small", 8): [0.1, 0.05, 0.03, 0.02],
            ("large", 2): [3.0, 10.0, 30.0, 100.0], ("large", 8): [3.0, 10.0, 30.0, 100.0]}
MAX_STEPS = 1_000_000


def expected_exponent(scale: str, L: int) -> float:
    """The fixed point's exponent of T/ln(d/eps) in mu: -(2-2/L) as mu -> 0 (the count follows it),
    2/L as mu -> oo (a lower bound: the climb from x = 1 adds more)."""
    return -(2.0 - 2.0 / L) if scale == "small" else 2.0 / L


def reproduction(scale: str, L: int, mus) -> str:
    """The self-contained snippet of the family (raises if a member leaves the hypotheses, does not
    converge, or the growth of T/ln(d/eps) at kappa = 1 disappears)."""
    sign = "<" if scale == "small" else ">"
    return f'''
import math
import numpy as np
from resclaims.claims.b6_symmetric_condition_number_form import CLAIM, family_member
from resclaims.impl.symmetric_dynamics import scalar_recurrence
# d = 1, L = {L}, Phi = mu (kappa = 1), the theorem's largest step eta = 1/(L(1 + mu^2)),
# eps = min(1, mu^2)/100: the arguments (L, kappa) = ({L}, 1) of the polynomial are fixed
mus, ratios = {[float(mu) for mu in mus]!r}, []
for mu in mus:
    m = family_member(mu, {L})
    held = CLAIM.hypotheses_held(m)
    if not all(held.values()):
        raise AssertionError(f"mu={{mu:g}}: hypotheses {{held}}")
    run = scalar_recurrence([mu], m["L"], m["eta"], {MAX_STEPS}, tol=m["eps"])
    if not run.converged:
        raise AssertionError(f"mu={{mu:g}}: no convergence within {MAX_STEPS} steps")
    ratios.append(run.steps / math.log(m["d"] / m["eps"]))
    print(f"mu={{mu:g}}: T={{run.steps}}, T/ln(d/eps)={{ratios[-1]:.4g}}")
growth = ratios[-1] / ratios[0]
exponent = float(np.polyfit(np.log(mus), np.log(ratios), 1)[0])
print(f"growth {{growth:.3g}}x at kappa = 1, T/ln(d/eps) ~ mu^{{exponent:.3f}}")
if not growth > {CONDITION_FAMILY_MIN_GROWTH!r}:
    raise AssertionError(f"T/ln(d/eps) grew only {{growth:.3g}}x")
if not exponent {sign} 0:
    raise AssertionError(f"fitted exponent {{exponent:.3f}} has the wrong sign")
'''


def family_ratios(L: int, mus) -> tuple[list[dict], list[int], list[float]]:
    """Members that hold the hypotheses and converge within MAX_STEPS, their T(eps) and T/ln(d/eps)."""
    members, counts, ratios = [], [], []
    for mu in mus:
        m = family_member(mu, L)
        if evidence.hypotheses_fail(CLAIM, m):
            continue
        run = scalar_recurrence([mu], L, m["eta"], MAX_STEPS, tol=m["eps"])
        if not run.converged:
            evidence.record_unmeasurable(CLAIM, m, reason="no convergence within MAX_STEPS: T(eps) unknown")
            continue
        members.append(m)
        counts.append(int(run.steps))
        ratios.append(run.steps / math.log(m["d"] / m["eps"]))
    return members, counts, ratios


@pytest.mark.parametrize("scale,L", sorted(FAMILIES))
def test_iterations_per_log_unbounded_at_fixed_condition_number(scale, L):
    mus = FAMILIES[(scale, L)]
    members, counts, ratios = family_ratios(L, mus)
    xs = [m["mu"] for m in members]
    reason = exponent_unmeasurable(xs, ratios, counts=counts, atol=FAMILY_EXPONENT_ATOL)
    if reason is not None:
        evidence.record_unmeasurable(CLAIM, family_member(mus[-1], L), reason=reason)
        return
    exponent = fit_exponent(xs, ratios)
    growth = ratios[-1] / ratios[0]
    evidence.record_table(CLAIM, "family Phi = mu (kappa = 1), eta = 1/(L(1+mu^2)), eps = min(1, mu^2)/100",
                          ["scale", "L", "mu", "kappa", "ln(d/eps)", "T(eps)", "T / ln(d/eps)",
                           "fixed point: limit of T / ln(1/eps)"],
                          [[scale, L, m["mu"], condition_number(m["spectrum"]), math.log(m["d"] / m["eps"]), T, r,
                            asymptotic_iterations_per_nat(m["mu"], L, m["eta"])]
                           for m, T, r in zip(members, counts, ratios)])
    evidence.record_series(CLAIM, "T/ln(d/eps) along Phi = mu I (kappa = 1)", x_label="mu", y_label="T / ln(d/eps)",
                           log_x=True, log_y=True, curves={f"{scale}, L={L}": (xs, ratios)})
    evidence.record_metric(CLAIM, f"fitted exponent of T/ln(d/eps) in mu ({scale} scale, L = {L}; "
                           f"fixed point {expected_exponent(scale, L):+.3g})", exponent, reduce="same")
    worst = members[-1]
    if scale == "small":  # the count follows the fixed point
        evidence.check_close(CLAIM, worst, error=abs(exponent - expected_exponent(scale, L)), tol=FAMILY_EXPONENT_ATOL,
                             what="|fitted exponent - (-(2-2/L))|")
    else:  # the fixed point is a lower bound on the growth
        evidence.check_lower(CLAIM, worst, lhs=exponent, rhs=expected_exponent(scale, L) - FAMILY_EXPONENT_ATOL,
                             rtol=0.0)
    evidence.record_counterexample(
        CLAIM, {**worst, "T": counts[-1], "T_over_log": ratios[-1], "growth": growth}, slack=1.0 / growth - 1.0,
        message=(f"{scale} scale, L={L}: T/ln(d/eps) = {ratios[-1]:.4g} at mu = {worst['mu']:g} vs {ratios[0]:.4g} at "
                 f"mu = {members[0]['mu']:g} ({growth:.3g}x) with (L, kappa) = ({L}, 1) fixed; it grows like "
                 f"mu^{exponent:.3f}, without bound, so no polynomial of (L, kappa) bounds it"),
        reproduction=reproduction(scale, L, xs))


def test_family_agrees_with_full_gradient_descent():
    """The counts are those of full GD (d = 1), not an artefact of the fast path."""
    for mu in (0.1, 10.0):
        m = family_member(mu, 2)
        fast = scalar_recurrence([mu], 2, m["eta"], MAX_STEPS, tol=m["eps"])
        full = gradient_descent(m["Phi"], 2, m["eta"], MAX_STEPS, tol=m["eps"])
        evidence.check_equal(CLAIM, m, actual=full.steps, expected=fast.steps,
                             what="iterations of full GD against the scalar recurrence")
        evidence.check_allclose(CLAIM, m, actual=full.loss, desired=fast.loss, rtol=TRAJECTORY_LOSS_RTOL,
                                what="losses of full GD against the scalar recurrence")


def test_growth_check_passes_a_bounded_family():
    """Control: at L = 1 the dynamics is linear, x <- x + eta (mu - x) with eta = 1/(1 + mu^2), and the
    count per log(d/eps) stays bounded as mu -> 0: the growth the counterexample reads is not an
    artefact of the family's eps or of the measurement (it must not fire here)."""
    members, counts, ratios = family_ratios(1, FAMILIES[("small", 2)])
    growth = ratios[-1] / ratios[0]
    evidence.record_metric(CLAIM, "control L = 1 (small scale): growth of T/ln(d/eps)", growth, reduce="same")
    evidence.record_canary(CLAIM, "growth check on a bounded family (L = 1, Phi = mu -> 0) must not fire",
                           caught=growth < CONDITION_FAMILY_MIN_GROWTH,
                           detail=f"T = {counts}, growth {growth:.3g}x < {CONDITION_FAMILY_MIN_GROWTH:g}")


#: The step search: the cap of a run (a step that neither converges nor diverges by then scores +inf).
STEP_SEARCH_CAP = 3000


def test_best_constant_step_at_small_scale():
    """Observation: does a scale-aware constant step rescue the small scale? For Phi = diag(mu, 2 mu)
    (kappa = 2), L = 2, eps = mu^2/100, a multistart search (Nelder-Mead over log10 eta) for the step
    with the fewest iterations per nat of d/eps, against the theorem's step. A step eta L ~ 2 lands
    near the fixed points in one step (1 + eta (mu - 1) ~ mu^(1/2)), which helps at this eps; the
    fixed point's rate 1 - eta L mu^(2-2/L) still bounds the count per nat as eps -> 0 (tabulated)."""
    L, rows, best = 2, [], []
    for mu in (0.1, 0.03, 0.01):
        spectrum, eps = np.array([mu, 2.0 * mu]), mu * mu / 100.0

        def per_nat(log_eta, spectrum=spectrum, eps=eps):
            run = scalar_recurrence(spectrum, L, 10.0 ** float(np.ravel(log_eta)[0]), STEP_SEARCH_CAP, tol=eps)
            return run.steps / math.log(2 / eps) if run.converged else math.inf

        found = multistart(per_nat, starting_points(3, 1, seed=0, scale=0.7), method="Nelder-Mead",
                           max_evaluations_per_start=15)
        eta = 10.0 ** float(found.x[0])
        theorem = per_nat(math.log10(1.0 / (L * (1.0 + 4.0 * mu * mu))))
        limit = 1.0 / (-2.0 * math.log(abs(1.0 - eta * L * mu ** (2.0 - 2.0 / L))))
        best.append(found.value)
        rows.append([mu, eta, found.value, theorem, limit, found.evaluations])
    evidence.record_table(CLAIM, "best constant step found, Phi = diag(mu, 2 mu), L = 2, eps = mu^2/100 "
                          "(Nelder-Mead over log10 eta, 3 starts)",
                          ["mu", "best eta", "T / ln(d/eps), best eta", "T / ln(d/eps), theorem's eta",
                           "best eta: fixed-point limit of T / ln(1/eps)", "evaluations"], rows)
    evidence.record_metric(CLAIM, "best constant step (small scale, L = 2): growth of T/ln(d/eps) from mu = 0.1 "
                           "to 0.01", best[-1] / best[0], reduce="same")
