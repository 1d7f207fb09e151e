r"""Per-example evidence, recorded from inside ``@given`` tests.

Every conclusion of a claim test goes through this module, never a bare ``assert``:

* inequalities: :func:`check_upper`, :func:`check_lower`;
* numerical identities: :func:`check_close` (a scalar error against its tolerance) and
  :func:`check_allclose` (arrays, numpy's rule ``|actual - desired| <= atol + rtol |desired|``);
* exact facts: :func:`check_equal` (integers, strings, exact rationals, shapes),
  :func:`check_true` (a boolean property of the instance), :func:`check_symbolic` (a SymPy
  identity, decided by ``expand``/``cancel``);
* preconditions of a measurement that the data do not meet: :func:`record_unmeasurable`;
* the constants atlas: :func:`record_constant` (the best value an adversarial search found for
  a declared :class:`~resclaims.claims.engine.model.Constant`, with its instance, its
  reproduction and the search's effort, checked against the proven value).

Each call evaluates the claim's hypotheses on the instance (a missing key is an error, never a
default), records the instance, its slack and the node id of the running test in the
accumulator of that test, and raises :class:`Violation` if the hypotheses held and the
conclusion failed. The pytest plugin opens one accumulator per test (no fixture, so
no Hypothesis health-check trouble) and ships its compact, order-independent summary to the
xdist controller as ``user_properties``.

Slack conventions (all dimensionless, 0 = the bound is attained):

* upper bound ``lhs <= rhs``: ``(rhs - lhs) / |rhs|``;
* lower bound ``lhs >= rhs``: ``(lhs - rhs) / |rhs|``;
* identity ``err <= tol``: ``1 - err / tol`` (how much of the tolerance is unused).

One comparison rule, one-sided, as numpy's ``assert_allclose``: an upper bound is violated when
``lhs > rhs + atol + rtol * |rhs|``, a lower bound when ``lhs < rhs - atol - rtol * |rhs|`` (so
the tolerance always widens the accepted side, whatever the sign of ``rhs``); a slack a few
ulps below 0 is reported but is not a violation. Boolean and exact checks carry no slack
(``None``), and -1 when violated. A check may also pass
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

from .model import Claim, Constant, Instance, Truth

#: Arrays with at most this many entries are stored whole in reports (reproducible);
#: larger ones are summarized (shape, norm) and the instance must carry its seed.
MAX_STORED_ENTRIES = 256

_TINY = np.finfo(float).tiny

#: Digits of the mpmath re-check of a borderline violation, and its relative tolerance (far
#: above the re-check's own rounding, far below any real violation).
RECHECK_DIGITS = 50
RECHECK_RTOL = 1e-25


class Violation(AssertionError):
    """A conclusion failed on an instance satisfying every hypothesis (recorded before raising).

    A subclass of ``AssertionError`` so that pytest and Hypothesis treat it as a test failure
    (Hypothesis shrinks it); the judge reads the recorded violation, not the exception."""


class CanaryNotCaught(AssertionError):
    """A sensitivity check (planted bug, broken hypothesis) found nothing: the check is not
    shown able to fail. Recorded as an uncaught canary before raising."""


class ReproductionFailed(RuntimeError):
    """A counterexample's reproduction snippet does not run as printed."""


#: Metric counting the held instances of checks that passed ``held=`` (hypotheses of their own,
#: e.g. a lemma of the proof), so that the report shows how much of the evidence they are.
OWN_HYPOTHESES_METRIC = "held instances checked under hypotheses of their own (held=)"


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


def _order_key(slack: float, instance: Any, nodeid: str | None = None) -> tuple[float, str, str]:
    """Total order on (slack, instance, test) so that aggregation does not depend on run order."""
    return (slack, json.dumps(instance, sort_keys=True), nodeid or "")


def _counterexample_key(cx: Mapping) -> tuple[float, str, str]:
    return _order_key(cx["slack"], cx["instance"], cx.get("nodeid"))


