"""B6 as written on the slide (poly(L, ‖Φ‖/gamma, 1/eta) log(d/eps) iterations): refuted by
the family Phi = mu (d = 1), gamma = 0.99 mu, eta = 1/(L(1 + mu^2)), eps = mu^2/100, whose
iteration count per log(d/eps) grows like mu^-(2-2/L) while the polynomial's arguments stay bounded."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence, profiles
from resclaims.claims.b6_symmetric_positive_convergence import (
    CLAIM, C3, asymptotic_iterations_per_nat, depth_ok, family_member, max_step)
from resclaims.impl.deep_linear import gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence
from convergence_helpers import first_hits, fit_exponent

NIGHTLY = profiles.current_profile() == "nightly"

#: The family's members per depth (the count grows like mu^-(2-2/L): smaller mu costs more steps).
FAMILY = {2: [1e-1, 1e-2, 1e-3, 1e-4] + ([1e-5] if NIGHTLY else []),
          8: [0.3, 0.1, 0.03, 0.01] + ([3e-3] if NIGHTLY else [])}
MAX_STEPS = 2_000_000

REPRODUCTION = """
import math
from resclaims.impl.symmetric_dynamics import scalar_recurrence
# d = 1, L = 2, Phi = mu, margin gamma = 0.99 mu, the slide's largest step, eps = mu^2 / 100
for mu in (1e-1, 1e-2, 1e-3, 1e-4):
    L, eta, eps = 2, 1 / (2 * (1 + mu * mu)), mu * mu / 100
    run = scalar_recurrence([mu], L, eta, 10**6, tol=eps)
    assert run.converged
    # the polynomial's arguments (L, ‖Φ‖/gamma, 1/eta) = (2, 1.0101, ~2) do not move
    print(f"mu={mu:g}: T={run.steps}, T/ln(d/eps)={run.steps / math.log(1 / eps):.4g}")
# T/ln(d/eps) grows ~10x per decade of mu (like 1/mu): unbounded, so no polynomial of
# (L, ‖Φ‖/gamma, 1/eta) can bound it.
"""


def family_counts(L: int, mus: list[float]) -> tuple[list[dict], np.ndarray]:
    """Iterations T(eps) of the family's members at depth L (one batched scalar recurrence)."""
    members = [family_member(mu, L) for mu in mus]
    # one step size per call: the members differ in eta only through 1 + mu^2, so run each
    counts = []
    for m in members:
        run = scalar_recurrence([m["mu"]], L, m["eta"], MAX_STEPS, tol=m["eps"])
        assert run.converged, f"mu={m['mu']}: no convergence within {MAX_STEPS} steps"
        counts.append(run.steps)
    return members, np.array(counts)


@pytest.mark.parametrize("L", sorted(FAMILY))
def test_iterations_per_log_unbounded_at_bounded_arguments(L):
    members, counts = family_counts(L, FAMILY[L])
    rows, ratios = [], []
    for m, T in zip(members, counts):
        assert all(CLAIM.hypotheses_held(m).values()), m
        ratio = T / math.log(m["d"] / m["eps"])
        ratios.append(ratio)
        rows.append([L, m["mu"], m["spectrum"][0] / m["gamma"], 1 / m["eta"], math.log(m["d"] / m["eps"]), int(T),
                     ratio, asymptotic_iterations_per_nat(m["mu"], L, m["eta"])])
        evidence.record_metric(CLAIM, f"instances of the family held (L = {L})", 1, reduce="sum")
    exponent = fit_exponent([m["mu"] for m in members], ratios)
    evidence.record_metric(CLAIM, f"fitted exponent of T(eps) in mu (L = {L}; "
                           f"fixed point: -(2-2/L) = {-(2 - 2 / L):g})",
                           fit_exponent([m["mu"] for m in members], counts), reduce="same")
    evidence.record_table(CLAIM, "counterexample family Phi = mu, gamma = 0.99 mu, eta = 1/(L(1+mu^2)), eps = mu^2/100",
                          ["L", "mu", "‖Φ‖/gamma", "1/eta", "ln(d/eps)", "T(eps)", "T / ln(d/eps)",
                           "limit eps->0 of T/ln(1/eps)"], rows)
    evidence.record_metric(CLAIM, f"fitted exponent of T/ln(d/eps) in mu (L = {L})",
                           exponent, reduce="same")
    evidence.record_series(CLAIM, "T/ln(d/eps) along the family", x_label="mu = ‖Φ‖ (gamma = 0.99 mu)",
                           y_label="T(eps) / ln(d/eps)", log_x=True, log_y=True,
                           curves={f"L={L}": ([m["mu"] for m in members], ratios)})
    # the growth is the fixed point's mu^-(2-2/L) (the transient scales the same way)
    assert abs(exponent + (2 - 2 / L)) < 0.2, exponent
    assert ratios[-1] > 50 * ratios[0]
    growth = ratios[-1] / ratios[0]
    worst = members[-1]
    evidence.record_counterexample(
        CLAIM, {**worst, "T": int(counts[-1]), "T_over_log": ratios[-1]}, slack=1 / growth - 1,
        message=(f"L={L}: T/ln(d/eps) = {ratios[-1]:.4g} at mu = {worst['mu']:g} vs {ratios[0]:.4g} at "
                 f"mu = {members[0]['mu']:g} ({growth:.3g}x), with (L, ‖Φ‖/gamma, 1/eta) = ({L}, "
                 f"{1 / 0.99:.4f}, {1 / worst['eta']:.4f}) fixed: any polynomial bound valid at the first member "
                 f"covers 1/{growth:.3g} of the last; the ratio grows like mu^{exponent:.3f}, without bound"),
        reproduction=REPRODUCTION)


