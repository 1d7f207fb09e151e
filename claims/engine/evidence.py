r"""Per-example evidence, recorded from inside ``@given`` tests.

A test calls :func:`check_upper`, :func:`check_lower` or :func:`check_close` once per
example. Each call evaluates the claim's hypotheses on the instance, computes a signed
*normalized slack* (negative = the conclusion is violated), records it in the accumulator of
the running test, and raises ``AssertionError`` if the hypotheses held and the conclusion
failed beyond tolerance. The pytest plugin opens one accumulator per test (no fixture, so
no Hypothesis health-check trouble) and ships its compact, order-independent summary to the
xdist controller as ``user_properties``.

Slack conventions (all dimensionless, 0 = the bound is attained):

* upper bound ``lhs <= rhs``: ``(rhs - lhs) / |rhs|``;
* lower bound ``lhs >= rhs``: ``(lhs - rhs) / |rhs|``;
* identity ``err <= tol``: ``1 - err / tol`` (how much of the tolerance is unused).

A violation is decided one-sidedly with tolerances, ``lhs > rhs (1 + rtol) + atol``, so a
slack a few ulps below 0 is reported but is not a violation. A check may also pass
``exact=``, a function recomputing ``(lhs, rhs)`` on the same (float) instance in high
precision: a float violation is then re-checked at :data:`RECHECK_DIGITS` digits with mpmath
before it is called one, and the metrics count how many were cleared and confirmed.
"""
from __future__ import annotations

import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from .model import Claim, Instance

#: Arrays with at most this many entries are stored whole in reports (reproducible);
#: larger ones are summarized (shape, norm) and the instance must carry its seed.
MAX_STORED_ENTRIES = 256

_TINY = np.finfo(float).tiny

#: Digits of the mpmath re-check of a borderline violation, and its relative tolerance (far
#: above the re-check's own rounding, far below any real violation).
RECHECK_DIGITS = 50
RECHECK_RTOL = 1e-25


def to_builtin(value: Any) -> Any:
    """Convert numpy scalars/arrays (recursively) to JSON-safe builtins.

    numpy objects in xdist payloads crash workers, and floats must survive a JSON round trip
    exactly (``repr`` of a Python float does).
    """
    if isinstance(value, Mapping):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.size <= MAX_STORED_ENTRIES:
            return to_builtin(value.tolist())
        return {
            "shape": list(value.shape),
            "fro_norm": float(np.linalg.norm(value)) if np.isrealobj(value) else None,
        }
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else repr(value)
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def _order_key(slack: float, instance: Any) -> tuple[float, str]:
    """Total order on (slack, instance) so that aggregation does not depend on run order."""
    return (slack, json.dumps(instance, sort_keys=True))


