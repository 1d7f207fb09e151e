"""B3 as written on the slide (constant 4 with the 1/2 loss): refuted, with the minimal instance."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.b3_gradient_lower_bound import CLAIM, log_slide_bound
from resclaims.impl.deep_linear import gradient
from canaries import search_violation
from strategies.deep_linear import MAX_SEED, finite_floats
from strategies.matrices import layer_stacks
from tolerances import BOUND_RTOL

#: d = L = 1, Theta = 1, Phi = 0 (a = 0): ||grad||^2 = 1 < 2 = 4 loss L (1-a)^{2L}.
REPRODUCTION = """
import numpy as np
from resclaims.impl.deep_linear import gradient
layers, target, a, L = np.ones((1, 1, 1)), np.zeros((1, 1)), 0.0, 1   # Theta = I, Phi = 0, d = L = 1
g, loss = gradient(layers, target)
lhs, rhs = float((g ** 2).sum()), 4 * loss * L * (1 - a) ** (2 * L)
print(lhs, rhs)  # 1.0 2.0
assert lhs < rhs  # the slide's ||grad||^2 >= 4 loss L (1-a)^{2L} fails
assert (lhs, rhs) == (1.0, 2.0)  # exactly half the slide's bound: slack -1/2
"""


def tightest_a(layers: np.ndarray) -> float:
    """The smallest a with sigma_min(Theta_i) >= 1 - a for every layer."""
    return 1.0 - float(np.linalg.svd(layers, compute_uv=False).min())


def slide_slack(layers: np.ndarray, target: np.ndarray) -> tuple[dict, float | None]:
    """The instance and the normalized slack of the slide's inequality (None if a >= 1, off the
    hypotheses, or if the loss is 0, where the ratio to the bound is 0/0)."""
    g, loss = gradient(layers, target)
    a = tightest_a(layers)
    instance = {"d": layers.shape[1], "L": layers.shape[0], "a": a, "loss": loss, "layers": layers, "target": target}
    if loss == 0.0 or a >= 1.0:
        return instance, None
    ratio = math.exp(math.log(float(np.vdot(g, g))) - log_slide_bound(loss, layers.shape[0], a))
    return instance, ratio - 1.0


def record(layers, target) -> None:
    instance, slack = slide_slack(layers, target)
    if evidence.hypotheses_fail(CLAIM, instance):
        return
    if slack is None:
        evidence.record_unmeasurable(CLAIM, instance, reason="loss = 0 (the ratio to the bound is 0/0)")
    elif slack < -BOUND_RTOL:
        evidence.record_violation(CLAIM, instance, slack=slack)
        evidence.record_metric(CLAIM, "instances violating the slide's bound", 1, reduce="sum")
    else:
        evidence.check_lower(CLAIM, instance, lhs=1 + slack, rhs=1.0, rtol=BOUND_RTOL)


def test_minimal_counterexample_reproduces():
    """The minimal counterexample; its reproduction (run as printed by ``record_counterexample``)
    also shows that it is exactly half the slide's bound."""
    instance, slack = slide_slack(np.ones((1, 1, 1)), np.zeros((1, 1)))
    evidence.record_counterexample(CLAIM, instance, slack=slack, reproduction=REPRODUCTION,
                                   message="d = L = 1, Theta = I, Phi = 0: ||grad||^2 = 1 < 2 = 4 loss L (1-a)^(2L)")


@given(layers=layer_stacks(), target_scale=finite_floats(min_value=0.0, max_value=3.0), seed=st.integers(0, MAX_SEED))
def test_slide_bound_on_random_layers(layers, target_scale, seed):
    """Random instances: violated wherever (1-a)^2 > 1/2 (recorded), held elsewhere."""
    target = target_scale * np.random.default_rng(seed).standard_normal(layers.shape[1:])
    record(layers, target)


def test_search_shrinks_to_the_identity():
    """Hypothesis' own minimal violating instance is the identity stack with d = L = 1 (recorded
    on the claim with ``check_equal``, on the instance the search is expected to shrink to)."""
    def violates(args):
        layers, scale = args
        slack = slide_slack(layers, scale * np.ones(layers.shape[1:]))[1]
        return slack is not None and slack < -BOUND_RTOL

    found = search_violation(st.tuples(layer_stacks(), finite_floats(min_value=-3.0, max_value=3.0)), violates)
    expected, _ = slide_slack(np.ones((1, 1, 1)), np.zeros((1, 1)))
    evidence.check_equal(CLAIM, expected, actual="none found" if found is None else repr(found[0].tolist()),
                         expected=repr([[[1.0]]]), what="layers of the search's minimal violating instance")