@dataclass
class ClaimEvidence:
    """What one test (or, after merging, the whole run) saw for one claim."""

    generated: int = 0
    held: int = 0
    violations: int = 0
    worst_slack: float | None = None
    worst_instance: Any = None
    worst_nodeid: str | None = None
    counterexample: dict | None = None
    metrics: dict[str, dict] = field(default_factory=dict)
    canaries: dict[str, dict] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)
    series: dict[str, dict] = field(default_factory=dict)
    hypotheses: dict[str, dict] = field(default_factory=dict)  # name -> {"held": n, "edge": min distance}
    by_size: dict[str, float] = field(default_factory=dict)  # size -> worst slack at that size
    polished: dict | None = None  # the polishing of the worst instance (tightness.polish)
    constants: dict[str, dict] = field(default_factory=dict)  # name -> the best search record (atlas)

    def observe(self, instance: Any, held: bool, slack: float | None, violated: bool,
                nodeid: str | None = None) -> None:
        self.generated += 1
        if not held:
            return
        self.held += 1
        self.violations += int(violated)
        if slack is not None and (
            self.worst_slack is None
            or _order_key(slack, instance, nodeid) < _order_key(self.worst_slack, self.worst_instance, self.worst_nodeid)
        ):
            self.worst_slack, self.worst_instance, self.worst_nodeid = slack, instance, nodeid

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

    def metric(self, name: str, value: float, reduce: str, unit: str = "", nodeid: str | None = None) -> None:
        if reduce not in _REDUCERS:
            raise ValueError(f"reduce must be one of {sorted(_REDUCERS)}, got {reduce!r}")
        value = to_builtin(value)
        self._fold_metric(name, {"value": value, "reduce": reduce, "unit": unit, "count": 1,
                                 "nodeids": [nodeid] if nodeid else []})

    def _fold_metric(self, name: str, m: Mapping) -> None:
        mine = self.metrics.get(name)
        if mine is None:
            self.metrics[name] = {**m, "nodeids": list(m.get("nodeids", []))}
            return
        if mine["reduce"] != m["reduce"]:
            raise ValueError(f"metric {name!r} folded with {mine['reduce']!r} and {m['reduce']!r}")
        mine["value"] = _REDUCERS[m["reduce"]](mine["value"], m["value"])
        mine["count"] += m["count"]
        mine["nodeids"] = sorted(set(mine.get("nodeids", [])) | set(m.get("nodeids", [])))

    def merge(self, other: "ClaimEvidence") -> None:
        """Fold ``other`` into ``self``; commutative and associative."""
        self.generated += other.generated
        self.held += other.held
        self.violations += other.violations
        if other.worst_slack is not None and (
            self.worst_slack is None
            or _order_key(other.worst_slack, other.worst_instance, other.worst_nodeid)
            < _order_key(self.worst_slack, self.worst_instance, self.worst_nodeid)
        ):
            self.worst_slack, self.worst_instance = other.worst_slack, other.worst_instance
            self.worst_nodeid = other.worst_nodeid
        self.offer_counterexample(other.counterexample)
        for name, m in other.metrics.items():
            self._fold_metric(name, m)
        for name, c in other.canaries.items():
            mine = self.canaries.get(name)  # an uncaught record wins: one miss is a miss
            if mine is None or (mine["caught"], mine.get("nodeid") or "") > (c["caught"], c.get("nodeid") or ""):
                self.canaries[name] = dict(c)
        if other.polished is not None:
            self.polished = other.polished
        for name, h in other.hypotheses.items():
            mine = self.hypotheses.setdefault(name, {"held": 0, "edge": None})
            mine["held"] += h["held"]
            if h["edge"] is not None:
                mine["edge"] = h["edge"] if mine["edge"] is None else min(mine["edge"], h["edge"])
        for key, slack in other.by_size.items():
            self._size_min(key, slack)
        for name, record in other.constants.items():
            self.offer_constant(name, record)
        for name, t in other.tables.items():
            self.table(name, t["columns"], t["rows"], t.get("nodeids", []))
        for name, s in other.series.items():
            self.add_series(name, s)

    def offer_counterexample(self, cx: Mapping | None) -> None:
        """Keep the most violating counterexample (order-independent)."""
        if cx is not None and (self.counterexample is None
                               or _counterexample_key(cx) < _counterexample_key(self.counterexample)):
            self.counterexample = dict(cx)

    def offer_constant(self, name: str, record: Mapping) -> None:
        """Keep the extremal search record of constant ``name`` (the smallest value for a largest-valid
        constant, the largest for a smallest-valid one; ties by instance and test), and add up the
        effort of every search: commutative and associative."""
        record = dict(record)
        mine = self.constants.get(name)
        if mine is None:
            self.constants[name] = {**record, "effort": dict(record["effort"])}
            return
        if mine["truth"] != record["truth"]:
            raise ValueError(f"constant {name!r} recorded as {mine['truth']!r} and {record['truth']!r}")
        sign = 1.0 if record["truth"] == Truth.LARGEST_VALID.value else -1.0
        def key(r):
            return _order_key(sign * r["value"], r["instance"], r.get("nodeid"))
        effort = _add_effort(mine["effort"], record["effort"])
        if key(record) < key(mine):
            mine = self.constants[name] = {**record}
        mine["effort"] = effort

    def table(self, name: str, columns: list, rows: list, nodeids=()) -> None:
        columns, rows = to_builtin(list(columns)), to_builtin([list(r) for r in rows])
        if any(len(r) != len(columns) for r in rows):
            raise ValueError(f"table {name!r}: every row needs {len(columns)} cells")
        mine = self.tables.setdefault(name, {"columns": columns, "rows": [], "nodeids": []})
        if mine["columns"] != columns:
            raise ValueError(f"table {name!r}: columns {columns} differ from {mine['columns']}")
        mine["rows"] = sorted({json.dumps(r): r for r in mine["rows"] + rows}.values(), key=_row_key)
        mine["nodeids"] = sorted(set(mine.get("nodeids", [])) | {n for n in nodeids if n})

    def add_series(self, name: str, spec: Mapping) -> None:
        spec = to_builtin(dict(spec))
        axes = {k: v for k, v in spec.items() if k not in ("curves", "nodeids")}
        mine = self.series.setdefault(name, {**axes, "curves": {}, "nodeids": []})
        if {k: v for k, v in mine.items() if k not in ("curves", "nodeids")} != axes:
            raise ValueError(f"series {name!r}: axes differ between records")
        mine["nodeids"] = sorted(set(mine.get("nodeids", [])) | set(spec.get("nodeids", [])))
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


