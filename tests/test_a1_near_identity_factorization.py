"""A1: near-identity factorization against HM16's explicit O(1/m) bound (ICLR 2017 form), and the
atlas row C: the constant of that form, searched through a lower bound valid for every factorization."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.engine.tightness import Polish
from resclaims.claims.a1_near_identity_factorization import (
    CLAIM, PROVEN_C, balanced_construction_bound, every_factorization_lower_bound, hm16_bound, hm16_coefficient,
    hm16_form, log_conditioning)
from resclaims.claims.engine.profiles import budget
from resclaims.impl.balanced_factorization import balanced_factorization
from resclaims.impl.near_identity_factorization import near_identity_factorization
from adversarial import SearchResult, multistart, starting_points
from canaries import expect_caught, raises_violation
from strategies.matrices import SPECIAL_POSITIVE_DET, square_matrices
from test_a4_balanced_factorization import product
from tolerances import BOUND_RTOL, RATE_EXPONENT_ATOL, product_tol, rate_measurable_layer_norm


def layer_norms(residuals: np.ndarray) -> np.ndarray:
    return np.linalg.norm(residuals, 2, axis=(1, 2))


def check(A: np.ndarray, m: int, residuals: np.ndarray, bound=hm16_bound, claim=CLAIM) -> float:
    """The factorization reproduces A and its largest layer is within ``bound(gamma, m)``, recorded
    for ``claim`` (this form, or the first published one)."""
    instance = {"A": A, "m": m}
    d = A.shape[0]
    err = np.linalg.norm(product(residuals + np.eye(d)) - A) / np.linalg.norm(A, 2)
    if err > product_tol(d, m):  # the factorization itself is wrong: a violation
        return evidence.check_close(claim, instance, error=err, tol=product_tol(d, m), what="product error")
    gamma = log_conditioning(A)
    worst = float(layer_norms(residuals).max())
    return evidence.check_upper(
        claim, instance, lhs=worst, rhs=bound(gamma, m), rtol=BOUND_RTOL,
        metrics={"sup_m m*max||A_i||": m * worst, "max||A_i|| / derived balanced bound":
                 worst / balanced_construction_bound(gamma, m), "product error / tolerance": err / product_tol(d, m)},
        size=m)


def _polish_args(instance):
    A, m = np.array(instance["A"], dtype=float), int(instance["m"])
    return A, m, near_identity_factorization(A, m)


POLISH = Polish(check, _polish_args, free=("A",))


def _with_special_examples(test):
    for A in SPECIAL_POSITIVE_DET:
        test = example(A=A, m=12)(test)
    return test


@given(A=square_matrices(det_sign="positive"), m=st.integers(1, 256))
@_with_special_examples
def test_hm16_bound(A, m):
    check(A, m, near_identity_factorization(A, m))


#: Like the nightly false alarm (exponent -0.936 on a 1 x 1 A within rounding of the identity):
#: here the unguarded fit gives -0.945, on layer norms of one ulp at m = 2048.
_NEAR_IDENTITY_1X1 = np.array([[1.0000000000003]])


@given(A=square_matrices(det_sign="positive", max_d=4))
@settings(max_examples=10)
@example(A=_NEAR_IDENTITY_1X1)
def test_rate_is_one_over_m(A):
    """O(1/m): the fitted exponent of max||A_i|| against m (m = 64 ... 2048) is -1, where it is
    measurable: the layers' norms at the largest m must stand above their rounding."""
    ms = 2 ** np.arange(6, 12)
    worst = np.array([layer_norms(near_identity_factorization(A, int(m))).max() for m in ms])
    instance = {"A": A, "m": int(ms[0]), "ms": ms, "max_layer_norms": worst}
    floor = rate_measurable_layer_norm(A.shape[0])
    if worst[-1] < floor:  # A within rounding of the identity (A = I included): no rate to fit
        evidence.record_unmeasurable(CLAIM, instance, reason=f"max||A_i|| at m = {ms[-1]} below {floor:.1e} "
                                     "(rounding of the layers)")
        return
    slope = float(np.polyfit(np.log(ms), np.log(worst), 1)[0])
    evidence.record_metric(CLAIM, "fitted exponent of max||A_i|| vs m (max)", slope, reduce="max")
    evidence.record_metric(CLAIM, "fitted exponent of max||A_i|| vs m (min)", slope, reduce="min")
    evidence.check_close(CLAIM, {**instance, "slope": slope}, error=abs(slope + 1.0), tol=RATE_EXPONENT_ATOL,
                         what="|fitted exponent of max||A_i|| vs m + 1|")


