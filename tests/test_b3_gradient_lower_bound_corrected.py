"""B3 corrected: ||grad||^2 >= 2 L loss (1-a)^{2(L-1)}, sharp at Theta_i = (1-a) I."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given

from resclaims.claims.engine import evidence
from resclaims.claims.b3_gradient_lower_bound import log_slide_bound
from resclaims.claims.b3_gradient_lower_bound_corrected import CLAIM, SHARPNESS_METRIC, log_corrected_bound
from resclaims.claims.engine.tightness import Polish
from resclaims.impl.deep_linear import gradient
from canaries import expect_caught, raises_violation
from strategies.deep_linear import stacks_with_targets
from strategies.matrices import layer_stacks
from tolerances import BOUND_RTOL, gradient_bound_rtol


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