def _add_effort(a: Mapping, b: Mapping) -> dict:
    """Efforts of two searches of one constant: counts add, methods are listed once."""
    methods = sorted(set(a["methods"]) | set(b["methods"]))
    return {"methods": methods, "starts": a["starts"] + b["starts"],
            "evaluations": a["evaluations"] + b["evaluations"], "searches": a["searches"] + b["searches"]}


def _same(a: Any, b: Any) -> Any:
    if a != b:
        raise ValueError(f"metric with reduce='same' got two values: {a!r} != {b!r}")
    return a


_REDUCERS = {"max": max, "min": min, "sum": lambda a, b: a + b, "same": _same}


class Accumulator:
    """Evidence of the running test (``nodeid``), keyed by claim id."""

    def __init__(self, nodeid: str | None = None) -> None:
        self.nodeid = nodeid
        self.by_claim: dict[str, ClaimEvidence] = {}

    def __getitem__(self, claim_id: str) -> ClaimEvidence:
        return self.by_claim.setdefault(claim_id, ClaimEvidence())

    def payload(self) -> dict:
        return {cid: ev.to_json() for cid, ev in sorted(self.by_claim.items())}


_current: Accumulator | None = None


def begin_test(nodeid: str | None = None) -> Accumulator:
    """Open the accumulator of the test ``nodeid`` (called by the plugin)."""
    global _current
    _current = Accumulator(nodeid)
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
    saved = _current
    _current = Accumulator(saved.nodeid if saved is not None else None)
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
    slack: float | None,
    violated: bool,
    message: str,
    metrics: Mapping[str, float] | None,
    held: Mapping[str, bool] | None,
    size=None,
) -> float | None:
    own = held is not None
    held = claim.hypotheses_held(instance) if held is None else dict(held)
    all_held = all(held.values())
    stored = to_builtin(dict(instance))
    acc = _acc()
    ev = acc[claim.id]
    ev.observe(stored, all_held, slack, violated, acc.nodeid)
    if own and all_held:  # visible in the report: conclusions checked under hypotheses of their own
        ev.metric(OWN_HYPOTHESES_METRIC, 1, "sum", nodeid=acc.nodeid)
    ev.count_hypotheses(held, _edges(claim, instance, held))
    if all_held:
        if slack is not None:
            _target(claim, slack)
            if size is not None:
                ev.size_slack(size, slack)
        for name, value in (metrics or {}).items():
            ev.metric(name, value, "max", nodeid=acc.nodeid)
    if all_held and violated:
        ev.offer_counterexample({"instance": stored, "slack": -1.0 if slack is None else slack,
                                 "message": message, "nodeid": acc.nodeid})
        raise Violation(f"{claim.id} violated: {message}; instance={json.dumps(stored)}")
    return slack


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

    acc = _acc()
    ev = acc[claim.id]
    ev.metric(f"borderline: float violations re-checked at {RECHECK_DIGITS} digits", 1, "sum", nodeid=acc.nodeid)
    with mpmath.workdps(RECHECK_DIGITS):
        values = exact()
        if values is None:
            ev.metric("borderline: hypotheses fail in exact arithmetic", 1, "sum", nodeid=acc.nodeid)
            held = {**(held or claim.hypotheses_held(instance)), "hypotheses hold in exact arithmetic": False}
            return False, slack, held
        slack = float(slack_of(*values))
    confirmed = slack < -RECHECK_RTOL
    ev.metric(f"borderline: violations confirmed at {RECHECK_DIGITS} digits", int(confirmed), "sum", nodeid=acc.nodeid)
    return confirmed, slack, held


