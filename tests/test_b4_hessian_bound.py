"""B4 as written on the slide (no condition on Phi): refuted, with the minimal counterexample.

The engine's exact Hessian on instances satisfying every hypothesis of the slide
(z >= 0, ||Theta_i||_2 <= 1 + z): a large target makes ||Hess||_F as large as one likes.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given

from resclaims.claims.engine import evidence
from resclaims.claims.b4_hessian_bound import CLAIM, identity_threshold, log_fro_norm, log_slide_bound
from resclaims.impl.deep_linear import hessian
from canaries import search_violation
from strategies.deep_linear import make_near_identity_problem, near_identity_problems, scaled_identity_problems
from tolerances import hessian_rtol


def slide_ratio(inst) -> float:
    """||Hess||_F / (3 L d^5 (1+z)^(2L)) from the exact Hessian, in log space."""
    H = hessian(inst["layers"], inst["target"])
    return math.exp(log_fro_norm(H) - log_slide_bound(inst["d"], inst["L"], inst["z"]))


#: Sizes in the order of the search for the minimal counterexample (fewest parameters L d^2 first).
SIZES = sorted(((d, L) for d in (1, 2, 3) for L in (1, 2, 3, 4)), key=lambda s: (s[1] * s[0] ** 2, s[0]))


def minimal_counterexample():
    """The first size (in :data:`SIZES` order) with a violation, and Hypothesis' shrunk instance of
    that size (smallest z, then simplest |Phi|); None if no size has one."""
    for d, L in SIZES:
        found = search_violation(scaled_identity_problems(d=d, L=L), violates)
        if found is not None:
            return found
    return None


def violates(inst) -> bool:
    return all(CLAIM.hypotheses_held(inst).values()) and slide_ratio(inst) > 1 + hessian_rtol(inst["d"], inst["L"])


def reproduction(inst) -> str:
    layers = np.asarray(inst["layers"]).ravel().tolist()
    return f"""
import numpy as np
from resclaims.impl.deep_linear import hessian
d, L, z = {inst['d']}, {inst['L']}, {inst['z']!r}
layers = np.array({layers!r}).reshape(L, d, d)   # every ||Theta_i||_2 <= 1 + z
target = {inst['phi']!r} * np.eye(d)
H = hessian(layers, target)
lhs, rhs = float(np.linalg.norm(H)), 3 * L * d**5 * (1 + z) ** (2 * L)
print(H, lhs, rhs)   # ||H||_F = sqrt(52) = 7.211 > 6
assert lhs > rhs     # the slide's ||Hess||_F <= 3 L d^5 (1+z)^(2L) fails
assert np.array_equal(np.abs(H), [[1.0, 5.0], [5.0, 1.0]])   # exactly, so ||H||_F^2 = 52
"""


#: What the search must shrink to: d = 1, L = 2, z = 0, unit layers, |Phi| = 3 (signs free).
EXPECTED_MINIMAL = {"d": 1, "L": 2, "z": 0.0, "|layers|": [1.0, 1.0], "|phi|": 3.0}


def _summary(inst) -> dict:
    return {"d": inst["d"], "L": inst["L"], "z": inst["z"],
            "|layers|": np.abs(np.asarray(inst["layers"])).ravel().tolist(), "|phi|": abs(inst["phi"])}


def test_minimal_counterexample():
    """The search's minimal violating instance: d = 1, L = 2 (no size with L = 1 violates: there
    the Hessian is I, ||I||_F = d <= 3 d^5 (1+z)^2), z = 0, unit layers, |Phi| = 3.

    (At unit layers the threshold is |Phi| > sqrt(17) - 2 = 2.12; the shrinker prefers the
    integer 3.) Which instance the search shrinks to is recorded on the claim (``check_equal``);
    the facts about that instance (it violates the bound, H = [[1, +-5], [+-5, 1]]) are in its
    reproduction, which ``record_counterexample`` runs as printed."""
    found = minimal_counterexample()
    shown = found if found is not None else make_near_identity_problem(1, 2, 0.0, target_factor=3.0) | {"phi": -3.0}
    evidence.check_equal(CLAIM, shown, actual=None if found is None else _summary(found), expected=EXPECTED_MINIMAL,
                         what="the search's minimal violating instance")
    ratio = slide_ratio(found)
    evidence.record_counterexample(CLAIM, found, slack=1.0 - ratio, reproduction=reproduction(found),
                                   message=f"||Hess||_F = sqrt(52) = {math.sqrt(52):.4f} > 6 = 3 L d^5 (1+z)^(2L)")
    evidence.record_metric(CLAIM, "minimal counterexample: ||Hess||_F / bound", ratio, reduce="max")


def test_hand_example_phi_7():
    """The issue's hand computation: d = 1, L = 2, Theta = I, Phi = 7 gives [[1, -5], [-5, 1]],
    ||H||_F^2 = 52 > 36 (exact: integer entries)."""
    inst = {"d": 1, "L": 2, "z": 0.0, "phi": 7.0, "layers": np.ones((2, 1, 1)), "target": np.array([[7.0]])}
    H = hessian(inst["layers"], inst["target"])
    evidence.check_equal(CLAIM, inst, actual=H, expected=np.array([[1.0, -5.0], [-5.0, 1.0]]), what="Hessian at Phi = 7")
    evidence.check_equal(CLAIM, inst, actual=float(np.sum(H * H)), expected=52.0, what="||H||_F^2")
    evidence.check_true(CLAIM, inst, holds=log_fro_norm(H) > log_slide_bound(1, 2, 0.0),
                        what="||H||_F = sqrt(52) exceeds the slide's 3 L d^5 (1+z)^(2L) = 6")


@pytest.mark.parametrize("L", [2, 3, 4, 5])
def test_threshold_at_the_identity(L):
    """d = 1, Theta = I, z = 0: ||Hess||_F^2 - (3L)^2 = L(L-1)(2 - phi)^2 - (9L^2 - L), whose
    roots are 2 +- sqrt((9L-1)/(L-1)) (SymPy, from the explicit loss); the engine agrees on
    both sides of the root. The smallest violating |Phi| decreases to 1 as L grows, the limit
    the corrected variant's ||Phi||_2 <= (1+z)^L allows."""
    theta = sympy.symbols(f"t1:{L + 1}")
    phi = sympy.Symbol("phi")
    ell = sympy.Rational(1, 2) * (sympy.Mul(*theta) - phi) ** 2
    H = sympy.hessian(ell, theta).subs({t: 1 for t in theta})
    excess = sympy.expand(sum(h**2 for h in H) - 9 * L**2)
    symbolic = {"d": 1, "L": L, "z": 0.0, "layers": np.ones((L, 1, 1)), "target": phi}
    evidence.check_symbolic(CLAIM, symbolic, lhs=excess, rhs=L * (L - 1) * (2 - phi) ** 2 - (9 * L**2 - L),
                            what="||Hess||_F^2 - (3L)^2 at Theta = I")
    root = identity_threshold(L)
    evidence.check_symbolic(CLAIM, symbolic, lhs=excess.subs(phi, 2 - sympy.sqrt(sympy.Rational(9 * L - 1, L - 1))),
                            rhs=0, what="||Hess||_F^2 - (3L)^2 at phi = 2 - sqrt((9L-1)/(L-1))")
    for factor, expect in ((1 + 1e-6, True), (1 - 1e-6, False)):
        inst = {"d": 1, "L": L, "z": 0.0, "phi": 2 - root * factor, "layers": np.ones((L, 1, 1)),
                "target": np.array([[2 - root * factor]])}
        evidence.check_equal(CLAIM, inst, actual=violates(inst), expected=expect,
                             what=f"the engine's Hessian violates the bound at |2 - phi| = r(L) x {factor}")
    evidence.record_table(CLAIM, "d = 1, Theta = I, z = 0: the slide's bound fails iff |2 - Phi| > r(L)",
                          ["L", "r(L) = sqrt((9L-1)/(L-1))", "smallest violating |Phi| = r(L) - 2"],
                          [[L, round(root, 6), round(root - 2, 6)]])


