"""B6 as written on the slide (poly(L, ‖Φ‖/gamma, 1/eta) log(d/eps) iterations): refuted by
the family Phi = mu (d = 1), gamma = 0.99 mu, eta = 1/(L(1 + mu^2)), eps = mu^2/100, whose
iteration count per log(d/eps) grows like mu^-(2-2/L) while the polynomial's arguments stay bounded.

Facts about the counterexample (the family satisfies every hypothesis, converges, and its
T/ln(d/eps) grows by more than FAMILY_MIN_GROWTH with the fixed point's exponent) are in its
reproduction snippet, which runs as printed when it is recorded and raises if they fail. Facts
about the measurement (full GD equals the fast path, the count per nat is the fixed point's, the
depth condition, the random families' growth) are recorded on the claim with checks."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings

from resclaims.claims.engine import evidence, profiles
from resclaims.claims.b6_symmetric_positive_convergence import (
    CLAIM, C3, C3_COVERED, EPS_FRACTION, asymmetry, asymptotic_iterations_per_nat, depth_ok, family_member, max_step, spectral_norm)
from resclaims.impl.deep_linear import gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence
from convergence_helpers import counts_unmeasurable, exponent_unmeasurable, first_hits, fit_exponent
from strategies.convergence import scale_families
from tolerances import (
    FAMILY_EXPONENT_ATOL, FAMILY_MIN_GROWTH, ITERATIONS_PER_NAT_RTOL, RANDOM_FAMILY_MIN_GROWTH,
    RATE_FIT_FLOOR_HEADROOM, TRAJECTORY_LOSS_RTOL, recurrence_loss_floor)

NIGHTLY = profiles.current_profile() == "nightly"

#: The family's members per depth (the count grows like mu^-(2-2/L): smaller mu costs more steps).
FAMILY = {2: [1e-1, 1e-2, 1e-3, 1e-4] + ([1e-5] if NIGHTLY else []),
          8: [0.3, 0.1, 0.03, 0.01] + ([3e-3] if NIGHTLY else [])}
MAX_STEPS = 2_000_000
#: Accuracies of the limit T(eps)/ln(1/eps) as eps -> 0, and the run's stop (two decades below).
LIMIT_EPS_GRID = 10.0 ** -np.arange(14, 25)
LIMIT_RUN_TOL = 1e-26


def reproduction(L: int, mus) -> str:
    """The self-contained snippet of the family at depth L (runs as printed; raises if a member
    leaves the hypotheses, does not converge, or the growth of T/ln(d/eps) disappears)."""
    return f'''
import math
import numpy as np
from resclaims.claims.b6_symmetric_positive_convergence import CLAIM, family_member
from resclaims.impl.symmetric_dynamics import scalar_recurrence
# d = 1, L = {L}, Phi = mu, margin gamma = 0.99 mu, the slide's largest step eta = 1/(L(1 + mu^2)),
# eps = mu^2 / 100: the polynomial's arguments (L, ‖Φ‖/gamma, 1/eta) stay in {{{L}}} x {{1/0.99}} x [{L}, {2 * L}]
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
    print(f"mu={{mu:g}}: T={{run.steps}}, T/ln(d/eps)={{ratios[-1]:.4g}}, 1/eta={{1 / m['eta']:.4f}}")
growth = ratios[-1] / ratios[0]
exponent = float(np.polyfit(np.log(mus), np.log(ratios), 1)[0])
print(f"growth {{growth:.3g}}x, T/ln(d/eps) ~ mu^{{exponent:.3f}} (fixed point: mu^-(2-2/L) = mu^{{-(2 - 2 / {L}):g}})")
# unbounded as mu -> 0 at bounded arguments: no polynomial of (L, ‖Φ‖/gamma, 1/eta) bounds it
if not growth > {FAMILY_MIN_GROWTH!r}:
    raise AssertionError(f"T/ln(d/eps) grew only {{growth:.3g}}x")
if not abs(exponent + (2 - 2 / {L})) <= {FAMILY_EXPONENT_ATOL!r}:
    raise AssertionError(f"fitted exponent {{exponent:.3f}} is not the fixed point's -(2-2/L)")
'''


def family_counts(L: int, mus: list[float]) -> tuple[list[dict], list[int]]:
    """Iterations T(eps) of the family's members at depth L that satisfy the hypotheses and
    converge within MAX_STEPS (the others are recorded: not held, or not measurable)."""
    members, counts = [], []
    for mu in mus:
        m = family_member(mu, L)
        if evidence.hypotheses_fail(CLAIM, m):
            continue
        run = scalar_recurrence([m["mu"]], L, m["eta"], MAX_STEPS, tol=m["eps"])
        if not run.converged:
            evidence.record_unmeasurable(CLAIM, m, reason="no convergence within MAX_STEPS: T(eps) unknown")
            continue
        members.append(m)
        counts.append(run.steps)
    return members, counts


@pytest.mark.parametrize("L", sorted(FAMILY))
def test_iterations_per_log_unbounded_at_bounded_arguments(L):
    members, counts = family_counts(L, FAMILY[L])
    mus = [m["mu"] for m in members]
    ratios = [T / math.log(m["d"] / m["eps"]) for m, T in zip(members, counts)]
    reason = exponent_unmeasurable(mus, ratios, counts=counts, atol=FAMILY_EXPONENT_ATOL)
    if reason is not None:
        evidence.record_unmeasurable(CLAIM, family_member(FAMILY[L][-1], L), reason=reason)
        return
    rows = []
    for m, T, ratio in zip(members, counts, ratios):
        rows.append([L, m["mu"], spectral_norm(m["spectrum"]) / m["gamma"], 1 / m["eta"], math.log(m["d"] / m["eps"]),
                     int(T), ratio, asymptotic_iterations_per_nat(m["mu"], L, m["eta"])])
        evidence.record_metric(CLAIM, f"instances of the family held (L = {L})", 1, reduce="sum")
    exponent = fit_exponent(mus, ratios)
    evidence.record_metric(CLAIM, f"fitted exponent of T(eps) in mu (L = {L}; "
                           f"fixed point: -(2-2/L) = {-(2 - 2 / L):g})", fit_exponent(mus, counts), reduce="same")
    evidence.record_table(CLAIM, "counterexample family Phi = mu, gamma = 0.99 mu, eta = 1/(L(1+mu^2)), eps = mu^2/100",
                          ["L", "mu", "‖Φ‖/gamma", "1/eta", "ln(d/eps)", "T(eps)", "T / ln(d/eps)",
                           "limit eps->0 of T/ln(1/eps)"], rows)
    evidence.record_metric(CLAIM, f"fitted exponent of T/ln(d/eps) in mu (L = {L})", exponent, reduce="same")
    evidence.record_series(CLAIM, "T/ln(d/eps) along the family", x_label="mu = ‖Φ‖ (gamma = 0.99 mu)",
                           y_label="T(eps) / ln(d/eps)", log_x=True, log_y=True, curves={f"L={L}": (mus, ratios)})
    # the growth is the fixed point's mu^-(2-2/L) (the transient scales the same way): checked
    # by the reproduction, which runs as printed here
    growth = ratios[-1] / ratios[0]
    worst = members[-1]
    evidence.record_counterexample(
        CLAIM, {**worst, "T": int(counts[-1]), "T_over_log": ratios[-1]}, slack=1 / growth - 1,
        message=(f"L={L}: T/ln(d/eps) = {ratios[-1]:.4g} at mu = {worst['mu']:g} vs {ratios[0]:.4g} at "
                 f"mu = {members[0]['mu']:g} ({growth:.3g}x), with (L, ‖Φ‖/gamma, 1/eta) = ({L}, "
                 f"{1 / 0.99:.4f}, {1 / worst['eta']:.4f}) fixed: any polynomial bound valid at the first member "
                 f"covers 1/{growth:.3g} of the last; the ratio grows like mu^{exponent:.3f}, without bound"),
        reproduction=reproduction(L, mus))


def test_family_agrees_with_full_gradient_descent():
    """The family's counts are those of full GD (d = 1), not an artefact of the fast path."""
    for mu in (1e-1, 1e-2):
        m = family_member(mu, 2)
        fast = scalar_recurrence([mu], 2, m["eta"], MAX_STEPS, tol=m["eps"])
        full = gradient_descent(m["Phi"], 2, m["eta"], MAX_STEPS, tol=m["eps"])
        evidence.check_true(CLAIM, m, holds=bool(full.converged), what=f"full GD converges within {MAX_STEPS} steps")
        evidence.check_equal(CLAIM, m, actual=full.steps, expected=fast.steps,
                             what="iterations of full GD against the scalar recurrence")
        evidence.check_allclose(CLAIM, m, actual=full.loss, desired=fast.loss, rtol=TRAJECTORY_LOSS_RTOL,
                                what="losses of full GD against the scalar recurrence")