def _edges(claim: Claim, instance: Instance, held: Mapping[str, bool]) -> dict[str, float]:
    """Distances to the boundary of the hypotheses that define one and hold."""
    view = claim.view(instance)
    return {h.name: float(h.edge(view)) for h in claim.hypotheses if h.edge is not None and held.get(h.name)}


def _upper_slack(lhs, rhs):
    return (rhs - lhs) / max(abs(rhs), _TINY)


def _lower_slack(lhs, rhs):
    return (lhs - rhs) / max(abs(rhs), _TINY)


def _identity_slack(error, tol):
    return 1 - error / tol


def _tolerances(rtol: float, atol: float) -> None:
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol!r}, atol={atol!r}")


def exceeds(lhs: float, rhs: float, *, rtol: float, atol: float = 0.0) -> bool:
    """The one comparison rule of the suite: ``lhs`` is above the upper bound ``rhs`` beyond its
    tolerances, ``lhs > rhs + atol + rtol * |rhs|`` (a lower bound is violated when
    ``exceeds(rhs, lhs, ...)`` with the roles swapped, i.e. ``lhs < rhs - atol - rtol * |rhs|``).
    Tests that pick a candidate before checking it use this, so selection and check agree."""
    return lhs > rhs + atol + rtol * abs(rhs)


def hypotheses_fail(claim: Claim, instance: Instance) -> bool:
    """True if a hypothesis of ``claim`` fails on ``instance``; the instance is then counted as
    generated but not held. For checks whose conclusion cannot even be evaluated off-hypothesis."""
    held = claim.hypotheses_held(instance)
    if all(held.values()):
        return False
    acc = _acc()
    ev = acc[claim.id]
    ev.observe(to_builtin(dict(instance)), False, None, False, acc.nodeid)
    ev.count_hypotheses(held, _edges(claim, instance, held))
    return True


