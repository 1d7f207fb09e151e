"""C4: a scalar map h with d_1 h >= c > 0 read out as the first coordinate of flat near-identity layers:
C1's layers of the normalised flat extension H~ = L^{-1} (h, x_2, ..., x_d), then m linear layers
R = L^{1/m}. Checks: (R^m h_m o ... o h_1(x))_1 = h(x) on the box, every layer leaves x_2, ..., x_d
alone, and max(max_i ||h_i - Id||_L, ||R - I||) = O(log m / m) (C1's estimator and settle ratio).
Negative control (recorded only): the same construction on a scalar map with a critical point.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.c1_near_identity_rate import fitted_exponent, linear_rate, log_rate, rate_constants, settle_ratio
from resclaims.claims.c4_scalar_maps_flat_layers import (
    CLAIM, FLAT_DEPTH_GRID, SETTLE_FROM, SETTLE_TO, first_partial_lower_bound, flat_linear_root)
from resclaims.claims.engine import evidence
from resclaims.claims.engine.profiles import budget
from resclaims.impl.near_identity_decomposition import (
    NearIdentityDecomposition, estimate_max_layer_lipschitz, geometric_schedule, linear_schedule)
from resclaims.impl.residual_layer import ResidualLayer
from resclaims.impl.smooth_residual_map import SmoothResidualMap
from canaries import raises_violation
from strategies.layers import MapCase, row_norms
from strategies.maps import SCHEDULE_KINDS, make_schedule, map_instance
from tolerances import (BOUND_RTOL, INVERSE_TOL, RATE_SETTLE_FACTOR, c1_rate_measurable_floor, decomposition_tol,
                        flat_composition_tol, flat_coordinate_atol)

DEPTHS = (1, 2, 4, 8, 16, 32)


# --- the family: h = s (f_K o ... o f_1)_1 with flat tanh layers -----------------------------

@dataclass(frozen=True, eq=False)
class FlatCase:
    """A scalar map h = s (f_K o ... o f_1)_1, f_j(x) = x + e_1 c_j^T tanh(B_j x), and its normalised flat
    extension ``case.h`` = H~ = J_0^{-1} f_K o ... o f_1 (the C1 map) on the box of ``case``."""

    case: MapCase
    scale: float

    @property
    def layers(self) -> tuple[ResidualLayer, ...]:
        return self.case.h.layers

    @property
    def d(self) -> int:
        return self.case.h.d

    def h(self, X) -> np.ndarray:
        """The scalar map at rows of X, from the layers (not through the normalisation)."""
        Z = np.asarray(X, dtype=float)
        for f in self.layers:
            Z = f(Z)
        return self.scale * Z[:, 0]

    @property
    def first_row(self) -> np.ndarray:
        """First row of L = DH(0) = diag(s, 1, ..., 1) J_0, i.e. grad h(0) (the other rows are e_j)."""
        return self.scale * self.case.h.J0[0]

    @property
    def instance(self) -> dict:
        alphas = [f.residual_lipschitz_bound() for f in self.layers]
        return {**map_instance(self.case), "readout_scale": self.scale,
                "flat": all(bool(np.all(f.A[1:] == 0.0)) for f in self.layers),
                "first_partial_lower": first_partial_lower_bound(self.scale, alphas),
                "first_row_of_L": self.first_row}

    def __repr__(self) -> str:
        c, h = self.case, self.case.h
        return (f"make_flat_case(d={h.d}, depth={len(h.layers)}, width={h.layers[0].k}, seed={c.seed}, "
                f"layer_alpha={c.layer_alpha!r}, b_scale={c.b_scale!r}, radius={c.radius!r}, scale={self.scale!r})")


def flat_layer(d: int, width: int, rng: np.random.Generator, alpha: float, b_scale: float) -> ResidualLayer:
    """x + e_1 c^T tanh(Bx) with B = b_scale G / sqrt(d) and c rescaled to certified ||f - Id||_L = alpha."""
    A0 = np.zeros((d, width))
    A0[0] = rng.standard_normal(width)
    B = b_scale * rng.standard_normal((width, d)) / np.sqrt(d)
    return ResidualLayer(A0 * (alpha / ResidualLayer(A0, B, "tanh").residual_lipschitz_bound()), B, "tanh")


def make_flat_case(*, d: int, depth: int, width: int, seed: int, layer_alpha: float, b_scale: float,
                   radius: float, scale: float) -> FlatCase:
    layers = [flat_layer(d, width, np.random.default_rng([seed, j]), layer_alpha, b_scale) for j in range(depth)]
    return FlatCase(MapCase(SmoothResidualMap(layers), seed, layer_alpha, b_scale, radius), scale)


@st.composite
def flat_scalar_maps(draw) -> FlatCase:
    """d = 2, 3; 1-2 flat layers of width 1-3, alpha in [0.05, 0.8], b_scale in [0.2, 3], readout scale
    s in [0.5, 2]: d_1 h >= s (1 - alpha)^K > 0 by construction. Shrinks toward d = 2, one layer."""
    floats = functools.partial(st.floats, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    return make_flat_case(d=draw(st.integers(2, 3)), depth=draw(st.integers(1, 2)), width=draw(st.integers(1, 3)),
                          seed=draw(st.integers(0, 2**32 - 1)), layer_alpha=draw(floats(0.05, 0.8)),
                          b_scale=draw(floats(0.2, 3.0)), radius=draw(st.sampled_from([1.0, 0.5, 2.0])),
                          scale=draw(floats(0.5, 2.0)))


#: The map of the rate table, the plot and the canaries: d = 2, two flat layers, readout scale 1.5.
REFERENCE = make_flat_case(d=2, depth=2, width=3, seed=1, layer_alpha=0.6, b_scale=2.0, radius=1.0, scale=1.5)


# --- the representation: first coordinate is h, every layer flat ------------------------------

def flat_composition(fc: FlatCase, schedule: np.ndarray, *, root=flat_linear_root, linear_layers: bool = True):
    """X (box sample), R^m h_m o ... o h_1(X) layer by layer, and the worst per-layer flatness
    max |(h_i(z))_j - z_j| / flat_coordinate_atol over i and j >= 2.

    ``root(first_row, m)`` gives the linear layer (default the exact m-th root of L)."""
    dec = NearIdentityDecomposition(fc.case.h, schedule)
    X = fc.case.points(8)
    Z, flat_ratio = X, 0.0
    for i in range(1, dec.m + 1):
        Z_next = dec.layer(i, Z, tol=INVERSE_TOL)
        moved = float(np.abs(Z_next[:, 1:] - Z[:, 1:]).max())
        flat_ratio = max(flat_ratio, moved / flat_coordinate_atol(float(row_norms(Z).max())))
        Z = Z_next
    if linear_layers:
        R = root(fc.first_row, dec.m)
        for _ in range(dec.m):
            Z = Z @ R.T
    return X, Z, flat_ratio


def first_coordinate_tol(fc: FlatCase, m: int, X: np.ndarray) -> float:
    inst = fc.case.instance
    scale = float(max(row_norms(X).max(), row_norms(fc.case.h(X)).max(), np.abs(fc.h(X)).max()))
    c1_tol = decomposition_tol(m, inst["depth"], inst["layer_alpha"], fc.d, fc.layers[0].k, inst["lipschitz"],
                               inst["inverse_lipschitz"], scale)
    root_growth = float(np.linalg.norm(flat_linear_root(fc.first_row, m), 2)) ** m
    return flat_composition_tol(c1_tol, m, fc.d, root_growth, scale)


def check_representation(fc: FlatCase, kind: str, m: int) -> None:
    schedule = make_schedule(kind, m, fc.case.rng(1))
    X, Z, flat_ratio = flat_composition(fc, schedule)
    instance = {**fc.instance, "schedule_kind": kind, "m": m, "schedule": schedule}
    tol = first_coordinate_tol(fc, m, X)
    error = float(np.abs(Z[:, 0] - fc.h(X)).max())
    evidence.check_allclose(CLAIM, instance, actual=Z[:, 0], desired=fc.h(X), rtol=0.0, atol=tol,
                            what="(R^m h_m o ... o h_1(x))_1 against h(x) on the box",
                            metrics={"first coordinate: max error / tolerance": error / tol})
    evidence.check_close(CLAIM, instance, error=flat_ratio, tol=1.0,
                         what="max_i max_{j >= 2} |(h_i(z))_j - z_j| / flat_coordinate_atol (flat layers)",
                         metrics={"flatness: max_i |(h_i(z))_{2:} - z_{2:}| / tolerance": flat_ratio})
    scale = float(row_norms(X).max())
    evidence.check_allclose(CLAIM, instance, actual=Z[:, 1:], desired=X[:, 1:], rtol=0.0,
                            atol=m * flat_coordinate_atol(scale), what="coordinates j >= 2 of the composition against x_j")
    evidence.record_metric(CLAIM, "largest m checked", m)


@given(fc=flat_scalar_maps(), kind=st.sampled_from(SCHEDULE_KINDS), m=st.sampled_from(DEPTHS))
@settings(max_examples=budget(6))
@example(fc=REFERENCE, kind="geometric", m=32)
@example(fc=make_flat_case(d=3, depth=2, width=2, seed=7, layer_alpha=0.8, b_scale=3.0, radius=2.0, scale=0.5),
         kind="random", m=16)
def test_first_coordinate_is_h_and_layers_are_flat(fc, kind, m):
    """h = e_1^T R^m h_m o ... o h_1 on the box, (h_i(z))_j = z_j for j >= 2 (statement, items (2)-(3))."""
    check_representation(fc, kind, m)


def test_linear_root_is_exact_and_shrinks_like_one_over_m():
    """R^m = L (matrix power) and ||R - I|| m -> ||w|| |log(1 + w_1)| / |w_1| on the reference map
    (statement, item (3)); the exact limit is the derived one, an implementation check of the formula."""
    row = REFERENCE.first_row
    L = np.eye(REFERENCE.d)
    L[0] = row
    w = row - np.eye(REFERENCE.d)[0]
    rows = []
    for m in (1, 4, 64, 1024):
        R = flat_linear_root(row, m)
        error = float(np.abs(np.linalg.matrix_power(R, m) - L).max())
        tol = flat_composition_tol(0.0, m, REFERENCE.d, float(np.linalg.norm(R, 2)) ** m, float(np.abs(L).max()))
        evidence.check_close(CLAIM, {**REFERENCE.instance, "m": m}, error=error, tol=tol, what="|R^m - L| (max entry)")
        rows.append([m, float(np.linalg.norm(R - np.eye(REFERENCE.d), 2)) * m])
    limit = float(np.linalg.norm(w) * abs(math.log1p(w[0]) / w[0]))
    evidence.record_table(CLAIM, "linear part: m ||R - I||_2 (limit ||w|| |log(1 + w_1)| / |w_1|)",
                          ["m", "m ||R - I||_2"], rows + [["limit", limit]])


# --- the rate --------------------------------------------------------------------------------

SCHEDULES = {"linear": linear_schedule, "geometric": geometric_schedule}

#: Effort of C1's estimator per depth: C1's 64 screened points, but one refined layer, one local start
#: and 32 pairs (C1: 2, 2, 64). On the reference map it reaches C1's default-effort value at every depth
#: of the grid, both schedules (to 4e-9 relative); 32 screened points miss an interior maximum by 6 %.
ESTIMATOR_EFFORT = {"screen": 64, "refine": 1, "starts": 1, "pairs": 32}


def flat_sweep(fc: FlatCase, schedule, grid=FLAT_DEPTH_GRID, *, split_linear: bool = True):
    """(e(m), lower(m), U(m), linear share, function evaluations): e(m) = max(lower(m), ||R - I||_2) with
    lower(m) the certified lower estimate of max_i ||h_i - Id||_L over C1's layers and U(m) its certified
    bound (C1's); with ``split_linear=False`` the linear part is kept as one layer L (a planted bug)."""
    es, lowers, us, linear_share, evaluations = [], [], [], [], 0
    eye = np.eye(fc.d)
    for m in grid:
        dec = NearIdentityDecomposition(fc.case.h, schedule(m))
        est, _ = estimate_max_layer_lipschitz(dec, radius=fc.case.radius, seed=fc.case.seed % 2**31, **ESTIMATOR_EFFORT)
        linear = float(np.linalg.norm(flat_linear_root(fc.first_row, m if split_linear else 1) - eye, 2))
        es.append(max(est.lower, linear))
        lowers.append(est.lower)
        us.append(float(dec.upper_bounds(fc.case.radius).max()))
        linear_share.append(linear >= est.lower)
        evaluations += est.effort["function evaluations"]
    return np.array(es), np.array(lowers), np.array(us), linear_share, evaluations


@functools.lru_cache(maxsize=None)
def reference_sweep(name: str):
    return flat_sweep(REFERENCE, SCHEDULES[name])


FIT_COLUMNS = ["map", "schedule", "exponent (m = 4..256)", "sup m e(m)", "sup e(m) m / log m",
               f"C({SETTLE_TO})/C({SETTLE_FROM}), log m/m", f"C({SETTLE_TO})/C({SETTLE_FROM}), 1/m",
               "depths where ||R - I|| is the max", "function evaluations"]


def check_rate(fc: FlatCase, name: str, sweep) -> None:
    """Sandwich e(m) <= U(m) and the settle check C(256)/C(32) <= RATE_SETTLE_FACTOR for log m / m
    (C1's check over the same factor 8 of depth); metrics and a row of the fit table."""
    es, lowers, us, linear_share, evaluations = sweep
    inst = fc.case.instance
    floor = c1_rate_measurable_floor(fc.d, fc.layers[0].k, len(fc.layers), inst["lipschitz"], inst["inverse_lipschitz"])
    instance = {**fc.instance, "schedule": name, "e(m)": es, "C1 layers: lower(m)": lowers, "C1 layers: U(m)": us,
                "rounding floor": floor}
    k = int(np.argmax(lowers / us))
    evidence.check_upper(CLAIM, {**instance, "check": f"sandwich at m={FLAT_DEPTH_GRID[k]}"}, lhs=lowers[k], rhs=us[k],
                         rtol=BOUND_RTOL, metrics={"max_m lower(m) / U(m) (C1 layers, certified sandwich)": lowers[k] / us[k]})
    if not float(es.min()) > floor:
        evidence.record_unmeasurable(CLAIM, {**instance, "check": "settle ratio"},
                                     reason="min_m e(m) at or below the rounding floor")
        return
    ratio_log = settle_ratio(FLAT_DEPTH_GRID, es, log_rate, m_from=SETTLE_FROM, m_to=SETTLE_TO)
    ratio_lin = settle_ratio(FLAT_DEPTH_GRID, es, linear_rate, m_from=SETTLE_FROM, m_to=SETTLE_TO)
    evidence.check_upper(CLAIM, {**instance, "check": f"C({SETTLE_TO})/C({SETTLE_FROM}), C = e m / log m"},
                         lhs=ratio_log, rhs=RATE_SETTLE_FACTOR, rtol=0.0)
    exponent = fitted_exponent(FLAT_DEPTH_GRID, es)
    for reduce in ("min", "max"):
        evidence.record_metric(CLAIM, f"fitted exponent of e(m), {name} ({reduce})", exponent, reduce=reduce)
    evidence.record_metric(CLAIM, f"sup_m e(m) m / log m, {name} (max over maps)",
                           float(rate_constants(FLAT_DEPTH_GRID, es, log_rate).max()))
    evidence.record_metric(CLAIM, "estimator effort: function evaluations (sum)", evaluations, reduce="sum")
    evidence.record_table(CLAIM, "rate fits per map and schedule (C1 layers and the linear root)", FIT_COLUMNS, [[
        repr(fc), name, round(exponent, 3), float(rate_constants(FLAT_DEPTH_GRID, es, linear_rate).max()),
        float(rate_constants(FLAT_DEPTH_GRID, es, log_rate).max()), round(ratio_log, 3), round(ratio_lin, 3),
        sum(linear_share), evaluations]])


def test_rate_table_and_plot_on_the_reference_map():
    rows, plot = [], {}
    for name in SCHEDULES:
        sweep = reference_sweep(name)
        check_rate(REFERENCE, name, sweep)
        es, lowers, us, linear_share, _ = sweep
        plot[name] = (list(FLAT_DEPTH_GRID), list(es))
        rows += [[name, m, e, lo, u, m * e, e * m / math.log(m), "R" if lin else "h_i"]
                 for m, e, lo, u, lin in zip(FLAT_DEPTH_GRID, es, lowers, us, linear_share)]
    evidence.record_table(CLAIM, "max(max_i ||h_i - Id||_L, ||R - I||) per depth (reference map)",
                          ["schedule", "m", "e(m)", "C1 layers: lower(m)", "C1 layers: U(m) (certified upper)", "m e(m)",
                           "e(m) m / log m", "attained by"], rows)
    evidence.record_series(CLAIM, "e(m) against m (reference map)", x_label="m", y_label="e(m)", curves=plot,
                           log_x=True, log_y=True)


@given(fc=flat_scalar_maps())
@settings(max_examples=budget(1))
def test_rate_on_random_flat_maps(fc):
    check_rate(fc, "geometric", flat_sweep(fc, geometric_schedule))


# --- sensitivity: planted bugs the checks must catch ------------------------------------------

def _caught_by_representation_check(fc: FlatCase, X, Z, flat_ratio, m: int) -> tuple[bool, str]:
    """Whether a check of ``check_representation`` reports a violation on this composition."""
    with evidence.scratch():
        first = raises_violation(evidence.check_allclose, CLAIM, fc.instance, actual=Z[:, 0], desired=fc.h(X),
                                 rtol=0.0, atol=first_coordinate_tol(fc, m, X))
        flat = raises_violation(evidence.check_close, CLAIM, fc.instance, error=flat_ratio, tol=1.0)
    return first or flat, (f"first coordinate error {float(np.abs(Z[:, 0] - fc.h(X)).max()):.3g}, "
                           f"flatness ratio {flat_ratio:.3g}")


def test_check_catches_a_dropped_linear_part():
    """Planted: the composition stops at h_m o ... o h_1 = H~ (the normalisation L forgotten)."""
    X, Z, ratio = flat_composition(REFERENCE, geometric_schedule(8), linear_layers=False)
    caught, detail = _caught_by_representation_check(REFERENCE, X, Z, ratio, 8)
    evidence.record_canary(CLAIM, "linear part L dropped", caught=caught, detail=detail)


def test_check_catches_a_first_order_root():
    """Planted: R = I + e_1 w^T / m (first order) in place of the exact root: R^m != L."""
    def naive(first_row, m):
        R = np.eye(len(first_row))
        R[0] += (np.asarray(first_row) - R[0]) / m
        return R
    X, Z, ratio = flat_composition(REFERENCE, geometric_schedule(32), root=naive)
    caught, detail = _caught_by_representation_check(REFERENCE, X, Z, ratio, 32)
    evidence.record_canary(CLAIM, "first-order root I + e_1 w^T/m", caught=caught, detail=detail)


def test_check_catches_a_non_flat_extension():
    """Planted wrong extension: H'(x) = (h(x), x_2 + 0.3 tanh(x_1)): an invertible extension, but its
    C1 layers move x_2, which the flatness check must see."""
    d = REFERENCE.d
    A = np.zeros((d, 1))
    A[1, 0] = 0.3
    B = np.zeros((1, d))
    B[0, 0] = 1.0
    bent = SmoothResidualMap(list(REFERENCE.layers) + [ResidualLayer(A, B, "tanh")])
    fc = FlatCase(MapCase(bent, REFERENCE.case.seed, REFERENCE.case.layer_alpha, REFERENCE.case.b_scale, 1.0), 1.0)
    _, _, ratio = flat_composition(fc, linear_schedule(8), linear_layers=False)
    with evidence.scratch():
        caught = raises_violation(evidence.check_close, CLAIM, REFERENCE.instance, error=ratio, tol=1.0)
    evidence.record_canary(CLAIM, "non-flat extension (x_2 + 0.3 tanh x_1)", caught=caught,
                           detail=f"flatness ratio {ratio:.3g}")


def test_check_catches_the_linear_part_as_one_layer():
    """Planted: L kept as one layer (not spread over m): e(m) >= ||L - I|| does not decay."""
    es = flat_sweep(REFERENCE, geometric_schedule, grid=(SETTLE_FROM, SETTLE_TO), split_linear=False)[0]
    ratio = settle_ratio((SETTLE_FROM, SETTLE_TO), es, log_rate, m_from=SETTLE_FROM, m_to=SETTLE_TO)
    evidence.record_canary(CLAIM, "linear part as one layer", caught=ratio > RATE_SETTLE_FACTOR,
                           detail=f"C({SETTLE_TO})/C({SETTLE_FROM}) = {ratio:.3g} (e = {es.tolist()})")


def test_check_catches_a_planted_faster_rate():
    """Planted: the rate 1/m^2 in place of log m / m (both schedules)."""
    for name in SCHEDULES:
        es = reference_sweep(name)[0]
        ratio = settle_ratio(FLAT_DEPTH_GRID, es, lambda m: m**-2.0, m_from=SETTLE_FROM, m_to=SETTLE_TO)
        evidence.record_canary(CLAIM, f"rate 1/m^2 in place of log m / m ({name})", caught=ratio > RATE_SETTLE_FACTOR,
                               detail=f"C({SETTLE_TO})/C({SETTLE_FROM}) = {ratio:.3g} for C = e m^2")


# --- negative control: a scalar map with a critical point (observation only) -------------------

#: h~(x) = x_1 + tanh(4 x_1)/2 - 2 tanh(x_1) + x_2 - tanh(x_2) after normalisation (J_0 = [[1, -1], [0, 1]]):
#: d_1 h~ = 1 + 2 sech^2(4 x_1) - 2 sech^2(x_1) < 0 for 0.24 < |x_1| < 0.88, d_2 h~ = tanh^2 x_2.
CRITICAL = MapCase(SmoothResidualMap([ResidualLayer([[0.5, -2.0, -1.0], [0.0, 0.0, 0.0]],
                                                    [[4.0, 0.0], [1.0, 0.0], [0.0, 1.0]], "tanh")]),
                   0, float("nan"), 4.0, 1.0)
CONTROL_DEPTHS = (4, 16, 64, 256)


def test_negative_control_a_critical_point():
    """Observation: the construction on the flat extension of a map with critical points (no
    bi-Lipschitz extension exists). Recorded: det DH = d_1 h~ on the box, the critical points, whether
    the implementation inverts, and max_i ||h_i - Id||_L against m. No pass/fail."""
    H = CRITICAL.h
    grid = np.stack(np.meshgrid(*[np.linspace(-1.0, 1.0, 81)] * 2), -1).reshape(-1, 2)
    dets = np.linalg.det(H.jacobians(grid))
    critical = np.array([[0.24, 0.0], [0.88, 0.0]])
    # d_1 h~ changes sign across each: a root in [0.2, 0.3] and [0.8, 0.95] by bisection on the exact Jacobian
    roots = []
    for lo, hi in ((0.2, 0.3), (0.8, 0.95)):
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.linalg.det(H.jacobian([mid, 0.0])) * np.linalg.det(H.jacobian([lo, 0.0])) > 0 else (lo, mid)
        roots.append(0.5 * (lo + hi))
    critical[:, 0] = roots
    gradients = H.jacobians(critical)[:, 0, :]
    try:
        NearIdentityDecomposition(H, linear_schedule(4)).compose(grid[:3])
        inverse = "composed (unexpected)"
    except ValueError as exc:
        inverse = f"refused: {str(exc)[:60]}..."
    # a fixed screen of the box (7 x 7 grid, corners included): every ||Dh_i(z) - I|| is a lower bound
    screen = grid.reshape(81, 81, 2)[::13, ::13].reshape(-1, 2)
    rows, e_min = [], math.inf
    for name, schedule in SCHEDULES.items():
        for m in CONTROL_DEPTHS:
            per_layer = NearIdentityDecomposition(H, schedule(m)).deviation_norms(screen).max(axis=1)
            e = float(per_layer.max())
            e_min = min(e_min, e)
            rows.append([name, m, "inf (singular Dh)" if e >= 1e300 else e, int(np.argmax(per_layer)) + 1,
                         int(np.sum(per_layer >= 1.0)), inverse])
    evidence.record_table(CLAIM, "negative control: critical point, h~ = x_1 + tanh(4x_1)/2 - 2 tanh x_1 + x_2 - tanh x_2",
                          ["schedule", "m", "max_i ||h_i - Id||_L (lower estimate, 7 x 7 grid)", "layer attaining",
                           "layers with an estimate >= 1", "inverse / compose"], rows)
    evidence.record_metric(CLAIM, "critical-point control: min det DH on the box (< 0: folds)", float(dets.min()))
    evidence.record_metric(CLAIM, "critical-point control: max det DH on the box", float(dets.max()))
    evidence.record_metric(CLAIM, "critical-point control: max |grad h~| at the located critical points",
                           float(np.abs(gradients).max()))
    evidence.record_metric(CLAIM, "critical-point control: min over m of max_i ||h_i - Id||_L (no decay)", e_min,
                           reduce="min")