def test_limit_ratio_is_the_fixed_point_rate():
    """For fixed mu, T(eps)/ln(1/eps) tends to 1/(-2 ln(1 - eta L mu^(2-2/L))) as eps -> 0
    (the slope of T against ln(1/eps) equals it): the count per nat is the fixed point's, ~ 1/mu.
    Measurable where the smallest eps lies RATE_FIT_FLOOR_HEADROOM above the loss's rounding
    floor and every eps was reached by enough iterations."""
    for mu in (0.1, 0.01):
        m = family_member(mu, 2)
        floor = recurrence_loss_floor(m["d"], m["L"], spectral_norm(m["spectrum"]))
        instance = {**m, "eps": float(LIMIT_EPS_GRID[-1]), "loss_floor": floor}
        run = scalar_recurrence([mu], 2, m["eta"], MAX_STEPS, tol=LIMIT_RUN_TOL)
        hits = first_hits(run.loss, LIMIT_EPS_GRID)
        reason = ("rounding floor of the loss not below the smallest eps"
                  if not LIMIT_EPS_GRID[-1] > RATE_FIT_FLOOR_HEADROOM * floor else counts_unmeasurable(hits))
        if reason is not None:
            evidence.record_unmeasurable(CLAIM, instance, reason=reason)
            continue
        slope = float(np.polyfit(np.log(1 / LIMIT_EPS_GRID), hits, 1)[0])
        predicted = asymptotic_iterations_per_nat(mu, 2, m["eta"])
        evidence.check_close(CLAIM, instance, error=abs(slope / predicted - 1), tol=ITERATIONS_PER_NAT_RTOL,
                             what="|fitted iterations per nat / fixed-point prediction - 1|")
        evidence.record_metric(CLAIM, "fitted iterations per nat / fixed-point prediction (max abs(ratio - 1))",
                               abs(slope / predicted - 1), reduce="max")