def record_unmeasurable(claim: Claim, instance: Instance, *, reason: str) -> None:
    """Count an instance on which the measurement is not defined, by a precondition computed
    from its data (e.g. layers within rounding of the identity, where no rate is measurable):
    generated, not held, and counted per ``reason`` in the metric ``not measurable: <reason>``.
    Use it instead of a guard that silently skips; the report shows how often it happened."""
    acc = _acc()
    ev = acc[claim.id]
    ev.observe(to_builtin(dict(instance)), False, None, False, acc.nodeid)
    ev.metric(f"not measurable: {reason}", 1, "sum", nodeid=acc.nodeid)


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
    """Record ``lhs <= rhs + atol + rtol * |rhs|`` on one instance; raise :class:`Violation` if
    the hypotheses held and it fails.

    ``metrics`` are folded with ``max`` over held instances. ``exact`` (optional) recomputes
    ``(lhs, rhs)`` in mpmath for the re-check of a float violation. ``size`` (optional, e.g. the
    depth L) buckets the worst slack by problem size, for the tightness trend of the report.
    ``held`` (every check takes it) replaces the claim's hypotheses by named truth values
    computed by the test, for a conclusion that needs fewer hypotheses than the claim (a lemma of
    its proof, a fact about a finding; ``{}``: unconditional); the report counts such instances
    apart (:data:`OWN_HYPOTHESES_METRIC`). Returns the normalized slack.
    """
    return _check_bound(claim, instance, lhs, rhs, rtol, atol, metrics, held, exact, size, upper=True)


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
    """Record ``lhs >= rhs - atol - rtol * |rhs|``; see :func:`check_upper`."""
    return _check_bound(claim, instance, lhs, rhs, rtol, atol, metrics, held, exact, size, upper=False)


def _check_bound(claim, instance, lhs, rhs, rtol, atol, metrics, held, exact, size, *, upper: bool) -> float:
    """The body of :func:`check_upper` and :func:`check_lower`: a lower bound is the upper bound of
    the negated sides (float negation is exact, so the rule is the same to the last bit)."""
    lhs, rhs = float(lhs), float(rhs)
    _require_finite(claim, lhs=lhs, rhs=rhs)
    _tolerances(rtol, atol)
    slack_of = _upper_slack if upper else _lower_slack
    violated = exceeds(lhs, rhs, rtol=rtol, atol=atol) if upper else exceeds(-lhs, -rhs, rtol=rtol, atol=atol)
    violated, slack, held = _settle(claim, instance, violated, slack_of(lhs, rhs), exact, slack_of, held)
    return _record(claim, instance, slack, violated, f"{lhs!r} {'>' if upper else '<'} {rhs!r}", metrics, held, size)


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


def check_allclose(
    claim: Claim,
    instance: Instance,
    *,
    actual,
    desired,
    rtol: float,
    atol: float = 0.0,
    what: str = "values",
    metrics: Mapping[str, float] | None = None,
    held: Mapping[str, bool] | None = None,
) -> float:
    """Record ``|actual - desired| <= atol + rtol * |desired|`` elementwise (numpy's rule);
    slack ``1 - max(|actual - desired| / (atol + rtol |desired|))``. Shapes must agree."""
    _tolerances(rtol, atol)
    actual, desired = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    if actual.shape != desired.shape:
        return _record(claim, instance, -1.0, True, f"{what}: shape {actual.shape} != {desired.shape}",
                       metrics, held)
    for name, values in (("actual", actual), ("desired", desired)):
        if not np.all(np.isfinite(values)):
            raise FloatingPointError(f"{claim.id}: {what}: {name} has non-finite entries; a check needs finite numbers")
    error = np.abs(actual - desired)
    allowed = atol + rtol * np.abs(desired)
    with np.errstate(divide="ignore", invalid="ignore"):
        used = np.where(error == 0, 0.0, error / allowed)
    worst = float(used.max()) if used.size else 0.0
    slack = 1.0 - worst if math.isfinite(worst) else -math.inf
    violated = bool(np.any(error > allowed))
    message = f"{what}: max |actual - desired| {float(error.max()) if error.size else 0.0:.3e} exceeds atol + rtol|desired|"
    return _record(claim, instance, max(slack, -1e300), violated, message, metrics, held)


def check_equal(
    claim: Claim,
    instance: Instance,
    *,
    actual,
    expected,
    what: str,
    metrics: Mapping[str, float] | None = None,
    held: Mapping[str, bool] | None = None,
) -> None:
    """Record an exact equality (integers, strings, exact rationals, shapes, integer arrays)."""
    if isinstance(actual, np.ndarray) or isinstance(expected, np.ndarray):
        equal = np.shape(actual) == np.shape(expected) and bool(np.all(np.asarray(actual) == np.asarray(expected)))
    else:
        equal = bool(actual == expected)
    _record(claim, instance, None, not equal, f"{what}: {to_builtin(actual)!r} != {to_builtin(expected)!r}",
            metrics, held)