# --- sensitivity --------------------------------------------------------------------------

def _identity_padded(A, m):
    """Bug: A put in the first layer, the other layers identity (no spreading)."""
    res = np.zeros((m, *A.shape))
    res[0] = A - np.eye(A.shape[0])
    return res


def _wrong_exponent(A, m):
    """Bug: layers with exponent 1/(m-1) (one layer too few, padded with the identity)."""
    res = np.zeros((m, *A.shape))
    if m > 1:
        res[1:] = balanced_factorization(A, m - 1) - np.eye(A.shape[0])
    return res


def _too_tight(gamma, m):
    """Planted wrong constant: HM16's bound divided by 8."""
    return hm16_bound(gamma, m) / 8


@pytest.mark.parametrize("bug, bound", [(_identity_padded, hm16_bound), (_wrong_exponent, hm16_bound),
                                        (near_identity_factorization, _too_tight)])
def test_check_catches_planted_bug(bug, bound):
    def violates(args):
        A, m = args
        return m >= 3 * log_conditioning(A) and raises_violation(check, A, m, bug(A, m), bound)

    planted = (bound if bound is not hm16_bound else bug).__doc__.split(":")[1].strip()
    expect_caught(CLAIM, planted, st.tuples(square_matrices(min_d=2, max_d=4), st.integers(1, 64)), violates,
                  describe=lambda args: f"d={args[0].shape[0]}, m={args[1]}")


# --- atlas: the constant C of (sqrt(pi) + sqrt(3 gamma))^2 / m --------------------------------

#: Depths of the atlas searches: the C that the lower bound needs grows with m toward its
#: supremum (1 here, e^{1/3} - 1 for the first form), so the largest depth bounds how close a
#: search can come; the nightly profile searches the same depths with 20x the starts.
ATLAS_DEPTHS = (4, 64, 256)

#: Depths at which the suite's construction is searched for its worst C (each evaluation builds an
#: m-layer factorization, ~1 ms, so fewer depths and evaluations than the lower bound's search).
CONSTRUCTION_DEPTHS = (4, 64)

#: The local optimizer of the atlas searches. Powell, not Nelder-Mead: the need for C has a cusp in
#: gamma at 0 (it falls like sqrt(gamma)) and in the rotation angle at pi; measured at m = 256 with
#: 4 starts x 300 evaluations, Nelder-Mead stalled at C = 0.76, Powell reached 0.99984 (sup 1).
SEARCH_METHOD = "Powell"


def _rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


#: Largest half-spread |log sigma_1 - log sigma_2| / 2 of a searched matrix: condition numbers up to
#: e^10 ~ 2e4 keep the SVD's gamma accurate to ~1e-12 (a larger spread at gamma = m/3 = 85 would make
#: sigma_min pure rounding). The extremal families of both forms (-I_2, -e^{m/3} I_2) have spread 0.
SEARCH_MAX_HALF_SPREAD = 5.0

#: The searched matrices stay this relative margin inside the hypothesis' edge m = 3 gamma, so that
#: the SVD's gamma (log sigma accurate to ~eps kappa <= 5e-12 at kappa <= e^10) never lands beyond it:
#: an infeasible point would score +inf, which Powell's line search turns into nan warnings. It
#: restricts where the search looks (C moves by <= 1e-9 relative), it is no check's tolerance.
SEARCH_EDGE_MARGIN = 1e-9