@dataclass
class ClaimEvidence:
    """What one test (or, after merging, the whole run) saw for one claim."""

    generated: int = 0
    held: int = 0
    violations: int = 0
    worst_slack: float | None = None
    worst_instance: Any = None
    counterexample: dict | None = None
    metrics: dict[str, dict] = field(default_factory=dict)
    canaries: dict[str, dict] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)
    series: dict[str, dict] = field(default_factory=dict)
    hypotheses: dict[str, dict] = field(default_factory=dict)  # name -> {"held": n, "edge": min distance}
    by_size: dict[str, float] = field(default_factory=dict)  # size -> worst slack at that size

    def observe(self, instance: Any, held: bool, slack: float | None, violated: bool) -> None:
        self.generated += 1
        if not held:
            return
        self.held += 1
        self.violations += int(violated)
        if slack is not None and (
            self.worst_slack is None
            or _order_key(slack, instance) < _order_key(self.worst_slack, self.worst_instance)
        ):
            self.worst_slack, self.worst_instance = slack, instance

    def count_hypotheses(self, held: Mapping[str, bool], edges: Mapping[str, float]) -> None:
        for name, ok in held.items():
            entry = self.hypotheses.setdefault(name, {"held": 0, "edge": None})
            entry["held"] += int(ok)
            if ok and name in edges and math.isfinite(edges[name]):
                entry["edge"] = edges[name] if entry["edge"] is None else min(entry["edge"], edges[name])

    def size_slack(self, size, slack: float) -> None:
        """Worst slack per size bucket: sizes grouped by powers of two (1, 2-3, 4-7, ...)."""
        self._size_min(str(2 ** int(math.log2(size))) if size >= 1 else str(size), slack)

    def _size_min(self, key: str, slack: float) -> None:
        self.by_size[key] = slack if key not in self.by_size else min(self.by_size[key], slack)

    def metric(self, name: str, value: float, reduce: str, unit: str = "") -> None:
        if reduce not in _REDUCERS:
            raise ValueError(f"reduce must be one of {sorted(_REDUCERS)}, got {reduce!r}")
        old = self.metrics.get(name)
        value = to_builtin(value)
        if old is None:
            self.metrics[name] = {"value": value, "reduce": reduce, "unit": unit, "count": 1}
        else:
            old["value"] = _REDUCERS[reduce](old["value"], value)
            old["count"] += 1

    def merge(self, other: "ClaimEvidence") -> None:
        """Fold ``other`` into ``self``; commutative and associative."""
        self.generated += other.generated
        self.held += other.held
        self.violations += other.violations
        if other.worst_slack is not None and (
            self.worst_slack is None
            or _order_key(other.worst_slack, other.worst_instance)
            < _order_key(self.worst_slack, self.worst_instance)
        ):
            self.worst_slack, self.worst_instance = other.worst_slack, other.worst_instance
        if other.counterexample is not None and (
            self.counterexample is None
            or _order_key(other.counterexample["slack"], other.counterexample["instance"])
            < _order_key(self.counterexample["slack"], self.counterexample["instance"])
        ):
            self.counterexample = other.counterexample
        for name, m in other.metrics.items():
            if name in self.metrics:
                mine = self.metrics[name]
                mine["value"] = _REDUCERS[m["reduce"]](mine["value"], m["value"])
                mine["count"] += m["count"]
            else:
                self.metrics[name] = dict(m)
        for name, c in other.canaries.items():
            self.canaries.setdefault(name, dict(c))
        for name, h in other.hypotheses.items():
            mine = self.hypotheses.setdefault(name, {"held": 0, "edge": None})
            mine["held"] += h["held"]
            if h["edge"] is not None:
                mine["edge"] = h["edge"] if mine["edge"] is None else min(mine["edge"], h["edge"])
        for key, slack in other.by_size.items():
            self._size_min(key, slack)
        for name, t in other.tables.items():
            self.table(name, t["columns"], t["rows"])
        for name, s in other.series.items():
            self.add_series(name, s)

    def table(self, name: str, columns: list, rows: list) -> None:
        columns, rows = to_builtin(list(columns)), to_builtin([list(r) for r in rows])
        if any(len(r) != len(columns) for r in rows):
            raise ValueError(f"table {name!r}: every row needs {len(columns)} cells")
        mine = self.tables.setdefault(name, {"columns": columns, "rows": []})
        if mine["columns"] != columns:
            raise ValueError(f"table {name!r}: columns {columns} differ from {mine['columns']}")
        mine["rows"] = sorted({json.dumps(r): r for r in mine["rows"] + rows}.values(), key=_row_key)

    def add_series(self, name: str, spec: Mapping) -> None:
        spec = to_builtin(dict(spec))
        mine = self.series.setdefault(name, {**spec, "curves": {}})
        if {k: v for k, v in mine.items() if k != "curves"} != {k: v for k, v in spec.items() if k != "curves"}:
            raise ValueError(f"series {name!r}: axes differ between records")
        for label, points in spec["curves"].items():
            merged = {json.dumps(p): p for p in mine["curves"].get(label, []) + [list(p) for p in points]}
            mine["curves"][label] = sorted(merged.values())
        mine["curves"] = dict(sorted(mine["curves"].items()))

    def to_json(self) -> dict:
        return to_builtin(self.__dict__)

    @classmethod
    def from_json(cls, data: Mapping) -> "ClaimEvidence":
        """Read a payload, tolerating missing keys (a crashed worker's report has none)."""
        ev = cls()
        for key in cls.__dataclass_fields__:
            if key in data:
                setattr(ev, key, data[key])
        return ev