def check_true(
    claim: Claim,
    instance: Instance,
    *,
    holds: bool,
    what: str,
    metrics: Mapping[str, float] | None = None,
    held: Mapping[str, bool] | None = None,
) -> None:
    """Record a boolean property of the instance (``what`` says which, in words)."""
    _record(claim, instance, None, not bool(holds), f"{what}: false", metrics, held)


def check_symbolic(
    claim: Claim,
    instance: Instance,
    *,
    lhs,
    rhs,
    what: str,
    held: Mapping[str, bool] | None = None,
) -> None:
    """Record a symbolic identity ``lhs == rhs`` (SymPy expressions or matrices), decided by
    ``expand`` and, for rational functions, ``cancel`` of the difference (never ``simplify``:
    its result depends on heuristics and time)."""
    import sympy

    difference = sympy.Matrix(lhs - rhs) if isinstance(lhs, sympy.MatrixBase) else sympy.Matrix([[lhs - rhs]])
    remainder = difference.applyfunc(lambda e: sympy.cancel(sympy.expand(e)))
    zero = all(entry == 0 for entry in remainder)
    nonzero = next((str(e) for e in remainder if e != 0), "")
    _record(claim, instance, None, not zero, f"{what}: the difference does not vanish ({nonzero[:200]})",
            None, held)


