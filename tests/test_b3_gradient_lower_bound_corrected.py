"""B3 corrected: ||grad||^2 >= 2 L loss (1-a)^{2(L-1)}, sharp at Theta_i = (1-a) I."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given

from resclaims.claims.engine import evidence
from resclaims.claims.b3_gradient_lower_bound import log_slide_bound
from resclaims.claims.b3_gradient_lower_bound_corrected import (
    CLAIM, PROVEN_COEFFICIENT, SHARPNESS_METRIC, coefficient_needed, log_corrected_bound)
from resclaims.claims.engine import profiles
from resclaims.claims.engine.profiles import budget
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.deep_linear import gradient
from adversarial import multistart, starting_points
from canaries import expect_caught, raises_violation
from strategies.deep_linear import stacks_with_targets
from strategies.matrices import layer_stacks
from tolerances import ATLAS_RATIO_RTOL, BOUND_RTOL, gradient_bound_rtol


def check(layers: np.ndarray, target: np.ndarray, *, log_bound=log_corrected_bound, a_of=None) -> float | None:
    sigma = np.linalg.svd(layers, compute_uv=False)
    a = 1.0 - float(sigma.min()) if a_of is None else a_of(sigma)
    L, d = layers.shape[0], layers.shape[1]
    g, loss = gradient(layers, target)
    instance = {"d": d, "L": L, "a": a, "loss": loss, "layers": layers, "target": target}
    if evidence.hypotheses_fail(CLAIM, instance):
        return None
    if loss == 0.0:
        evidence.record_unmeasurable(CLAIM, instance, reason="loss = 0 (the ratio to the bound is 0/0)")
        return None
    norm_sq = float(np.vdot(g, g))
    log_lhs = math.log(norm_sq) if norm_sq > 0 else -math.inf
    # >= 1; in log space, since (1-a)^{2(L-1)} underflows at depth (capped: e^700 is plenty)
    ratio = math.exp(min(log_lhs - log_bound(loss, L, a), 700.0))
    return evidence.check_lower(
        CLAIM, instance, lhs=ratio, rhs=1.0, rtol=gradient_bound_rtol(d, L, float(sigma.max() / sigma.min())),
        metrics={"||grad||^2 / slide's 4 L loss (1-a)^(2L)": math.exp(min(log_lhs - log_slide_bound(loss, L, a), 700.0))},
        size=L)


POLISH = Polish(check, lambda inst: (np.array(inst["layers"], dtype=float), np.array(inst["target"], dtype=float)),
                free=("layers", "target"))


@given(case=stacks_with_targets(layers=layer_stacks()))
@example(case=(np.concatenate([[0.3 * np.eye(2)], np.broadcast_to(np.eye(2), (499, 2, 2))]), 2 * np.eye(2)))
@example(case=(np.ones((1, 1, 1)), np.zeros((1, 1))))  # the slide's counterexample: equality here
def test_gradient_lower_bound(case):
    """Random stacks, the slide's counterexample, and L = 500 with one layer 0.3 I, where
    (1-a)^{2(L-1)} = 0.3^998 underflows unless the bound is evaluated in log space."""
    check(*case)


@given(case=stacks_with_targets(layers=layer_stacks(max_d=2, max_L=3)))
def test_attained_at_scaled_identities(case):
    """Sharpness: at Theta_i = c I (all c equal) the ratio is 1 up to rounding."""
    layers, target = case
    c = layers[0, 0, 0] if layers[0, 0, 0] > 0 else 1.0
    layers = np.broadcast_to(c * np.eye(layers.shape[1]), layers.shape).copy()
    ratio_slack = check(layers, target)
    if ratio_slack is not None:
        instance = {"d": layers.shape[1], "L": layers.shape[0], "a": 1.0 - c, "c": c, "layers": layers, "target": target}
        evidence.check_close(CLAIM, instance, error=abs(ratio_slack), tol=BOUND_RTOL,
                             what="|ratio - 1| at Theta_i = c I (equality case)",
                             metrics={SHARPNESS_METRIC: abs(ratio_slack)})


def _slide_constant(loss, L, a):
    """Planted wrong constant: the slide's 4 in place of 2 (exponent 2(L-1))."""
    return math.log(4.0 * loss * L) + 2 * (L - 1) * math.log1p(-a)