def searched_instance(params: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """A 2 x 2 matrix with det A > 0 and |log sigma_i| <= m/3 by construction, and a unit vector:
    A = R(phi) diag(e^{c + s}, e^{c - s}) R(psi)^T, x = (cos a, sin a), with the half-spread
    s = S tanh(u_s / S) and the centre c = K tanh(u_c / K), with E = (m/3)(1 - SEARCH_EDGE_MARGIN),
    S = min(SEARCH_MAX_HALF_SPREAD, E), K = E - |s|: smooth, of unit slope at 0, saturating just
    inside the edge m = 3 gamma."""
    phi, psi, u_c, u_s, a = params
    edge = (m / 3.0) * (1.0 - SEARCH_EDGE_MARGIN)
    spread_cap = min(SEARCH_MAX_HALF_SPREAD, edge)
    s = spread_cap * math.tanh(u_s / spread_cap)
    centre_cap = edge - abs(s)
    c = centre_cap * math.tanh(u_c / centre_cap) if centre_cap > 0 else 0.0
    A = _rotation(phi) @ np.diag(np.exp([c + s, c - s])) @ _rotation(psi).T
    return A, np.array([math.cos(a), math.sin(a)])


def search_needed_constant(coefficient: Callable[[float, float, int], float], depths, *, seed: int,
                           max_layer_norm=None, starts_per_depth: int = 4,
                           evaluations_per_start: int = 300) -> tuple[SearchResult, dict]:
    """Maximise the constant an instance needs, ``coefficient(max||A_i||, gamma, m)``, over 2 x 2
    matrices A, unit vectors x and ``depths``, with a multistart of :data:`SEARCH_METHOD` per depth
    (``budget(starts_per_depth)`` seeded starts of ``evaluations_per_start`` evaluations).

    ``max_layer_norm(A, x, m)`` is the layer norm used: by default the lower bound valid for every
    factorization (the truth's lower side); the suite's construction's norm for its own worst C.
    A point off the hypothesis m >= 3 gamma (none is expected, see SEARCH_EDGE_MARGIN) scores +inf. Returns the best
    search result (effort summed over depths) and its instance."""
    norm_of = max_layer_norm or every_factorization_lower_bound
    best, best_instance, starts, evaluations = None, None, 0, 0
    for m in depths:
        def needed(params, m=m):
            A, x = searched_instance(params, m)
            gamma = log_conditioning(A)
            if m < 3.0 * gamma:
                return math.inf
            return -coefficient(norm_of(A, x, m), gamma, m)

        found = multistart(needed, starting_points(budget(starts_per_depth), 5, seed=seed + m),
                           method=SEARCH_METHOD, max_evaluations_per_start=evaluations_per_start)
        starts, evaluations = starts + found.starts, evaluations + found.evaluations
        if best is None or found.value < best.value:
            A, x = searched_instance(found.x, m)
            best, best_instance = found, {"A": A, "x": x, "m": m, "gamma": log_conditioning(A)}
    return SearchResult(best.x, -best.value, best.method, starts, evaluations), best_instance


def lower_bound_reproduction(instance: dict, coefficient: str, module: str) -> str:
    """The snippet that recomputes the C an atlas instance needs, from its numbers as printed."""
    (a, b), (c, d) = instance["A"].tolist()
    x0, x1 = instance["x"].tolist()
    return (f"import numpy as np\n"
            f"from resclaims.claims.a1_near_identity_factorization import every_factorization_lower_bound, "
            f"log_conditioning\n"
            f"from resclaims.claims.{module} import {coefficient}\n"
            f"A = np.array([[{a!r}, {b!r}], [{c!r}, {d!r}]])\n"
            f"x = np.array([{x0!r}, {x1!r}])\n"
            f"m = {instance['m']}\n"
            f"value = {coefficient}(every_factorization_lower_bound(A, x, m), log_conditioning(A), m)\n")


def construction_norm(A: np.ndarray, x: np.ndarray, m: int) -> float:
    """max ||A_i|| of the suite's construction (``x`` unused: the signature of the lower bound)."""
    return float(layer_norms(near_identity_factorization(A, m)).max())


def test_atlas_constant_C():
    """Atlas row C: the largest C = m max||A_i|| / (sqrt(pi) + sqrt(3 gamma))^2 that the lower bound
    valid for every factorization needs (the truth's lower side; the proof gives C <= 1, HM16 state 2).
    The search's best instance is also factorized by the suite: its layers can never beat the bound."""
    found, instance = search_needed_constant(hm16_coefficient, ATLAS_DEPTHS, seed=0)
    A, x, m = instance["A"], instance["x"], instance["m"]
    evidence.record_constant(CLAIM, "C", value=found.value, instance=instance,
                             reproduction=lower_bound_reproduction(instance, "hm16_coefficient",
                                                                   "a1_near_identity_factorization"),
                             method=found.method, starts=found.starts, evaluations=found.evaluations,
                             rtol=BOUND_RTOL)
    # The lemma of the lower side on one actual factorization (the suite's): bound <= max||A_i||. A
    # boolean, not a bound's slack: at the extremal instance the two agree to ~1e-10 by design (A = -I
    # is where the construction is optimal), which says nothing about the claim's own slack.
    lower, built = every_factorization_lower_bound(A, x, m), construction_norm(A, x, m)
    evidence.record_metric(CLAIM, "lemma: lower bound / construction max||A_i|| at the atlas instance", lower / built)
    evidence.check_true(CLAIM, {**instance, "lower bound": lower, "construction max||A_i||": built},
                        holds=not evidence.exceeds(lower, built, rtol=BOUND_RTOL),
                        what="the lower bound valid for every factorization exceeds the suite's factorization",
                        held={"lemma of the lower bound (no hypothesis)": True})
    planted = 0.9 * PROVEN_C
    evidence.record_canary(CLAIM, "proven C = 0.9 in place of 1 (the search must need more)",
                           caught=evidence.exceeds(found.value, planted, rtol=BOUND_RTOL),
                           detail=f"best found C = {found.value!r} at m = {m}")
    evidence.record_canary(CLAIM, "lower bound without the m-th root (exp(z) - 1) exceeds a factorization",
                           caught=evidence.exceeds(abs(np.exp(complex(0.0, np.pi)) - 1.0),
                                                   construction_norm(-np.eye(2), x, m), rtol=BOUND_RTOL),
                           detail=f"A = -I, m = {m}: |e^(i pi) - 1| = 2 against the construction's max||A_i||")


def test_construction_worst_constant():
    """The suite's construction's worst C (the proof's side, searched): it must stay <= the proven 1;
    a table compares it with the lower bound's need at the extremal family A = -I."""
    found, instance = search_needed_constant(hm16_coefficient, CONSTRUCTION_DEPTHS, seed=1,
                                             max_layer_norm=construction_norm, starts_per_depth=2,
                                             evaluations_per_start=100)
    evidence.record_metric(CLAIM, "construction: worst C = m max||A_i|| / (sqrt(pi)+sqrt(3 gamma))^2", found.value)
    evidence.check_upper(CLAIM, {**instance, "construction C": found.value}, lhs=found.value, rhs=PROVEN_C,
                         rtol=BOUND_RTOL, held={"the suite's proof of C <= 1 on its construction": True})
    e1 = np.array([1.0, 0.0])
    rows = [[m, hm16_coefficient(construction_norm(-np.eye(2), e1, m), 0.0, m),
             hm16_coefficient(every_factorization_lower_bound(-np.eye(2), e1, m), 0.0, m), PROVEN_C, 2.0]
            for m in ATLAS_DEPTHS]
    rows.append([f"search (m in {CONSTRUCTION_DEPTHS})", found.value, None, PROVEN_C, 2.0])
    evidence.record_table(CLAIM, "constant C at A = -I_2 (gamma = 0): construction vs every factorization",
                          ["m", "construction C", "C needed by every factorization", "proven C", "HM16 C"], rows)
    expect_caught(CLAIM, "construction held to C = 0.9 (below the truth 1)", st.sampled_from(CONSTRUCTION_DEPTHS),
                  lambda m: evidence.exceeds(hm16_coefficient(construction_norm(-np.eye(2), e1, m), 0.0, m),
                                             0.9 * PROVEN_C, rtol=BOUND_RTOL),
                  describe=lambda m: f"A = -I_2, m = {m}")