def _row_key(row: list) -> list:
    """Sort rows numerically where cells are numbers, else by text (order-independent merge)."""
    return [(0, c, "") if isinstance(c, (int, float)) and not isinstance(c, bool) else (1, 0, str(c)) for c in row]


def _same(a: Any, b: Any) -> Any:
    if a != b:
        raise ValueError(f"metric with reduce='same' got two values: {a!r} != {b!r}")
    return a


_REDUCERS = {"max": max, "min": min, "sum": lambda a, b: a + b, "same": _same}


class Accumulator:
    """Evidence of the running test, keyed by claim id."""

    def __init__(self) -> None:
        self.by_claim: dict[str, ClaimEvidence] = {}

    def __getitem__(self, claim_id: str) -> ClaimEvidence:
        return self.by_claim.setdefault(claim_id, ClaimEvidence())

    def payload(self) -> dict:
        return {cid: ev.to_json() for cid, ev in sorted(self.by_claim.items())}


_current: Accumulator | None = None


def begin_test() -> Accumulator:
    """Open the accumulator of a test (called by the plugin)."""
    global _current
    _current = Accumulator()
    return _current


def end_test() -> Accumulator | None:
    """Close and return the accumulator of the test (called by the plugin)."""
    global _current
    acc, _current = _current, None
    return acc


@contextmanager
def scratch() -> Iterator[Accumulator]:
    """Record into a throwaway accumulator: for sensitivity searches that run a claim's check
    on planted bugs, whose violations must not count against the claim."""
    global _current
    saved, _current = _current, Accumulator()
    try:
        yield _current
    finally:
        _current = saved


def _acc() -> Accumulator:
    if _current is None:
        # Outside the plugin (e.g. a test module run as a script): keep a throwaway one.
        return begin_test()
    return _current


def _target(claim: Claim, slack: float) -> None:
    """Steer Hypothesis toward the edge of the bound (only where a test is running)."""
    try:
        from hypothesis import target
        from hypothesis.control import currently_in_test_context

        if currently_in_test_context() and math.isfinite(slack):
            target(-slack, label=f"{claim.id}: -slack")
    except Exception:  # target() may be called once per label per example
        pass


def _record(
    claim: Claim,
    instance: Instance,
    slack: float,
    violated: bool,
    message: str,
    metrics: Mapping[str, float] | None,
    held: Mapping[str, bool] | None,
    size=None,
) -> float:
    held = claim.hypotheses_held(instance) if held is None else dict(held)
    all_held = all(held.values())
    stored = to_builtin(dict(instance))
    ev = _acc()[claim.id]
    ev.observe(stored, all_held, float(slack), violated)
    ev.count_hypotheses(held, _edges(claim, instance, held))
    if all_held:
        _target(claim, float(slack))
        if size is not None:
            ev.size_slack(size, float(slack))
        for name, value in (metrics or {}).items():
            ev.metric(name, value, "max")
    if all_held and violated:
        ev.counterexample = {"instance": stored, "slack": float(slack), "message": message}
        raise AssertionError(f"{claim.id} violated: {message}; instance={stored}")
    return float(slack)


def _settle(claim: Claim, instance: Instance, violated: bool, slack: float, exact, slack_of, held):
    """Re-check a float violation with ``exact() -> (lhs, rhs)`` at RECHECK_DIGITS digits.

    ``slack_of(lhs, rhs)`` is the check's slack formula; ``exact`` returns ``None`` when a
    hypothesis fails in exact arithmetic (the float instance only seemed to satisfy it), and
    the instance is then not counted as held. Returns ``(violated, slack, held)``, with the
    high-precision slack in place of the float one, which rounding made wrong.
    """
    if not violated or exact is None:
        return violated, slack, held
    import mpmath

    ev = _acc()[claim.id]
    ev.metric(f"borderline: float violations re-checked at {RECHECK_DIGITS} digits", 1, "sum")
    with mpmath.workdps(RECHECK_DIGITS):
        values = exact()
        if values is None:
            ev.metric("borderline: hypotheses fail in exact arithmetic", 1, "sum")
            held = {**(held or claim.hypotheses_held(instance)), "hypotheses hold in exact arithmetic": False}
            return False, slack, held
        slack = float(slack_of(*values))
    confirmed = slack < -RECHECK_RTOL
    ev.metric(f"borderline: violations confirmed at {RECHECK_DIGITS} digits", int(confirmed), "sum")
    return confirmed, slack, held


