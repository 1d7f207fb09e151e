"""The regression gate: compare a run's report with the committed baseline.

``resclaims gate`` (or ``pytest --resclaims-gate``) fails when, against
``reports/baseline.json``:

* a claim's verdict changed;
* a tracked metric (:class:`~resclaims.claims.engine.model.Tracked`, declared in the claim) is worse
  than its baseline by more than the claim's tolerance, or is no longer measured;
* a claim is missing from the run, or new without a baseline entry;
* the run is incomplete, or ran another profile than the baseline.

It prints a readable diff (claim, metric, baseline, now, limit) and writes it into the report.
``resclaims gate --update-baseline`` accepts the current run as the new baseline, explicitly.

Baselines are recorded with the ``ci`` profile, whose examples are derandomized; they are
reproducible for the package versions recorded in the baseline (``.ci/constraints.txt`` pins
them for CI). With other versions of Hypothesis the drawn examples, hence example-dependent
metrics, may differ: the gate then says so.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from . import registry
from .model import DEFAULT_SLACK_TRACKING, WORST_SLACK
from .report import atomic_write

BASELINE_SCHEMA = 1


@dataclass
class Row:
    claim: str
    metric: str
    baseline: object
    now: object
    limit: object
    outcome: str  # "ok" or a failure reason

    @property
    def failed(self) -> bool:
        return self.outcome != "ok"


def _metric_value(claim_doc: dict, name: str):
    if name == WORST_SLACK:
        return claim_doc.get("worst_slack")
    metric = claim_doc.get("metrics", {}).get(name)
    return None if metric is None else metric["value"]


def baseline_from_report(doc: dict) -> dict:
    """The baseline entry of every claim of a (complete) report: verdict and tracked metrics."""
    claims = registry.all_claims()
    entries = {}
    for c in doc["claims"]:
        tracked = claims[c["id"]].gate_metrics() if c["id"] in claims else ()
        entries[c["id"]] = {
            "expected": c["expected"],
            "status": c["status"],
            "metrics": {t.metric: _metric_value(c, t.metric) for t in tracked},
        }
    run = doc["run"]
    return {"schema_version": BASELINE_SCHEMA,
            "recorded": {k: run.get(k) for k in ("date", "commit", "profile", "packages")},
            "claims": dict(sorted(entries.items()))}


def compare(doc: dict, baseline: dict) -> tuple[list[Row], list[str]]:
    """Rows of the diff (every tracked quantity of every claim) and general notes."""
    notes, rows = [], []
    run, recorded = doc["run"], baseline.get("recorded", {})
    if not run.get("complete", False):
        rows.append(Row("(run)", "complete", True, False, True, "the run is incomplete"))
    if recorded.get("profile") and run.get("profile") != recorded["profile"]:
        rows.append(Row("(run)", "profile", recorded["profile"], run.get("profile"), recorded["profile"],
                        "profile differs from the baseline's"))
    differing = {k: (v, run.get("packages", {}).get(k)) for k, v in recorded.get("packages", {}).items()
                 if run.get("packages", {}).get(k) != v}
    if differing:
        notes.append("package versions differ from the baseline's (" + ", ".join(
            f"{k} {a} → {b}" for k, (a, b) in sorted(differing.items()))
            + "): derandomized examples, hence example-dependent metrics, may differ.")
    claims = registry.all_claims()
    now = {c["id"]: c for c in doc["claims"]}
    base = baseline.get("claims", {})
    for cid in sorted(set(now) | set(base)):
        if cid not in base:
            rows.append(Row(cid, "verdict", None, now[cid]["status"], None,
                            "claim without a baseline entry (accept with --update-baseline)"))
            continue
        if cid not in now:
            rows.append(Row(cid, "verdict", base[cid]["status"], None, base[cid]["status"], "claim missing from the run"))
            continue
        c, b = now[cid], base[cid]
        rows.append(Row(cid, "verdict", b["status"], c["status"], b["status"],
                        "ok" if c["status"] == b["status"] else "verdict changed"))
        for t in (claims[cid].gate_metrics() if cid in claims else ()):
            old, new = b["metrics"].get(t.metric), _metric_value(c, t.metric)
            if old is None:
                if new is not None:
                    outcome = "tracked metric without a baseline value (accept with --update-baseline)"
                elif t is DEFAULT_SLACK_TRACKING:
                    outcome = "ok"  # a claim of exact checks only has no slack to track
                else:  # a misspelt or dropped metric must not end its tracking silently
                    outcome = "tracked metric not measured (neither in the baseline nor in this run)"
                rows.append(Row(cid, t.metric, old, new, None, outcome))
                continue
            limit = t.limit(old)
            if new is None or (isinstance(new, float) and math.isnan(new)):
                outcome = "tracked metric not measured"
            elif (new < limit) if t.better == "higher" else (new > limit):
                outcome = f"worse than the baseline ({t.better} is better)"
            else:
                outcome = "ok"
            rows.append(Row(cid, t.metric, old, new, limit, outcome))
    return rows, notes


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    return "–" if x is None else str(x)


def render(rows: list[Row], notes: list[str], *, markdown: bool) -> str:
    failed = [r for r in rows if r.failed]
    head = (f"Regression gate: {'FAILED' if failed else 'passed'} — {len(failed)} of {len(rows)} "
            f"tracked quantities out of bounds.")
    shown = failed if failed else []
    lines = [("## Regression gate\n\n**" + head + "**") if markdown else head]
    lines += [("> " if markdown else "note: ") + n for n in notes]
    if shown:
        header = ["claim", "metric", "baseline", "now", "limit", "outcome"]
        cells = [[r.claim, r.metric, _fmt(r.baseline), _fmt(r.now), _fmt(r.limit), r.outcome] for r in shown]
        if markdown:
            lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(row) + " |" for row in cells]
        else:
            widths = [max(len(x) for x in col) for col in zip(header, *cells)]
            lines += ["  ".join(h.ljust(w) for h, w in zip(row, widths)) for row in [header, *cells]]
    elif markdown:
        lines.append(f"\nEvery verdict and tracked metric is within its tolerance of the baseline "
                     f"({len(rows)} quantities compared).")
    return "\n".join(lines) + "\n"


def attach_to_report(report_json: Path, rows: list[Row], notes: list[str]) -> None:
    """Write the gate's result into the report (JSON key ``gate`` and a Markdown section)."""
    doc = json.loads(report_json.read_text())
    doc["gate"] = {"passed": not any(r.failed for r in rows), "notes": notes,
                   "rows": [r.__dict__ for r in rows if r.failed]}
    atomic_write(report_json, json.dumps(doc, indent=1) + "\n")
    md = report_json.with_suffix(".md")
    if md.exists():
        text = md.read_text().split("\n## Regression gate\n")[0].rstrip("\n")
        atomic_write(md, text + "\n\n" + render(rows, notes, markdown=True))


