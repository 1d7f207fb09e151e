"""C1 necessity: near-identity chains preserve orientation (det >= prod (1 - alpha_i)^d > 0), and
the slide's construction fails at every depth on a map that folds."""
from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.c1_orientation_necessary import CLAIM, determinant_lower_bound
from resclaims.claims.engine.profiles import budget
from resclaims.impl.near_identity_decomposition import (
    NearIdentityDecomposition, estimate_max_layer_lipschitz, geometric_schedule, linear_schedule)
from canaries import expect_caught
from strategies.layers import LayerCase, MapCase, folding_maps, layer_chains, make_fold_case, make_layer_case, sample_points, vertex_points
from tolerances import determinant_rtol

SCHEDULES = {"linear": linear_schedule, "geometric": geometric_schedule}
DEPTHS = (4, 16, 64, 256)

#: A fold in the plane: c = 2, det Dh < 0 for |u^T x| > arccosh(sqrt 2) = 0.88.
FOLD = make_fold_case(d=2, c=2.0, seed=0)


def chain_determinants(chain: list[LayerCase]) -> np.ndarray:
    """det D(f_m o ... o f_1)(x) at sample points and at the vertex points of f_1 (the product of
    the layer Jacobians along the chain, formed as one matrix)."""
    first = chain[0]
    Z = np.vstack([3.0 * sample_points(first, 12, stream=21), vertex_points(first)])
    d = first.layer.d
    J = np.broadcast_to(np.eye(d), (Z.shape[0], d, d))
    for case in chain:
        J = case.layer.jacobians(Z) @ J
        Z = case.layer(Z)
    return np.linalg.det(J)


def chain_instance(chain: list[LayerCase]) -> dict:
    return {"d": chain[0].layer.d, "m": len(chain), "alphas": [c.alpha for c in chain],
            "layers": [c.instance for c in chain]}


@given(chain=layer_chains())
@example(chain=[make_layer_case(d=1, k=1, activation="tanh", seed=s, alpha=0.95, b_scale=1.0) for s in (1, 4)])
def test_chain_determinant_at_least_prod_one_minus_alpha_to_the_d(chain):
    """det D(chain)(x) >= prod (1 - alpha_i)^d > 0 (attained by 1-d tanh layers x - alpha tanh x at 0)."""
    lhs = float(chain_determinants(chain).min())
    rhs = determinant_lower_bound([c.alpha for c in chain], chain[0].layer.d)
    evidence.check_lower(CLAIM, chain_instance(chain), lhs=lhs, rhs=rhs,
                         rtol=determinant_rtol(chain[0].layer.d, len(chain)),
                         metrics={"min det / prod (1 - alpha_i)^d (max)": lhs / rhs})
    evidence.record_metric(CLAIM, "min det / prod (1 - alpha_i)^d (min: 1 = attained)", lhs / rhs, reduce="min")


def layer_determinant_range(dec: NearIdentityDecomposition, i: int, X: np.ndarray) -> float:
    """min over x of det Dh_i(z) = det Dh(a_i x) / det Dh(a_{i-1} x), z = g_{a_{i-1}}(x)."""
    a, b = dec.previous[i - 1], dec.schedule[i - 1]
    num = np.linalg.det(dec.h.jacobians(b * X))
    den = np.linalg.det(dec.h.jacobians(a * X)) if a > 0 else np.ones(X.shape[0])
    return float(np.min(num / den))


def fold_failures(case: MapCase, schedule) -> list:
    """Per depth: [m, lower estimate of max_i ||h_i - Id||_L, first layer with a screened value
    >= 1, its a_i, min det Dh_i there]."""
    rows = []
    X = case.points(64, stream=3)
    for m in DEPTHS:
        dec = NearIdentityDecomposition(case.h, schedule(m))
        # one short local search suffices: near the fold the norm is unbounded (Dh(a_{i-1} x) singular)
        est, screened = estimate_max_layer_lipschitz(dec, radius=case.radius, refine=1, starts=1, pairs=16,
                                                     seed=case.seed % 2**31)
        failing = np.flatnonzero(screened >= 1.0)
        i = int(failing[0]) + 1 if failing.size else est.layer
        rows.append([m, est.lower, i, float(dec.schedule[i - 1]), layer_determinant_range(dec, i, X)])
    return rows