def test_depth_condition_is_met_by_the_family():
    """L = 2 satisfies L >= c_3 ln(‖Φ‖/gamma) = c_3 ln(1/0.99) for every c_3 <= 198 (the refutation
    does not depend on the unspecified c_3; here c_3 = 1)."""
    for mu in FAMILY[2]:
        m = family_member(mu, 2)
        norm = spectral_norm(m["spectrum"])
        evidence.check_true(CLAIM, m, holds=depth_ok(m["L"], norm, m["gamma"], c3=C3),
                            what="L >= c_3 ln(‖Φ‖/gamma) with c_3 = 1")
        evidence.check_lower(CLAIM, m, lhs=m["L"], rhs=C3_COVERED * math.log(norm / m["gamma"]), rtol=0.0)


def test_every_c3_is_refuted_by_the_same_counts():
    """gamma enters neither the dynamics nor eta, eps of the family: with gamma = mu e^(-L/c_3) (up
    to one part in 1e9) every member satisfies L >= c_3 ln(‖Φ‖/gamma) for c_3 up to 1e6 and has the
    same T(eps), while ‖Φ‖/gamma = e^(L/c_3) stays fixed; so no c_3 rescues the slide's form."""
    for c3 in (C3_COVERED, 1e3, 1e6):
        for mu in FAMILY[2][:2]:
            m = family_member(mu, 2)
            wide = {**m, "gamma": mu * math.exp(-m["L"] / (c3 * (1.0 + 1e-9))), "c_3": c3}
            evidence.check_true(CLAIM, wide, holds=depth_ok(m["L"], mu, wide["gamma"], c3=c3)
                                and all(CLAIM.hypotheses_held(wide).values()),
                                what=f"every hypothesis and L >= c_3 ln(‖Φ‖/gamma) with c_3 = {c3:g}")
            same = scalar_recurrence([mu], 2, wide["eta"], MAX_STEPS, tol=wide["eps"]).steps
            evidence.check_equal(CLAIM, wide, actual=same,
                                 expected=scalar_recurrence([mu], 2, m["eta"], MAX_STEPS, tol=m["eps"]).steps,
                                 what="T(eps) with the c_3-admissible gamma against the family's")


def _count(d, L, kappa, mu) -> tuple[dict, float | None]:
    """The family member at mu: its instance and T/ln(d/eps) (None if no convergence)."""
    eta, eps = max_step(L, mu), EPS_FRACTION * mu * mu
    mus = np.full(d, mu)
    inst = {"d": d, "L": L, "mu": mu, "spectrum": mus, "asymmetry": asymmetry(scipy.sparse.diags(mus, format="csr")),
            "gamma": mu / kappa, "eta": eta, "eps": eps}
    run = scalar_recurrence(mus, L, eta, MAX_STEPS, tol=eps)
    return inst, (run.steps / math.log(d / eps) if run.converged else None)


@given(family=scale_families())
@settings(max_examples=profiles.budget(12))
def test_random_families_grow_without_bound(family):
    """Random (d, L, kappa): T/ln(d/eps) grows like mu^-(2-2/L) at fixed polynomial arguments.
    Each family is recorded as a violation of the statement as written (the minimal one stays the
    counterexample above); its slack is 1/growth - 1 over three members."""
    d, L, kappa, mu_max = family
    mus = mu_max * 20.0 ** (-np.arange(3) / (2.0 - 2.0 / L) / 2)
    results = []
    for mu in mus:
        inst, ratio = _count(d, L, kappa, float(mu))
        if evidence.hypotheses_fail(CLAIM, inst):
            return
        if ratio is None:
            evidence.record_unmeasurable(CLAIM, inst, reason="no convergence within MAX_STEPS: T(eps) unknown")
            return
        results.append((inst, ratio))
    ratios = [r for _, r in results]
    growth = ratios[-1] / ratios[0]
    exponent = fit_exponent(mus, ratios)
    last = {**results[-1][0], "mu_max": mu_max, "kappa": kappa, "growth": growth, "exponent": exponent}
    evidence.record_violation(CLAIM, last, slack=1.0 / growth - 1.0)
    evidence.record_metric(CLAIM, "random families: growth of T/ln(d/eps) over a 20x fixed-point slowdown (min)",
                           growth, reduce="min")
    evidence.check_lower(CLAIM, last, lhs=growth, rhs=RANDOM_FAMILY_MIN_GROWTH, rtol=0.0)