def test_reproduction_runs():
    exec(compile(REPRODUCTION, "b6_reproduction", "exec"), {})


def test_family_agrees_with_full_gradient_descent():
    """The family's counts are those of full GD (d = 1), not an artefact of the fast path."""
    for mu in (1e-1, 1e-2):
        m = family_member(mu, 2)
        fast = scalar_recurrence([mu], 2, m["eta"], MAX_STEPS, tol=m["eps"])
        full = gradient_descent(np.array([[mu]]), 2, m["eta"], MAX_STEPS, tol=m["eps"])
        assert full.converged and full.steps == fast.steps
        np.testing.assert_allclose(full.loss, fast.loss, rtol=1e-9, atol=1e-300)


def test_limit_ratio_is_the_fixed_point_rate():
    """For fixed mu, T(eps)/ln(1/eps) tends to 1/(-2 ln(1 - eta L mu^(2-2/L))) as eps -> 0
    (the slope of T against ln(1/eps) equals it): the count per nat is the fixed point's, ~ 1/mu."""
    for mu in (0.1, 0.01):
        m = family_member(mu, 2)
        run = scalar_recurrence([mu], 2, m["eta"], MAX_STEPS, tol=1e-26)
        eps = 10.0 ** -np.arange(14, 25)
        hits = first_hits(run.loss, eps)
        slope = float(np.polyfit(np.log(1 / eps), hits, 1)[0])
        predicted = asymptotic_iterations_per_nat(mu, 2, m["eta"])
        assert abs(slope / predicted - 1) < 0.02, (slope, predicted)
        evidence.record_metric(CLAIM, "fitted iterations per nat / fixed-point prediction (max abs(ratio - 1))",
                               abs(slope / predicted - 1), reduce="max")


def test_depth_condition_is_met_by_the_family():
    """L = 2 satisfies L >= c_3 ln(‖Φ‖/gamma) = c_3 ln(1/0.99) for every c_3 <= 198 (the refutation
    does not depend on the unspecified c_3; here c_3 = 1)."""
    assert depth_ok(2, 1.0, 0.99, c3=C3) and depth_ok(2, 1.0, 0.99, c3=198.0)


@st.composite
def scale_families(draw):
    """A family Phi = mu I_d, gamma = mu / kappa, eta = 1/(L(1 + mu^2)), eps = mu^2/100, mu from
    mu_max down by a factor 20^(1/(2-2/L)) (where the fixed point predicts 20x more iterations per
    nat), at fixed (d, L, kappa): the polynomial's arguments stay in {L} x {kappa} x [L, L(1+mu_max^2)]."""
    d = draw(st.integers(1, 8))
    L = draw(st.integers(2, 16))
    kappa = 1.0 + draw(st.floats(0.01, 3.0))
    mu_max = draw(st.floats(0.05, 0.5))
    return d, L, kappa, mu_max


def _count(d, L, kappa, mu):
    eta, eps = max_step(L, mu), 1e-2 * mu * mu
    inst = {"d": d, "L": L, "mu": mu, "spectrum": [mu] * d, "gamma": mu / kappa, "eta": eta, "eps": eps,
            "symmetric": True}
    run = scalar_recurrence(np.full(d, mu), L, eta, MAX_STEPS, tol=eps)
    assert run.converged
    return inst, run.steps / math.log(d / eps)


@given(family=scale_families())
@settings(max_examples=profiles.budget(12))
def test_random_families_grow_without_bound(family):
    """Random (d, L, kappa): T/ln(d/eps) grows like mu^-(2-2/L) at fixed polynomial arguments.
    Each family is recorded as a violation of the statement as written (the minimal one stays the
    counterexample above); its slack is 1/growth - 1 over three members."""
    d, L, kappa, mu_max = family
    mus = mu_max * 20.0 ** (-np.arange(3) / (2.0 - 2.0 / L) / 2)
    results = [_count(d, L, kappa, float(mu)) for mu in mus]
    for inst, _ in results:
        assert all(CLAIM.hypotheses_held(inst).values()) and depth_ok(L, kappa, 1.0)
    ratios = [r for _, r in results]
    growth = ratios[-1] / ratios[0]
    exponent = fit_exponent(mus, ratios)
    evidence.record_violation(CLAIM, {**results[-1][0], "mu_max": mu_max, "kappa": kappa, "growth": growth,
                                      "exponent": exponent}, slack=1.0 / growth - 1.0)
    evidence.record_metric(CLAIM, "random families: growth of T/ln(d/eps) over a 20x fixed-point slowdown (min)",
                           growth, reduce="min")
    assert growth > 3.0, growth
