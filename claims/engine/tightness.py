"""Polishing: after the randomized search, push the worst instance of each inequality toward
the bound with a local optimizer, and report the tightest ratio found.

A claim's test module opts in with ``POLISH = Polish(check, args_of, free)``:

* ``check(*args) -> slack`` is the test's own check (it records through ``evidence``);
* ``args_of(instance) -> args`` rebuilds its arguments from a stored instance (the JSON form
  of the instance the check recorded, arrays as nested lists);
* ``free`` names the instance's float entries the optimizer may move.

:func:`polish` minimizes the recorded slack over the free entries with Nelder–Mead (scipy)
from the worst instance and from a few perturbations of it, inside ``evidence.scratch()``
so nothing counts against the claim; an instance whose hypotheses fail scores +inf. A
polished instance that *violates* the bound is a finding, reported as such.
``resclaims tightness`` runs it on a report (``resclaims nightly`` does so after each night).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import evidence, registry

#: Objective evaluations per polish start, and starts (the worst instance + perturbations).
MAX_EVALUATIONS = 400
STARTS = 3


@dataclass(frozen=True)
class Polish:
    check: Callable[..., Any]
    args_of: Callable[[dict], tuple]
    free: tuple[str, ...]


def _evaluate(claim, spec: Polish, instance: dict) -> tuple[float, bool]:
    """(slack, violated) of the check on ``instance``; (+inf, False) off the hypotheses."""
    with evidence.scratch() as acc:
        try:
            spec.check(*spec.args_of(instance))
        except evidence.Violation:
            pass
        except (ValueError, FloatingPointError, np.linalg.LinAlgError, ZeroDivisionError, OverflowError):
            return math.inf, False
    ev = acc[claim.id]
    if ev.held == 0 or ev.worst_slack is None or not math.isfinite(ev.worst_slack):
        return math.inf, False
    return ev.worst_slack, ev.violations > 0


def polish(claim, spec: Polish, instance: dict, *, seed: int = 0) -> dict:
    """Minimize the slack from ``instance``; returns the best slack, its instance and the effort."""
    import scipy.optimize

    shapes = [np.shape(instance[k]) for k in spec.free]
    sizes = [int(np.prod(s)) for s in shapes]
    x0 = np.concatenate([np.ravel(np.asarray(instance[k], dtype=float)) for k in spec.free])

    def unpack(x):
        out, at = dict(instance), 0
        for k, shape, n in zip(spec.free, shapes, sizes):
            value = x[at:at + n].reshape(shape)
            out[k] = float(value) if shape == () else value
            at += n
        return out

    start_slack, _ = _evaluate(claim, spec, instance)
    best = {"slack": start_slack, "x": x0, "violated": False}
    evaluations = 0

    def objective(x):
        nonlocal evaluations
        evaluations += 1
        slack, violated = _evaluate(claim, spec, unpack(x))
        if slack < best["slack"]:
            best.update(slack=slack, x=x.copy(), violated=violated)
        return slack if math.isfinite(slack) else 1e300

    rng = np.random.default_rng(seed)
    for start in range(STARTS):
        x = x0 if start == 0 else x0 * (1 + 0.05 * rng.standard_normal(x0.shape)) + 0.01 * rng.standard_normal(x0.shape)
        scipy.optimize.minimize(objective, x, method="Nelder-Mead",
                                options={"maxfev": MAX_EVALUATIONS, "xatol": 1e-12, "fatol": 1e-14})
    return {"start_slack": start_slack, "slack": best["slack"], "violated": best["violated"],
            "instance": evidence.to_builtin(unpack(best["x"])), "evaluations": evaluations,
            "parameters": int(x0.size)}


def record_polished(claim, spec: Polish, result: dict, nodeid: str) -> evidence.ClaimEvidence:
    """The polished instance re-checked for real (not in scratch), as evidence of the test module
    that defines ``POLISH``: a polished violation is recorded like any other violation."""
    with evidence.scratch() as acc:
        acc.nodeid = nodeid
        try:
            spec.check(*spec.args_of(result["instance"]))
        except evidence.Violation:
            pass
    ev = acc[claim.id]
    ev.polished = {k: v for k, v in result.items()}
    return ev


def _stored_whole(instance: dict, free: tuple[str, ...]) -> bool:
    """Arrays larger than MAX_STORED_ENTRIES are summarized in reports and cannot be polished."""
    return all(k in instance and not isinstance(instance[k], dict) for k in free)


def polish_report(report_json: Path, specs: dict[str, tuple[Polish, str]], root: Path, *, echo=print) -> int:
    """Polish every verified claim of a report that has a spec, add the results to its evidence,
    let the judge decide again and rewrite the report. Returns 1 when a polished instance
    violates its bound (the claim is then refuted), else 0.

    ``specs`` maps claim ids to ``(POLISH, node id of the module that defines it)``.
    """
    from . import report

    doc = json.loads(report_json.read_text())
    claims = registry.all_claims()
    runs, found_violation = [], False
    for entry in doc["claims"]:
        claim = claims[entry["id"]]
        run = report.run_from_json(claim, entry)
        runs.append(run)
        spec, nodeid = specs.get(claim.id, (None, None))
        if spec is None or entry["status"] != "verified" or not entry["worst_instance"]:
            continue
        if not _stored_whole(entry["worst_instance"], spec.free):
            run.evidence.polished = {"skipped": "worst instance too large to be stored whole"}
            continue
        result = polish(claim, spec, entry["worst_instance"])
        run.evidence.merge(record_polished(claim, spec, result, f"{nodeid}::POLISH"))
        found_violation |= result["violated"]
        echo(f"{claim.id}: slack {result['start_slack']:.4g} -> {result['slack']:.4g} after "
             f"{result['evaluations']} evaluations over {result['parameters']} parameters"
             + ("  VIOLATION: the claim is refuted" if result["violated"] else ""))
    stem = report_json.stem
    report.write_reports(runs, doc["run"], report_json.parent, stem, root=root)
    return 1 if found_violation else 0


class PolishSession:
    """pytest plugin (``--resclaims-polish REPORT_JSON``, with ``--collect-only``): reads ``POLISH``
    from the test modules pytest collected and polishes the report's worst instances."""

    def __init__(self, config) -> None:
        self.config = config
        self.status = 0
        self.lines: list[str] = []  # collection runs under pytest's output capture: shown at the end

    def pytest_collection_finish(self, session) -> None:
        specs = {}
        for item in session.items:
            module = getattr(item, "module", None)
            spec = getattr(module, "POLISH", None)
            claim_id = Path(str(getattr(module, "__file__", ""))).stem.removeprefix("test_")
            if isinstance(spec, Polish) and claim_id in registry.all_claims():
                specs[claim_id] = (spec, item.nodeid.split("::", 1)[0])
        report_json = Path(self.config.getoption("resclaims_polish")).resolve()
        self.status = polish_report(report_json, specs, Path(self.config.rootpath), echo=self.lines.append)

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if self.status:
            session.exitstatus = 1

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("resclaims polishing")
        for line in self.lines:
            terminalreporter.write_line(line)