@given(inst=near_identity_problems(max_d=3, max_L=4, max_factor=8.0))
def test_slide_bound_on_random_instances(inst):
    """Instances satisfying the slide's hypotheses with ||Phi||_2 up to 8 (1+z)^L: the bound holds
    where ||Phi|| is small and fails where it is large; violations are counted (the minimal one
    is the recorded counterexample), the others recorded as held instances."""
    if evidence.hypotheses_fail(CLAIM, inst):
        return
    ratio = slide_ratio(inst)
    rtol = hessian_rtol(inst["d"], inst["L"])
    if ratio > 1 + rtol:
        evidence.record_metric(CLAIM, "random instances violating the slide's bound", 1, reduce="sum")
        evidence.record_metric(CLAIM, "largest ||Hess||_F / bound seen", ratio, reduce="max")
        evidence.record_metric(CLAIM, "smallest ||Phi||_2 / (1+z)^L among violations", inst["target_factor"], reduce="min")
    else:
        evidence.check_upper(CLAIM, inst, lhs=ratio, rhs=1.0, rtol=rtol, size=inst["L"])
        evidence.record_metric(CLAIM, "largest ||Phi||_2 / (1+z)^L among instances that held", inst["target_factor"],
                               reduce="max")


def test_counterexample_scales_with_the_target():
    """At Theta = I the Hessian's off-diagonal entries are 2 - phi: ||Hess||_F / bound grows without
    limit in |Phi| (the bound has no Phi in it)."""
    instances = [make_near_identity_problem(1, 2, 0.0, target_factor=f) for f in (1.0, 10.0, 100.0)]
    ratios = [slide_ratio(inst) for inst in instances]
    evidence.check_true(CLAIM, instances[-1], holds=ratios[0] < 1 < ratios[1] < ratios[2],
                        what=f"||Hess||_F / bound increases with |Phi| and crosses 1 (|Phi| = 1, 10, 100: {ratios})")
    evidence.check_lower(CLAIM, instances[-1], lhs=ratios[2], rhs=10.0, rtol=0.0,
                         metrics={"||Hess||_F / bound at Theta = I, Phi = 100 I": ratios[2]})