def _require_finite(claim: Claim, **values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise FloatingPointError(f"{claim.id}: {name} is {value!r}; a check needs finite numbers")


def record_metric(claim: Claim, name: str, value: float, *, reduce: str = "max", unit: str = "") -> None:
    """Record a measured quantity (rate, constant, residual); folded with ``reduce``."""
    acc = _acc()
    acc[claim.id].metric(name, value, reduce, unit, nodeid=acc.nodeid)


def record_table(claim: Claim, name: str, columns: list[str], rows: list[list]) -> None:
    """Record rows of a result table (e.g. a rate per depth); rows from all tests and workers
    are unioned and sorted, and the report renders the table under the claim."""
    acc = _acc()
    acc[claim.id].table(name, columns, rows, [acc.nodeid])


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
    acc = _acc()
    acc[claim.id].add_series(name, {"x_label": x_label, "y_label": y_label, "log_x": bool(log_x),
                                    "log_y": bool(log_y), "curves": points,
                                    "nodeids": [acc.nodeid] if acc.nodeid else []})


def run_reproduction(claim: Claim, snippet: str) -> None:
    """Execute a reproduction snippet exactly as the report prints it, in a fresh namespace."""
    _run_snippet(claim, snippet)


def _run_snippet(claim: Claim, snippet: str) -> dict:
    namespace = {"__name__": "__reproduction__"}
    try:
        exec(compile(snippet.strip() + "\n", f"<reproduction of {claim.id}>", "exec"), namespace)
    except Exception as exc:
        raise ReproductionFailed(f"{claim.id}: the reproduction snippet does not run as printed: "
                                 f"{type(exc).__name__}: {exc}") from exc
    return namespace


def record_counterexample(
    claim: Claim, instance: Instance, *, slack: float, message: str, reproduction: str
) -> None:
    """Record a counterexample to the statement *as written* (a refutation).

    ``reproduction`` is a self-contained Python snippet that shows the violation; it is run
    here, as printed (:func:`run_reproduction`), so a report never shows one that does not run.
    """
    run_reproduction(claim, reproduction)
    stored = to_builtin(dict(instance))
    acc = _acc()
    ev = acc[claim.id]
    ev.observe(stored, True, float(slack), True, acc.nodeid)
    ev.count_hypotheses({h.name: True for h in claim.hypotheses}, {})
    ev.offer_counterexample({"instance": stored, "slack": float(slack), "message": message,
                             "reproduction": reproduction, "nodeid": acc.nodeid})


def record_violation(claim: Claim, instance: Instance, *, slack: float) -> None:
    """Count a violation of a refuted-as-stated claim met during a random search, without
    making it the shown counterexample (that stays the minimal one recorded with
    :func:`record_counterexample`); the worst slack still reports the largest violation."""
    acc = _acc()
    ev = acc[claim.id]
    ev.observe(to_builtin(dict(instance)), True, float(slack), True, acc.nodeid)
    ev.count_hypotheses({h.name: True for h in claim.hypotheses}, {})


def record_canary(claim: Claim, name: str, *, caught: bool, detail: str = "") -> None:
    """Record a sensitivity check: a planted bug or broken hypothesis the search must catch.

    Raises :class:`CanaryNotCaught` if it was not caught (a check that cannot fail is a defect).
    """
    acc = _acc()
    acc[claim.id].canaries[name] = {"caught": bool(caught), "detail": detail, "nodeid": acc.nodeid}
    if not caught:
        raise CanaryNotCaught(f"{claim.id}: canary {name!r} was not caught: {detail}")


#: A reproduction snippet of an atlas row must recompute the recorded value to this relative
#: tolerance (it re-runs the same float computation; only summation order may differ).
REPRODUCTION_RTOL = 1e-9


def record_constant(
    claim: Claim,
    name: str,
    *,
    value: float,
    instance: Instance,
    reproduction: str,
    method: str,
    starts: int,
    evaluations: int,
    rtol: float,
) -> float:
    """Record what an adversarial search found for the declared constant ``name`` of ``claim``.

    ``value`` is the constant the extremal ``instance`` pins (for a largest-valid constant a
    failure at that value, for a smallest-valid one the value the instance needs);
    ``reproduction`` is a self-contained snippet that binds ``value`` by recomputing it from the
    instance: it is run here as printed and must agree to :data:`REPRODUCTION_RTOL`. ``method``,
    ``starts`` and ``evaluations`` state the effort (an optimizer over instances, e.g.
    ``"Nelder-Mead"``, from ``starts`` starting points, ``evaluations`` objective evaluations in
    all). The value is checked against the proven one: a search that beats the proof (a failure
    below a largest-valid proven constant, an instance needing more than a smallest-valid one)
    is a :class:`Violation` of the claim, within ``rtol``. Returns the room (1 = tight).
    """
    constant: Constant = claim.constant(name)
    value = float(value)
    _require_finite(claim, value=value)
    if starts < 1 or evaluations < starts:
        raise ValueError(f"{claim.id}: constant {name!r}: effort needs starts >= 1 and evaluations >= starts, "
                         f"got starts={starts!r}, evaluations={evaluations!r}")
    namespace = _run_snippet(claim, reproduction)
    if "value" not in namespace:
        raise ReproductionFailed(f"{claim.id}: constant {name!r}: the reproduction snippet binds no `value`")
    again = float(namespace["value"])
    if not abs(again - value) <= REPRODUCTION_RTOL * abs(value):
        raise ReproductionFailed(f"{claim.id}: constant {name!r}: the reproduction gives value={again!r}, "
                                 f"the search recorded {value!r}")
    acc = _acc()
    ev = acc[claim.id]
    stored = to_builtin(dict(instance))
    ev.offer_constant(name, {"truth": constant.truth.value, "value": value, "instance": stored,
                             "reproduction": reproduction, "nodeid": acc.nodeid,
                             "effort": {"methods": [method], "starts": int(starts),
                                        "evaluations": int(evaluations), "searches": 1}})
    ev.metric(constant.metric, value, "min" if constant.truth is Truth.LARGEST_VALID else "max",
              nodeid=acc.nodeid)
    if constant.proven is not None:
        # A failure below a largest-valid proven value, or an instance needing more than a
        # smallest-valid one, contradicts the proof. Recorded without a slack: the atlas shows the
        # room, and the claim's worst slack and extremal instance stay those of its conclusion.
        _tolerances(rtol, 0.0)
        proven = constant.proven
        beaten = (exceeds(proven, value, rtol=rtol) if constant.truth is Truth.LARGEST_VALID
                  else exceeds(value, proven, rtol=rtol))
        _record(claim, {**stored, "constant": name, "found": value, "proven": proven}, None, beaten,
                f"the search for {name} found {value!r}, beyond the proven {proven!r} ({constant.truth.value})",
                None, {f"the search instance of {name} (the proof's claim on it)": True})
    return constant.room(value)
