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

import importlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import evidence, registry
from .report import _ratio, atomic_write

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
        except AssertionError:
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


def _spec_of(claim_id: str, tests_dir: Path) -> Polish | None:
    if str(tests_dir) not in sys.path:
        sys.path.insert(0, str(tests_dir))
    try:
        module = importlib.import_module(f"test_{claim_id}")
    except ImportError:
        return None
    return getattr(module, "POLISH", None)


def _stored_whole(instance: dict, free: tuple[str, ...]) -> bool:
    """Arrays larger than MAX_STORED_ENTRIES are summarized in reports and cannot be polished."""
    return all(k in instance and not isinstance(instance[k], dict) for k in free)


def run(report_json: Path, tests_dir: Path, *, echo=print) -> int:
    """Polish every opted-in claim of a report; write the results into it. Exit 1 on a violation."""
    doc = json.loads(report_json.read_text())
    claims = registry.all_claims()
    results, found_violation = {}, False
    for c in doc["claims"]:
        spec = _spec_of(c["id"], tests_dir)
        if spec is None or c["id"] not in claims or c["status"] != "verified" or not c["worst_instance"]:
            continue
        if not _stored_whole(c["worst_instance"], spec.free):
            results[c["id"]] = {"skipped": "worst instance too large to be stored whole"}
            continue
        out = polish(claims[c["id"]], spec, c["worst_instance"])
        out["best_ratio"] = _ratio(c["kind"], max(out["slack"], 0.0)) if math.isfinite(out["slack"]) else None
        results[c["id"]] = out
        found_violation |= out["violated"]
        echo(f"{c['id']}: slack {out['start_slack']:.4g} -> {out['slack']:.4g} after {out['evaluations']} "
             f"evaluations over {out['parameters']} parameters" + ("  VIOLATION" if out["violated"] else ""))
    for c in doc["claims"]:
        if c["id"] in results:
            c["polished"] = results[c["id"]]
    atomic_write(report_json, json.dumps(doc, indent=1) + "\n")
    md = report_json.with_suffix(".md")
    if md.exists():
        text = md.read_text().split("\n## Polished tightness\n")[0].rstrip("\n")
        atomic_write(md, text + "\n\n" + render(results) + "\n")
    return 1 if found_violation else 0


def render(results: dict) -> str:
    rows = []
    for cid, r in sorted(results.items()):
        if "skipped" in r:
            rows.append(f"| {cid} | – | – | – | {r['skipped']} |")
            continue
        ratio = "–" if r["best_ratio"] is None else f"{r['best_ratio']:.6g}"
        rows.append(f"| {cid} | {r['start_slack']:.4g} | {r['slack']:.4g} | {ratio} | "
                    f"{r['evaluations']} evaluations, {r['parameters']} parameters"
                    + ("; **VIOLATION: the polished instance breaks the bound**" if r["violated"] else "") + " |")
    return "\n".join([
        "## Polished tightness", "",
        "The worst instance of each opted-in inequality, pushed toward the bound by Nelder–Mead "
        f"(scipy; {STARTS} starts, at most {MAX_EVALUATIONS} evaluations each) under its hypotheses.", "",
        "| claim | slack after search | slack after polishing | best ratio (1 = attained) | effort |",
        "|---|---|---|---|---|", *rows])