def _edges(claim: Claim, instance: Instance, held: Mapping[str, bool]) -> dict[str, float]:
    """Distances to the boundary of the hypotheses that define one and hold."""
    return {h.name: float(h.edge(instance)) for h in claim.hypotheses if h.edge is not None and held.get(h.name)}


def _upper_slack(lhs, rhs):
    return (rhs - lhs) / max(abs(rhs), _TINY)


def _lower_slack(lhs, rhs):
    return (lhs - rhs) / max(abs(rhs), _TINY)


def _identity_slack(error, tol):
    return 1 - error / tol


def hypotheses_fail(claim: Claim, instance: Instance) -> bool:
    """True if a hypothesis of ``claim`` fails on ``instance``; the instance is then counted as
    generated but not held. For checks whose conclusion cannot even be evaluated off-hypothesis."""
    held = claim.hypotheses_held(instance)
    if all(held.values()):
        return False
    ev = _acc()[claim.id]
    ev.observe(to_builtin(dict(instance)), False, None, False)
    ev.count_hypotheses(held, _edges(claim, instance, held))
    return True


def check_upper(
    claim: Claim,
    instance: Instance,
    *,
    lhs: float,
    rhs: float,
    rtol: float,
    atol: float = 0.0,
    metrics: Mapping[str, float] | None = None,
    held: Mapping[str, bool] | None = None,
    exact: Callable[[], tuple[Any, Any]] | None = None,
    size=None,
) -> float:
    """Record ``lhs <= rhs (1 + rtol) + atol`` on one instance; raise if hypotheses held and it fails.

    ``metrics`` are folded with ``max`` over held instances. ``exact`` (optional) recomputes
    ``(lhs, rhs)`` in mpmath for the re-check of a float violation. ``size`` (optional, e.g. the
    depth L) buckets the worst slack by problem size, for the tightness trend of the report.
    Returns the normalized slack.
    """
    lhs, rhs = float(lhs), float(rhs)
    _require_finite(claim, lhs=lhs, rhs=rhs)
    slack = _upper_slack(lhs, rhs)
    violated = lhs > rhs * (1 + rtol) + atol
    violated, slack, held = _settle(claim, instance, violated, slack, exact, _upper_slack, held)
    return _record(claim, instance, slack, violated, f"{lhs!r} > {rhs!r}", metrics, held, size)


def check_lower(
    claim: Claim,
    instance: Instance,
    *,
    lhs: float,
    rhs: float,
    rtol: float,
    atol: float = 0.0,
    metrics: Mapping[str, float] | None = None,
    held: Mapping[str, bool] | None = None,
    exact: Callable[[], tuple[Any, Any]] | None = None,
    size=None,
) -> float:
    """Record ``lhs >= rhs (1 - rtol) - atol``; see :func:`check_upper`."""
    lhs, rhs = float(lhs), float(rhs)
    _require_finite(claim, lhs=lhs, rhs=rhs)
    slack = _lower_slack(lhs, rhs)
    violated = lhs < rhs * (1 - rtol) - atol
    violated, slack, held = _settle(claim, instance, violated, slack, exact, _lower_slack, held)
    return _record(claim, instance, slack, violated, f"{lhs!r} < {rhs!r}", metrics, held, size)


