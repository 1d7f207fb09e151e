"""C3 as on the slide: refuted by layers that do not fix 0, with the minimal instance; the
statement is checked on every other instance of the search. The counterexample family (a
translation h_1 = z - c, h_2 = Id, one sample point) is also evaluated under the faithful reading
of the slide's induced norm: every quantity of the bound is finite there and the derivative's norm
is already the dual norm over perturbations of finite induced norm (checked against closed forms),
so the refutation stands; the faithful reading excludes the family by h_1(0) = 0 instead (its
zero-fixing counterpart is checked in ``test_c3_no_bad_stationary_points_zero_fixing``).

Facts about the counterexamples (the exact values 1/4 < 1/2 of the minimal one, the ratio
below 0.55 of the sigmoid one) are stated in their reproduction snippets, which
``evidence.record_counterexample`` runs as printed: a snippet raises if its violation disappears.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.engine.profiles import budget
from resclaims.claims._functional_risk import slide_lower_bound
from resclaims.claims.c3_no_bad_stationary_points import CLAIM
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
from canaries import expect_caught, raises_violation
from strategies.layers import OFFSET_KINDS, ZERO_FIXING_KINDS, CompositionCase, compositions
from strategies.maps import composition_instance
from tolerances import BOUND_RTOL, SMALL_INTEGER_ARITHMETIC_RTOL

#: d = n = 1, m = 2: h_1 = x - 3/4 (a translation, ||h_1 - Id||_L = 0), h_2 = Id, sample (1, 5/4).
REPRODUCTION = """
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
risk = CompositionRisk([AffineLayer([[1.0]], [-0.75]), AffineLayer([[1.0]])], X=[[1.0]], Y=[[1.25]])
eps, m = 0.0, 2                                   # ||h_i - Id||_L = 0 for both layers
rhs = (1 - eps) ** (m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = risk.derivative_norm(2)                     # exact dual norm of D_{h_2} Q(h) on the sample
print(lhs, rhs)  # 0.25 0.5
if (lhs, rhs) != (0.25, 0.5):                     # the slide's bound fails for i = 2, by a factor 2
    raise RuntimeError(f"expected (0.25, 0.5), got {(lhs, rhs)}")
"""

#: The same with a sigmoid residual layer x + a sigma(bx), b = 0.1, a sigma(0.1) = -3/4.
SIGMOID_REPRODUCTION = """
import numpy as np
from resclaims.impl.functional_gradient import CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
a = -0.75 / (0.5 * (1.0 + np.tanh(0.05)))         # a sigma(0.1) = -3/4
layers = [ResidualLayer([[a]], [[0.1]], "sigmoid"), ResidualLayer([[0.0]], [[0.0]], "sigmoid")]
risk = CompositionRisk(layers, X=[[1.0]], Y=[[1.25]])
eps = max(f.residual_lipschitz_bound() for f in layers)   # |a| b / 4 = 0.036
rhs = (1 - eps) ** (risk.m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = risk.derivative_norm(2)
print(eps, lhs, rhs)
if not lhs < 0.55 * rhs:                          # the slide's bound fails for i = 2, by nearly 2
    raise RuntimeError(f"no violation: {lhs} >= 0.55 * {rhs}")
"""

#: Reproduction of a violation found by the search: the layers and the sample as literals.
SEARCH_REPRODUCTION = """
import numpy as np
from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
layers = [
{layers}
]
X = np.array({X!r})
Y = np.array({Y!r})
eps = max(f.residual_lipschitz_bound() for f in layers)   # ||h_i - Id||_L <= eps < 1
print([float(np.linalg.norm(f(np.zeros((1, X.shape[1]))))) for f in layers])  # h_i(0) != 0 for some i
risk = CompositionRisk(layers, X, Y)
rhs = (1 - eps) ** (risk.m - 1) / risk.distance_to_optimum() * (risk.risk() - risk.optimal_risk())
lhs = min(risk.derivative_norm(i) for i in range(1, risk.m + 1))
print(eps, lhs, rhs)
if not (eps < 1 and lhs < rhs * (1 - {rtol!r})):
    raise RuntimeError(f"no violation: eps = {{eps}}, {{lhs}} >= {{rhs}}")
"""


def layer_source(layer) -> str:
    """A layer as a Python expression of ``impl`` classes with literal (round-tripping) floats."""
    if isinstance(layer, AffineLayer):
        return f"    AffineLayer(np.array({layer.W.tolist()!r}), np.array({layer.b.tolist()!r})),"
    if isinstance(layer, ResidualLayer):
        return (f"    ResidualLayer(np.array({np.asarray(layer.A).tolist()!r}), "
                f"np.array({np.asarray(layer.B).tolist()!r}), {layer.activation!r}),")
    raise TypeError(f"no source for a layer of type {type(layer).__name__}")


def search_reproduction(case: CompositionCase) -> str:
    """A self-contained snippet (``impl`` and numpy only) showing the violation on ``case``."""
    return SEARCH_REPRODUCTION.format(layers="\n".join(layer_source(f) for f in case.layers),
                                      X=case.X.tolist(), Y=case.Y.tolist(), rtol=BOUND_RTOL)


def bound_terms(case: CompositionCase) -> tuple[dict, np.ndarray, np.ndarray, float]:
    """(instance, exact ||D_{h_i} Q(h)|| per layer, the slide's direction value per layer, rhs)."""
    risk = CompositionRisk(case.layers, case.X, case.Y)
    instance = composition_instance(case, risk)
    excess, distance = instance["excess"], instance["distance"]
    exact = np.array([risk.derivative_norm(i) for i in range(1, risk.m + 1)])
    direction = np.array([risk.slide_direction(i)[0] for i in range(1, risk.m + 1)])
    rhs = slide_lower_bound(case.epsilon, risk.m, excess, distance) if 0.0 < distance < np.inf else np.nan
    return instance, exact, direction, rhs


def record_known(case: CompositionCase, reproduction: str) -> None:
    """Record a known counterexample; its snippet runs as printed and raises if it no longer violates."""
    instance, exact, _, rhs = bound_terms(case)
    lhs = float(exact.min())
    i = int(np.argmin(exact)) + 1
    evidence.record_counterexample(CLAIM, instance, slack=(lhs - rhs) / rhs, reproduction=reproduction,
                                   message=f"||D_(h_{i}) Q(h)|| = {lhs:.6g} < {rhs:.6g} (layers: {case.kind})")


def record(case: CompositionCase) -> None:
    instance, exact, _, rhs = bound_terms(case)
    if evidence.hypotheses_fail(CLAIM, instance):
        return
    lhs = float(exact.min())
    if lhs < rhs * (1 - BOUND_RTOL):
        i = int(np.argmin(exact)) + 1
        evidence.record_counterexample(CLAIM, instance, slack=(lhs - rhs) / rhs, reproduction=search_reproduction(case),
                                       message=f"||D_(h_{i}) Q(h)|| = {lhs:.6g} < {rhs:.6g} (layers: {case.kind})")
        evidence.record_metric(CLAIM, f"instances violating the slide's bound ({case.kind} layers)", 1, reduce="sum")
    else:
        evidence.check_lower(CLAIM, instance, lhs=lhs, rhs=rhs, rtol=BOUND_RTOL)


def test_minimal_counterexample_reproduces():
    """The minimal counterexample (ratio exactly 1/2), recorded with its reproduction."""
    case = CompositionCase((AffineLayer([[1.0]], [-0.75]), AffineLayer([[1.0]])), np.array([[1.0]]),
                           np.array([[1.25]]), "affine", 0)
    record_known(case, REPRODUCTION)


def test_sigmoid_residual_layer_counterexample():
    """The same with a sigmoid residual layer x + a sigma(bx): b = 0.1, a sigma(0.1) = -3/4,
    ||h_1 - Id||_L = |a| b / 4 = 0.036, and h_2 = x + 0 sigma(0) (the identity)."""
    a = -0.75 / (0.5 * (1.0 + np.tanh(0.05)))
    layers = (ResidualLayer([[a]], [[0.1]], "sigmoid"), ResidualLayer([[0.0]], [[0.0]], "sigmoid"))
    case = CompositionCase(layers, np.array([[1.0]]), np.array([[1.25]]), "sigmoid", 0)
    record_known(case, SIGMOID_REPRODUCTION)


@given(case=compositions(kinds=ZERO_FIXING_KINDS + OFFSET_KINDS))
def test_slide_bound_on_random_compositions(case):
    """Random compositions, with and without h_i(0) = 0: violations are recorded, the rest checked."""
    record(case)


# --- the faithful reading (induced norm) on the counterexample family ---------------------------

@dataclass(frozen=True)
class TranslationMember:
    r"""A member of the counterexample family: :math:`d = n = 1`, :math:`m = 2`, one sample point
    :math:`x`, :math:`h_1(z) = z - c` with :math:`c = t x`, :math:`h_2 = \mathrm{Id}`, and the target
    :math:`y = h(x) - r` (residual :math:`r`). The minimal counterexample is :math:`x = 1`,
    :math:`t = 3/4`, :math:`r = -1`.

    Every quantity of the bound is homogeneous of degree 2 in :math:`(x, c, y)`, so powers of two
    for :math:`x` lose nothing; with dyadic :math:`t` and :math:`r` every state, and every quantity
    of the bound up to its last division, is exact in float.
    """

    x: float
    t: float
    r: float

    @property
    def c(self) -> float:
        return self.t * self.x

    @property
    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, Y) of the one-point sample, Y = h(x) - r."""
        return np.array([[self.x]]), np.array([[self.x - self.c - self.r]])

    @property
    def parameters(self) -> dict:
        return {"x": self.x, "t = c/x": self.t, "r = h(x) - y": self.r}

    def translation_case(self) -> CompositionCase:
        """The family's composition: h_1 = z - c (h_1(0) = -c), h_2 = Id."""
        return CompositionCase((AffineLayer([[1.0]], [-self.c]), AffineLayer([[1.0]])), *self.sample, "affine", 0)

    def zero_fixing_case(self) -> CompositionCase:
        r"""The same sample states from layers that fix 0: :math:`h_1(z) = (h_1(x)/x) z`, the
        zero-fixing layer with :math:`h_1(x) = x - c` of least :math:`\|h_1 - \mathrm{Id}\|_L = |t|`
        (any zero-fixing :math:`h_1` has :math:`|h_1(x) - x| \le \|h_1 - \mathrm{Id}\|_L |x|`)."""
        return CompositionCase((AffineLayer([[(self.x - self.c) / self.x]]), AffineLayer([[1.0]])), *self.sample,
                               "linear", 0)


def translation_members(*, max_abs_t: float = 2.0) -> st.SearchStrategy[TranslationMember]:
    """Members with x = +-2^a (a in -2..2), t a multiple of 1/64 with |t| <= ``max_abs_t``, and a
    nonzero residual r, a multiple of 1/16 with |r| <= 4 (so that h != h* and the bound is defined)."""
    q = int(64 * max_abs_t)
    return st.builds(TranslationMember,
                     x=st.sampled_from([s * 2.0**a for a in range(-2, 3) for s in (1.0, -1.0)]),
                     t=st.integers(-q, q).map(lambda k: k / 64),
                     r=st.integers(1, 64).flatmap(lambda k: st.sampled_from([k / 16, -k / 16])))


def check_faithful_quantities(member: TranslationMember, planted_input_norm: bool = False) -> float:
    r"""The quantities of the bound on a family member, with the derivative's norm taken over the
    perturbations of finite induced norm (``derivative_norm``, exact on the sample), against their
    closed forms: :math:`\|D_{h_1}Q\| = |r||x|`, :math:`\|D_{h_2}Q\| = |r||x - c|`,
    :math:`\|h - h^*\| = |r|/|x|` (over the support of :math:`X`), :math:`Q(h) - Q(h^*) = r^2/2`.
    ``planted_input_norm`` plants :math:`\|D_{h_2}Q\| = |r||x|` (perturbations weighed at the input,
    as if :math:`h_1` fixed 0 and were the identity). Returns the ratio of
    :math:`\|D_{h_2}Q\|` to the slide's right side at :math:`\varepsilon = 0`, :math:`2|1 - t|`."""
    case = member.translation_case()
    instance, exact, _, rhs = bound_terms(case)
    x, c, r = member.x, member.c, member.r
    desired = [abs(r) * abs(x), abs(r) * abs(x if planted_input_norm else x - c), abs(r) / abs(x), r * r / 2]
    evidence.check_allclose(CLAIM, {**instance, **member.parameters},
                            actual=[exact[0], exact[1], instance["distance"], instance["excess"]], desired=desired,
                            rtol=SMALL_INTEGER_ARITHMETIC_RTOL, held={},
                            what="(||D_{h_1}Q||, ||D_{h_2}Q|| (dual norm over finite induced norm), ||h - h*||, "
                                 "Q(h) - Q(h*)) against (|r||x|, |r||x - c|, |r|/|x|, r^2/2)")
    return float(exact[1] / rhs)


@settings(max_examples=budget(20))
@given(member=translation_members())
@example(member=TranslationMember(1.0, 0.75, -1.0))   # the minimal counterexample: ratio 1/2
@example(member=TranslationMember(1.0, 1.0, -1.0))    # h_1(x) = 0: D_{h_2}Q(h) = 0, ratio 0
def test_faithful_derivative_norm_on_the_counterexample_family(member):
    """The counterexample already measures D_{h_i}Q(h) in the faithful (induced) norm: on the whole
    family the bound reads |x - c| >= |x|/2, false for c/x in (1/2, 3/2), whatever the scale."""
    ratio = check_faithful_quantities(member)
    evidence.record_metric(CLAIM, "translation family, faithful norm: least ||D_{h_2}Q|| / rhs (= 2|1 - c/x|)",
                           ratio, reduce="min")


def test_faithful_quantities_check_catches_input_norm():
    """Planted: perturbations weighed at the input x (|r||x|) instead of at h_1(x) = x - c."""
    def violates(member):
        with evidence.scratch():
            return raises_violation(check_faithful_quantities, member, True)

    expect_caught(CLAIM, "||D_{h_2}Q|| = |r||x| (perturbations weighed at x, not at h_1(x))", translation_members(),
                  violates)


#: The table's members: x = 1, r = -1 (y = 5/4 at t = 3/4, the minimal counterexample).
TABLE_TS = (-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)

FAITHFUL_TABLE_COLUMNS = [
    "t = c/x", "||h_1 - Id||_L", "||h_1 - Id|| (induced)", "||h - h*|| (on supp X)", "||D_{h_2}Q|| (over F)",
    "rhs at eps = 0", "ratio", "zero-fixing h_1, same h_1(x): eps", "rhs at that eps", "ratio (zero-fixing)"]


def test_faithful_reading_table():
    """Each quantity of the bound on the family (x = 1, r = -1), with the translation and with the
    zero-fixing layer of least eps that has the same h_1(x) (none with eps < 1 when |t| >= 1)."""
    rows = []
    for t in TABLE_TS:
        member = TranslationMember(1.0, t, -1.0)
        case = member.translation_case()
        instance, exact, _, rhs = bound_terms(case)
        induced = "inf" if member.c != 0.0 else 0.0  # sup_{z != 0} |c|/|z|
        row = [t, case.epsilon, induced, instance["distance"], exact[1], rhs, exact[1] / rhs]
        counterpart = member.zero_fixing_case()
        if counterpart.epsilon < 1.0:
            _, exact_zf, _, rhs_zf = bound_terms(counterpart)
            row += [counterpart.epsilon, rhs_zf, exact_zf[1] / rhs_zf]
        else:
            row += [f"none (needs eps >= {counterpart.epsilon:g})", "-", "-"]
        rows.append(row)
    evidence.record_table(CLAIM, "faithful reading on the counterexample family (x = 1, r = h(x) - y = -1)",
                          FAITHFUL_TABLE_COLUMNS, rows)