def _exponent_too_small(loss, L, a):
    """Planted wrong exponent: (1-a)^{2(L-2)}."""
    return math.log(2.0 * loss * L) + 2 * (L - 2) * math.log1p(-a)


def _a_from_best_layer(sigma):
    """Broken hypothesis: a measured on the best-conditioned layer only (1 - max_i sigma_min(Theta_i))."""
    return 1.0 - float(sigma.min(axis=-1).max())


@pytest.mark.parametrize("planted", [_slide_constant, _exponent_too_small, _a_from_best_layer])
def test_check_catches_planted_bug(planted):
    kwargs = {"a_of": planted} if planted is _a_from_best_layer else {"log_bound": planted}
    expect_caught(CLAIM, planted.__doc__.split(":")[1].strip(), stacks_with_targets(layers=layer_stacks(max_d=3, max_L=4)),
                  lambda case: raises_violation(check, *case, **kwargs),
                  describe=lambda case: f"L={case[0].shape[0]}, d={case[0].shape[1]}")


# --- constants atlas: the coefficient K, searched by minimising ||grad||^2 / (loss L (1-a)^{2(L-1)}) ---

#: (d, L) of the searches (the nightly profile adds larger ones).
ATLAS_SIZES = [(1, 3), (2, 2)] + ([(2, 3), (3, 2)] if profiles.current_profile() == "nightly" else [])
#: Powell's evaluation budget per start, per search parameter (L d^2 + d^2 of them).
ATLAS_EVALUATIONS_PER_PARAMETER = 40


def _unpack(x: np.ndarray, d: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Search parameters -> (layers I + X_i, target I + Y): unconstrained around the identity."""
    return np.eye(d) + x[: L * d * d].reshape(L, d, d), np.eye(d) + x[L * d * d:].reshape(d, d)


def coefficient_at(x: np.ndarray, d: int, L: int) -> float:
    """The K the instance allows (inf off the hypotheses: a singular layer, or loss 0)."""
    layers, target = _unpack(x, d, L)
    g, loss = gradient(layers, target)
    sigma_min = float(np.linalg.svd(layers, compute_uv=False).min())
    if loss == 0.0 or sigma_min == 0.0:
        return float("inf")
    return coefficient_needed(float(np.vdot(g, g)), loss, L, sigma_min)


REPRODUCTION = """import numpy as np
from resclaims.impl.deep_linear import gradient
layers = np.array({layers})
target = np.array({target})
g, loss = gradient(layers, target)
L = layers.shape[0]
value = float(np.vdot(g, g)) / (loss * L * float(np.linalg.svd(layers, compute_uv=False).min()) ** (2 * (L - 1)))
"""


@pytest.mark.parametrize("d, L", ATLAS_SIZES)
def test_atlas_search_for_the_coefficient(d, L):
    """Multistart Powell over (Theta, Phi) around the identity: the smallest ||grad||^2 /
    (loss L (1-a)^{2(L-1)}) found is a value of K that fails (the truth is at most it); the proof
    says it is >= 2, and Theta_i = (1-a) I attains 2."""
    n = L * d * d + d * d
    found = multistart(lambda x: coefficient_at(x, d, L), starting_points(budget(2), n, seed=d * 100 + L, scale=0.3),
                       method="Powell", max_evaluations_per_start=ATLAS_EVALUATIONS_PER_PARAMETER * n)
    layers, target = _unpack(found.x, d, L)
    a = 1.0 - float(np.linalg.svd(layers, compute_uv=False).min())
    snippet = REPRODUCTION.format(layers=repr(layers.tolist()), target=repr(target.tolist()))
    evidence.record_constant(CLAIM, "K", value=found.value, instance={"d": d, "L": L, "a": a, "layers": layers,
                                                                      "target": target},
                             reproduction=snippet, method=found.method, starts=found.starts,
                             evaluations=found.evaluations, rtol=ATLAS_RATIO_RTOL)
    evidence.record_table(CLAIM, "atlas search for K (multistart Powell)",
                          ["d", "L", "starts", "evaluations", "smallest ratio found", "found - proven"],
                          [[d, L, found.starts, found.evaluations, found.value, found.value - PROVEN_COEFFICIENT]])