def run_gate(report_json: Path, baseline_json: Path, *, update: bool = False, echo=print) -> int:
    """Compare (or, with ``update``, accept) ``report_json`` against ``baseline_json``; exit status."""
    if not report_json.exists():
        echo(f"resclaims gate: no report at {report_json}; run `resclaims verify --profile ci` first")
        return 2
    doc = json.loads(report_json.read_text())
    if update:
        not_run = [c["id"] for c in doc["claims"] if not c.get("tests")]
        if not doc["run"].get("complete") or not_run or doc["run"].get("profile") != "ci":
            echo("resclaims gate: a baseline must come from a complete run of every claim on the ci profile "
                 f"(complete={doc['run'].get('complete')}, profile={doc['run'].get('profile')}, "
                 f"claims not run: {', '.join(not_run) or 'none'}); run `resclaims verify --profile ci` first")
            return 2
        atomic_write(baseline_json, json.dumps(baseline_from_report(doc), indent=1, sort_keys=True) + "\n")
        echo(f"resclaims gate: baseline updated from {report_json} (profile {doc['run']['profile']}, "
             f"commit {doc['run']['commit']}) -> {baseline_json}")
        return 0
    if not baseline_json.exists():
        echo(f"resclaims gate: no baseline at {baseline_json}; record one with --update-baseline")
        return 2
    rows, notes = compare(doc, json.loads(baseline_json.read_text()))
    attach_to_report(report_json, rows, notes)
    echo(render(rows, notes, markdown=False).rstrip("\n"))
    return 1 if any(r.failed for r in rows) else 0