def check_close(
    claim: Claim,
    instance: Instance,
    *,
    error: float,
    tol: float,
    what: str = "error",
    metrics: Mapping[str, float] | None = None,
    held: Mapping[str, bool] | None = None,
    exact: Callable[[], tuple[Any, Any]] | None = None,
    size=None,
) -> float:
    """Record an identity: ``error <= tol``; slack ``1 - error/tol``. ``exact`` recomputes
    ``(error, tol)`` in high precision for the re-check of a float violation."""
    error = float(error)
    _require_finite(claim, error=error)
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    slack = _identity_slack(error, tol)
    violated = error > tol
    violated, slack, held = _settle(claim, instance, violated, slack, exact, _identity_slack, held)
    return _record(claim, instance, slack, violated, f"{what} {error:.3e} > tol {tol:.3e}", metrics, held, size)


def _require_finite(claim: Claim, **values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise FloatingPointError(f"{claim.id}: {name} is {value!r}; a check needs finite numbers")


def record_metric(claim: Claim, name: str, value: float, *, reduce: str = "max", unit: str = "") -> None:
    """Record a measured quantity (rate, constant, residual); folded with ``reduce``."""
    _acc()[claim.id].metric(name, value, reduce, unit)


def record_table(claim: Claim, name: str, columns: list[str], rows: list[list]) -> None:
    """Record rows of a result table (e.g. a rate per depth); rows from all tests and workers
    are unioned and sorted, and the report renders the table under the claim."""
    _acc()[claim.id].table(name, columns, rows)


def record_series(
    claim: Claim,
    name: str,
    *,
    x_label: str,
    y_label: str,
    curves: Mapping[str, tuple[Any, Any]],
    log_x: bool = False,
    log_y: bool = False,
) -> None:
    """Record curves ``{label: (xs, ys)}`` for a figure (convergence curves, rate fits).

    The report draws one PNG per series next to the Markdown (when matplotlib is installed)
    and links it; the points are kept in the JSON either way.
    """
    points = {}
    for label, (xs, ys) in curves.items():
        xs, ys = np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel()
        if xs.shape != ys.shape:
            raise ValueError(f"series {name!r}, curve {label!r}: xs and ys differ in length")
        points[str(label)] = [[float(x), float(y)] for x, y in zip(xs, ys)]
    _acc()[claim.id].add_series(name, {"x_label": x_label, "y_label": y_label, "log_x": bool(log_x),
                                       "log_y": bool(log_y), "curves": points})


def record_counterexample(
    claim: Claim, instance: Instance, *, slack: float, message: str, reproduction: str
) -> None:
    """Record a counterexample to the statement *as written* (a refutation).

    ``reproduction`` is a self-contained Python snippet that shows the violation.
    """
    stored = to_builtin(dict(instance))
    ev = _acc()[claim.id]
    ev.observe(stored, True, float(slack), True)
    ev.count_hypotheses({h.name: True for h in claim.hypotheses}, {})
    candidate = {"instance": stored, "slack": float(slack), "message": message, "reproduction": reproduction}
    if ev.counterexample is None or _order_key(slack, stored) < _order_key(
        ev.counterexample["slack"], ev.counterexample["instance"]
    ):
        ev.counterexample = candidate


def record_violation(claim: Claim, instance: Instance, *, slack: float) -> None:
    """Count a violation of a refuted-as-stated claim met during a random search, without
    making it the shown counterexample (that stays the minimal one recorded with
    :func:`record_counterexample`); the worst slack still reports the largest violation."""
    ev = _acc()[claim.id]
    ev.observe(to_builtin(dict(instance)), True, float(slack), True)
    ev.count_hypotheses({h.name: True for h in claim.hypotheses}, {})


def record_canary(claim: Claim, name: str, *, caught: bool, detail: str = "") -> None:
    """Record a sensitivity check: a planted bug or broken hypothesis the search must catch.

    Raises ``AssertionError`` if it was not caught (a check that cannot fail is a defect).
    """
    _acc()[claim.id].canaries[name] = {"caught": bool(caught), "detail": detail}
    if not caught:
        raise AssertionError(f"{claim.id}: canary {name!r} was not caught: {detail}")