@given(case=folding_maps(), kind=st.sampled_from(tuple(SCHEDULES)))
@settings(max_examples=budget(2))
@example(case=FOLD, kind="geometric")
@example(case=FOLD, kind="linear")
def test_slide_construction_fails_at_every_depth_on_a_fold(case, kind):
    """h = J_0^{-1}(x - c u tanh(u^T x)), c > 1: some layer has ||h_i - Id||_L >= 1 for every m
    (the first layer whose scale crosses the fold reverses orientation: det Dh_i < 0)."""
    rows = fold_failures(case, SCHEDULES[kind])
    worst = min(r[1] for r in rows)
    min_det = float(np.linalg.det(case.h.jacobians(case.points(64, stream=3))).min())
    evidence.record_metric(CLAIM, "folds: decompositions tried (map, schedule, depth)", len(rows), reduce="sum")
    evidence.record_metric(CLAIM, "folds: decompositions shown failing (max_i ||h_i - Id||_L >= 1)",
                           sum(r[1] >= 1.0 for r in rows), reduce="sum")
    evidence.record_metric(CLAIM, "folds: max over depths of min det Dh_i at the first failing layer", max(r[4] for r in rows))
    if case is FOLD:
        evidence.record_table(CLAIM, "slide's construction on a fold (c = 2, d = 2)",
                              ["schedule", "m", "max_i ||h_i - Id||_L (lower)", "first layer >= 1", "a_i",
                               "min det Dh_i there"], [[kind, *r] for r in rows])
    # The contrapositive of the claim on a map that folds: the claim's own hypothesis (alpha_i < 1)
    # is what must fail, so the check is conditioned on the fold, computed from the data
    # (det Dh < 0 at a sample point), not on the claim's hypotheses. A failure here is an
    # estimator weakness (or a wrong claim): reported with its instance.
    instance = {"d": case.h.d, "c": case.layer_alpha, "seed": case.seed, "radius": case.radius, "schedule": kind,
                "depths": list(DEPTHS), "max_i lower estimate per depth": [r[1] for r in rows],
                "min det Dh on the sample": min_det}
    # an estimate at a singular Jacobian may be inf (>= 1 all the same): kept finite for the record
    evidence.check_lower(CLAIM, instance, lhs=min(worst, np.finfo(float).max), rhs=1.0, rtol=0.0,
                         held={"folds: min det Dh < 0 on the sample": min_det < 0.0})


# --- sensitivity: broken hypotheses and a planted constant ---------------------------------

def test_check_catches_layers_that_are_not_near_identities():
    """Hypothesis dropped: alpha_i in [1.5, 3] (e.g. x - c tanh x, c > 1): det D(chain) <= 0 somewhere."""
    expect_caught(CLAIM, "alpha < 1 dropped: det D(chain) <= 0", layer_chains(min_alpha=1.5, max_alpha=3.0),
                  lambda chain: float(chain_determinants(chain).min()) <= 0.0)


def test_check_catches_planted_constant():
    """Planted: prod (1 - alpha_i/2)^d in place of prod (1 - alpha_i)^d."""
    def violates(chain):
        d, m = chain[0].layer.d, len(chain)
        rhs = determinant_lower_bound([c.alpha / 2 for c in chain], d)
        return float(chain_determinants(chain).min()) < rhs * (1 - determinant_rtol(d, m))

    expect_caught(CLAIM, "(1 - alpha/2)^d in place of (1 - alpha)^d", layer_chains(), violates)


def test_demonstration_discriminates_bijections():
    """Fold removed (c < 1: a positively oriented bijection): the same procedure finds every
    layer below 1 at m = 64, so the failure on folds is not an artefact of the estimator."""
    def succeeds(case):
        dec = NearIdentityDecomposition(case.h, geometric_schedule(64))
        return estimate_max_layer_lipschitz(dec, radius=case.radius, refine=1)[0].lower < 1.0

    expect_caught(CLAIM, "fold removed (c < 1): every layer below 1 at m = 64",
                  folding_maps(min_c=0.1, max_c=0.9), succeeds)
