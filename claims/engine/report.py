"""Markdown and JSON reports of a run, written atomically.

JSON schema (``schema_version`` 1, ``schema_revision`` 2; keys are only ever added within a
major version; revision 2 added ``atlas`` and each claim's ``constants``)::

    {
      "schema_version": 1, "schema_revision": 2,
      "run": {"date", "commit", "dirty", "profile", "seed_policy", "complete", "exitstatus",
              "workers", "packages": {name: version}, "machine": {...}, "args": [...],
              "cluster": {"scheduler", "workers", "seeds", "shards", "finished", "retried",
                          "failed", "interrupted"}},     # only in a clustered run (cluster.py)
      "claims": [
        {"id", "title", "source", "kind", "provenance", "expected": "holds"|"refuted",
         "status": "verified"|"refuted"|"inconclusive"|"error", "matches_expected": bool,
         "reason", "weakly_tested", "tightness",           # decided by the judge
         "files": {"claim", "tests"},                      # the claim's two files
         "statement", "conclusion", "hypotheses": [{"name", "statement", "held", "closest_to_edge"}],
         "references": [str], "corrected_variant", "notes",
         "examples": {"generated", "held", "violations"},
         "worst_slack", "worst_instance", "worst_nodeid", "counterexample": null | {"instance",
         "slack", "message", "reproduction", "nodeid"},
         "metrics": {name: {"value", "reduce", "unit", "count", "nodeids"}},
         "canaries": {name: {"caught", "detail", "nodeid"}},
         "tables": {name: {"columns": [str], "rows": [[cell]], "nodeids"}},
         "series": {name: {"x_label", "y_label", "log_x", "log_y", "curves": {label: [[x, y]]},
                           "nodeids"}},
         "by_size": {size: worst slack}, "polished": null | {...},
         "constants": [ATLAS ROW],
         "tests": [{"nodeid", "outcome", "exception", "message", "failure"}], "seconds"}
      ],
      "atlas": [ATLAS ROW]                                 # every claim's constants, in claim order
    }

    ATLAS ROW = {"claim", "name", "meaning", "truth": "largest valid"|"smallest valid", "slide",
                 "paper", "proven", "proven_by", "other_side", "best_found", "room",
                 "search": null | {"instance", "reproduction", "nodeid",
                                   "effort": {"methods", "starts", "evaluations", "searches"}}}
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import tempfile
import textwrap
from importlib import metadata
from pathlib import Path

from . import profiles
from .evidence import ClaimEvidence
from .judge import ClaimRun, TestOutcome
from .model import Claim

SCHEMA_VERSION = 1
SCHEMA_REVISION = 2
PACKAGES = ("numpy", "scipy", "sympy", "hypothesis", "pytest", "pytest-xdist", "mpmath")
SEED_POLICY = {
    "ci": "derandomized: examples derived from each test's name (same on every run), no database",
    "dev": "random seed per run, failing examples replayed from the local database",
    "nightly": "random seed per run, no database, 20x examples, target() toward each bound's edge",
}


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def run_info(config, *, complete: bool, exitstatus: int) -> dict:
    """The header of a report: when, what code, which profile, which machine."""
    root = Path(config.rootpath)
    profile = profiles.current_profile()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    workers = getattr(config.option, "numprocesses", None)
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": _git(root, "rev-parse", "--short=12", "HEAD") or "unknown",
        "dirty": bool(_git(root, "status", "--porcelain", "--untracked-files=no")),
        "profile": profile,
        "seed_policy": SEED_POLICY.get(profile, "hypothesis default"),
        "complete": complete,
        "exitstatus": exitstatus,
        "workers": workers if workers is not None else 0,
        "packages": versions,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "args": [str(a) for a in config.args],
    }


def claim_files(claim_id: str) -> dict:
    """The claim's two files, relative to the project root."""
    return {"claim": f"claims/{claim_id}.py", "tests": f"tests/test_{claim_id}.py"}


def atlas_rows(claim, ev: ClaimEvidence) -> list[dict]:
    """The claim's rows of the constants atlas: each declared constant next to its best search."""
    rows = []
    for k in claim.constants:
        found = ev.constants.get(k.name)
        value = None if found is None else found["value"]
        rows.append({"claim": claim.id, "name": k.name, "meaning": k.meaning, "truth": k.truth.value,
                     "slide": k.slide, "paper": k.paper, "proven": k.proven, "proven_by": k.proven_by,
                     "other_side": k.other_side, "best_found": value, "room": k.room(value),
                     "search": None if found is None else {key: found[key] for key in
                                                           ("instance", "reproduction", "nodeid", "effort")}})
    return rows


def claim_json(run: ClaimRun) -> dict:
    """The claim's entry of the JSON report: its record, the judge's decision and its evidence."""
    c, ev, j = run.claim, run.evidence, run.judgement
    return {
        "id": c.id,
        "title": c.title,
        "source": c.source(),
        "kind": c.kind.value,
        "provenance": c.provenance.value,
        "expected": c.expected.value,
        "status": j.status,
        "matches_expected": j.matches_expected,
        "reason": j.reason,
        "weakly_tested": j.weakly_tested,
        "tightness": j.tightness,
        "files": claim_files(c.id),
        "statement": c.statement,
        "conclusion": c.conclusion,
        "hypotheses": [{"name": h.name, "statement": h.statement,
                        "held": ev.hypotheses.get(h.name, {}).get("held", 0),
                        "closest_to_edge": ev.hypotheses.get(h.name, {}).get("edge")} for h in c.hypotheses],
        "references": [str(r) for r in c.references],
        "corrected_variant": c.corrected_variant,
        "notes": c.notes,
        "examples": {"generated": ev.generated, "held": ev.held, "violations": ev.violations},
        "worst_slack": ev.worst_slack,
        "worst_instance": ev.worst_instance,
        "worst_nodeid": ev.worst_nodeid,
        "counterexample": ev.counterexample,
        "metrics": dict(sorted(ev.metrics.items())),
        "canaries": dict(sorted(ev.canaries.items())),
        "tables": dict(sorted(ev.tables.items())),
        "series": dict(sorted(ev.series.items())),
        "by_size": dict(sorted(ev.by_size.items(), key=lambda kv: float(kv[0]))),
        "polished": ev.polished,
        "constants": atlas_rows(c, ev),
        "tests": [
            {"nodeid": t.nodeid, "outcome": t.outcome, "exception": t.exception, "message": t.message,
             "failure": t.failure}
            for t in sorted(run.tests, key=lambda t: t.nodeid)
        ],
        "seconds": round(run.duration, 3),
    }


def run_from_json(claim: Claim, entry: dict) -> ClaimRun:
    """The inverse of :func:`claim_json`: the evidence and test outcomes of a written report, so a
    later step (polishing) can add evidence and have the judge decide again."""
    ev = ClaimEvidence(
        generated=entry["examples"]["generated"], held=entry["examples"]["held"],
        violations=entry["examples"]["violations"], worst_slack=entry["worst_slack"],
        worst_instance=entry["worst_instance"], worst_nodeid=entry.get("worst_nodeid"),
        counterexample=entry["counterexample"], metrics=entry["metrics"], canaries=entry["canaries"],
        tables=entry["tables"], series=entry["series"], by_size=entry.get("by_size", {}),
        polished=entry.get("polished"),
        constants={row["name"]: {"truth": row["truth"], "value": row["best_found"], **row["search"]}
                   for row in entry.get("constants", []) if row.get("search")},
        hypotheses={h["name"]: {"held": h["held"], "edge": h["closest_to_edge"]} for h in entry["hypotheses"]})
    tests = [TestOutcome(t["nodeid"], t["outcome"], t["exception"], t["message"], 0.0, t.get("failure"))
             for t in entry["tests"]]
    if tests:  # keep the run's time on the claim
        tests[0].duration = entry["seconds"]
    return ClaimRun(claim, ev, tests)


def build_json(runs: list[ClaimRun], info: dict) -> dict:
    claims = [claim_json(r) for r in runs]
    return {"schema_version": SCHEMA_VERSION, "schema_revision": SCHEMA_REVISION, "run": info,
            "claims": claims, "atlas": [row for c in claims for row in c["constants"]]}


def _fmt(x, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _summary_rows(doc: dict) -> list[list[str]]:
    rows = []
    for c in doc["claims"]:
        ok = ("" if c["matches_expected"] else " ✗") + (" (weakly tested)" if c.get("weakly_tested") else "")
        ex = c["examples"]
        rows.append(
            [
                f"[{c['id']}](#{c['id'].replace('_', '-')})",
                c["source"],
                c["kind"],
                c["expected"],
                f"**{c['status']}**{ok}",
                f"{ex['held']} / {ex['generated']}",
                _fmt(c["worst_slack"]),
                f"{c['seconds']:.1f}",
            ]
        )
    return rows


def _tests(nodeids) -> str:
    """Node ids as the report shows them: the test function (and parameters), code-formatted."""
    names = sorted({n.split("::", 1)[-1] for n in nodeids if n})
    return ", ".join(f"`{n}`" for n in names) if names else "–"


def _table(header: list[str], rows: list[list[str]]) -> str:
    def row(cells) -> str:  # a "|" inside a cell (norms) would split it
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return "\n".join([row(header), "|" + "---|" * len(header), *(row(r) for r in rows)])


def render_markdown(doc: dict, figures: dict | None = None, root: str = "..") -> str:
    """The Markdown report; ``figures`` maps (claim id, series name) to a PNG path relative
    to the report (see :func:`write_figures`); ``root`` is the project root relative to the
    report (for the links to each claim's files)."""
    figures = figures or {}
    run = doc["run"]
    claims = doc["claims"]
    mismatched = [c["id"] for c in claims if not c["matches_expected"]]
    out = [
        "# Claim verification report",
        "",
        ("" if run["complete"] else "> **INCOMPLETE RUN** (interrupted or failed to start): "
         "the results below are partial.\n"),
        f"- date: {run['date']}",
        f"- commit: `{run['commit']}`" + (" (with uncommitted changes)" if run["dirty"] else ""),
        f"- profile: `{run['profile']}`; seed policy: {run['seed_policy']}",
        f"- workers: {run['workers']}; pytest exit status: {run['exitstatus']}",
        "- packages: " + ", ".join(f"{k} {v}" for k, v in run["packages"].items() if v),
        "- machine: {python} on {platform} ({cpus} CPUs)".format(**run["machine"]),
        "",
        f"**{len(claims) - len(mismatched)} of {len(claims)} claims have the expected verdict.**"
        + (f" Differing: {', '.join(mismatched)}." if mismatched else ""),
        "",
        '"verified" means: the search below tried the stated number of instances whose hypotheses '
        "all held and found no violation. It is evidence, not proof. Slack is normalized and "
        "signed (0 = bound attained, negative = past the bound); a violation is decided with the "
        "tolerances of tests/tolerances.py, so a slack of a few ulps below 0 is rounding, not a "
        "violation. See the JSON schema in README.",
        "",
        "## Summary",
        "",
        _table(
            ["claim", "source", "kind", "expected", "status", "held / generated", "worst slack", "s"],
            _summary_rows(doc),
        ),
        "",
    ]
    if doc.get("atlas"):
        out += _atlas_section(doc["atlas"])
    polished = [c for c in claims if c.get("polished")]
    if polished:
        out += _polished_section(polished)
    for c in claims:
        out += _claim_section(c, figures, root)
    return "\n".join(out) + "\n"


def _effort(search: dict | None) -> str:
    if not search:
        return "**not searched**"
    e = search["effort"]
    return (f"{', '.join(e['methods'])}: {e['starts']} starts, {e['evaluations']} evaluations"
            + (f" ({e['searches']} searches)" if e["searches"] > 1 else ""))


def _atlas_section(rows: list[dict]) -> list[str]:
    cells = [[f"{r['name']}", f"[{r['claim']}](#{r['claim'].replace('_', '-')})", r["truth"], r["slide"], r["paper"],
              _fmt(r["proven"], 6), _fmt(r["best_found"], 6), _fmt(r["room"], 4), r["other_side"],
              _effort(r["search"])] for r in rows]
    return ["## Constants atlas", "",
            "Every constant of the seed and its papers: the suite's proven value next to the best value an "
            "adversarial search (an optimizer over instances, from many starts) found. For a *largest valid* "
            "constant the search finds failures, so the best found bounds the truth from above and the proven "
            "value from below; for a *smallest valid* one the other way round. Room = proven/found or "
            "found/proven: 1 means the proven value is the truth. Each extremal instance, with the snippet "
            "that reproduces it, is in its claim's section.", "",
            _table(["constant", "theorem", "truth is the", "slide", "paper", "proven", "best found", "room",
                    "other side", "search effort"], cells), ""]


def _polished_section(claims: list[dict]) -> list[str]:
    rows = []
    for c in claims:
        r = c["polished"]
        if "skipped" in r:
            rows.append([c["id"], "–", "–", r["skipped"], c["status"]])
            continue
        rows.append([c["id"], _fmt(r["start_slack"], 4), _fmt(r["slack"], 4),
                     f"{r['evaluations']} evaluations, {r['parameters']} parameters",
                     c["status"] + (" (a polished instance violates the bound)" if r["violated"] else "")])
    return ["## Polished tightness", "",
            "The worst instance of each opted-in inequality, pushed toward its bound by a local optimizer "
            "under the hypotheses (see each claim's section); a polished violation refutes like any other.", "",
            _table(["claim", "slack after search", "slack after polishing", "effort", "verdict"], rows), ""]


def _claim_section(c: dict, figures: dict, root: str) -> list[str]:
    ex = c["examples"]
    files = c.get("files") or {}
    lines = [
        f"## {c['id']}",
        "",
        f"**{c['title']}** — {c['kind']}, provenance: {c['provenance']}; "
        f"references: {'; '.join(c['references'])}",
        "",
        "Code: " + " · ".join(f"[{path}]({root}/{path})" for path in files.values()),
        "",
        "Statement of record:",
        "",
        f"$${c['statement']}$$",
        "",
    ]
    if c["hypotheses"]:
        lines.append("Hypotheses (how often each held among the generated instances, and how close the "
                     "search came to its boundary where measured):")
        lines += [f"- `{h['name']}`: ${h['statement']}$ — held in {h.get('held', 0)}/{ex['generated']}"
                  + ("" if h.get("closest_to_edge") is None else f", closest to the edge {_fmt(h['closest_to_edge'], 3)}")
                  for h in c["hypotheses"]]
        lines.append("")
    lines += [
        f"Conclusion checked: ${c['conclusion']}$",
        "",
        f"**Verdict: {c['status']}** (expected: {c['expected']}"
        + ("" if c["matches_expected"] else "; **DIFFERS FROM EXPECTED**")
        + f"). {c['reason'][:1].upper()}{c['reason'][1:]}.",
        "",
        f"Search effort: {ex['generated']} instances generated, {ex['held']} satisfied every "
        f"hypothesis, {ex['violations']} violations; {len(c['tests'])} tests, {c['seconds']:.2f} s.",
        "",
    ]
    if c.get("weakly_tested"):
        lines += ["**Weakly tested**: few generated instances satisfied the hypotheses; the verdict rests "
                  "on little evidence.", ""]
    t = c.get("tightness")
    if t:
        lines += [f"Tightness: best ratio {_fmt(t['best_ratio'], 4)} (1 = bound attained) — {t['verdict']}."
                  + ("" if not t.get("per_size") or len(t["per_size"]) < 2 else " Best ratio per size: "
                     + ", ".join(f"{_fmt(n)}: {_fmt(r)}" for n, r in t["per_size"]) + "."), ""]
    if c["corrected_variant"]:
        lines += [f"Corrected variant verified instead: [{c['corrected_variant']}]"
                  f"(#{c['corrected_variant'].replace('_', '-')}).", ""]
    if c["notes"]:
        lines += [c["notes"], ""]
    if c["worst_slack"] is not None:
        lines += [f"Extremal instance (worst slack {_fmt(c['worst_slack'], 6)}, from "
                  f"`{c.get('worst_nodeid') or '–'}`):", "",
                  "```json", json.dumps(c["worst_instance"], sort_keys=True), "```", ""]
    p = c.get("polished")
    if p and "skipped" not in p:
        lines += [f"Polished: slack {_fmt(p['start_slack'], 6)} → {_fmt(p['slack'], 6)} after {p['evaluations']} "
                  f"evaluations over {p['parameters']} parameters"
                  + (" — **the polished instance violates the bound**" if p["violated"] else "") + ":", "",
                  "```json", json.dumps(p["instance"], sort_keys=True), "```", ""]
    for row in c.get("constants", []):
        lines += [f"Constant **{row['name']}** ({row['meaning']}; truth is the {row['truth']}): proven "
                  f"{_fmt(row['proven'], 6)} ({row['proven_by']}), best found {_fmt(row['best_found'], 6)}, room "
                  f"{_fmt(row['room'], 4)}; other side: {row['other_side']}. Search: {_effort(row['search'])}"
                  + (f", from `{row['search']['nodeid'] or '–'}`." if row["search"] else "."), ""]
        if row["search"]:
            lines += ["```json", json.dumps(row["search"]["instance"], sort_keys=True), "```", "",
                      "Reproduction (binds `value`):", "", "```python", row["search"]["reproduction"].strip(), "```", ""]
    failed = [t for t in c["tests"] if t["outcome"] == "failed"]
    if failed:
        lines += ["Failing tests (re-run one with the command shown; Hypothesis replays the "
                  "failing example from its database under the dev profile, or prints "
                  "`@reproduce_failure` under ci):", ""]
        lines += [f"- `pytest '{t['nodeid']}'` — {t['exception']}: {t['message']}" for t in failed]
        lines.append("")
    cx = c["counterexample"]
    if cx:
        lines += [f"Counterexample (slack {_fmt(cx['slack'], 6)}, from `{cx.get('nodeid') or '–'}`): "
                  f"{cx['message']}", "",
                  "```json", json.dumps(cx["instance"], sort_keys=True), "```", ""]
        if cx.get("reproduction"):
            lines += ["Reproduction:", "", "```python", cx["reproduction"].strip(), "```", ""]
    if c["metrics"]:
        lines += [_table(["metric", "value", "fold", "over", "recorded by"],
                         [[k, _fmt(m["value"], 6) + (f" {m['unit']}" if m["unit"] else ""),
                           m["reduce"], str(m["count"]), _tests(m.get("nodeids", []))]
                          for k, m in c["metrics"].items()]), ""]
    for name, t in c.get("tables", {}).items():
        lines += [f"{name} (from {_tests(t.get('nodeids', []))}):", "",
                  _table(t["columns"], [[_fmt(x, 4) for x in r] for r in t["rows"]]), ""]
    for name, s in c.get("series", {}).items():
        png = figures.get((c["id"], name))
        n = sum(len(p) for p in s["curves"].values())
        lines += [f"![{name}]({png}) (from {_tests(s.get('nodeids', []))})" if png else
                  f"{name}: {len(s['curves'])} curves, {n} points in the JSON report "
                  "(install the `plots` extra for the figure).", ""]
    if c["canaries"]:
        lines += ["Sensitivity (the check shown able to fail):", ""]
        lines += [f"- {'caught' if v['caught'] else '**NOT CAUGHT**'}: {k}"
                  + (f" — {v['detail']}" if v["detail"] else "") + f" ({_tests([v.get('nodeid')])})"
                  for k, v in c["canaries"].items()]
        lines.append("")
    return lines


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _slug(text: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text.lower()).strip("-")[:60]


def save_figure(fig, out_dir: Path, rel: str) -> str:
    """Save a matplotlib figure as ``out_dir/rel`` atomically, close it; returns ``rel``."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = out_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
    return rel


def write_figures(doc: dict, out_dir: Path, stem: str) -> dict:
    """Draw every recorded series as a PNG in ``out_dir/figures`` (atomically); returns
    {(claim id, series name): relative path}. Without matplotlib, returns {}."""
    series = [(c["id"], name, s) for c in doc["claims"] for name, s in c.get("series", {}).items()]
    if not series:
        return {}
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    paths = {}
    for claim_id, name, s in series:
        rel = f"figures/{stem}-{claim_id}-{_slug(name)}.png"
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        for label, points in s["curves"].items():
            xs, ys = zip(*points) if points else ((), ())
            ax.plot(xs, ys, marker=".", label=label)
        ax.set(xlabel=s["x_label"], ylabel=s["y_label"],
               xscale="log" if s["log_x"] else "linear", yscale="log" if s["log_y"] else "linear")
        ax.set_title(textwrap.fill(f"{claim_id}: {name}", 70), fontsize="small")
        if len(s["curves"]) > 1:
            ax.legend(fontsize="small")
        save_figure(fig, out_dir, rel)
        paths[(claim_id, name)] = rel
    return paths


def write_reports(runs: list[ClaimRun], info: dict, out_dir: Path, stem: str = "latest", *,
                  root: Path | None = None) -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.json`` (and the figures) in ``out_dir``; ``root`` is the
    project root (for the links to each claim's files; default: the parent of ``out_dir``).

    An incomplete run writes ``partial.*`` (``<stem>.partial.*`` for another stem) instead, so
    that the last complete report stays intact.
    """
    doc = build_json(runs, info)
    if not info["complete"]:
        stem = "partial" if stem == "latest" else f"{stem}.partial"
    md, js = out_dir / f"{stem}.md", out_dir / f"{stem}.json"
    rel_root = Path(os.path.relpath(Path(root or out_dir.parent).resolve(), out_dir.resolve())).as_posix()
    atomic_write(js, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    atomic_write(md, render_markdown(doc, write_figures(doc, out_dir, stem), rel_root))
    return md, js


def summary_lines(runs: list[ClaimRun]) -> list[str]:
    """A plain-text summary table for terminals."""
    rows = [("claim", "expected", "status", "held/gen", "worst slack", "")]
    for r in runs:
        ev = r.evidence
        j = r.judgement
        rows.append((r.claim.id, r.claim.expected.value, j.status, f"{ev.held}/{ev.generated}",
                     _fmt(ev.worst_slack),
                     "" if j.matches_expected else "(not run)" if not r.tests else "<- differs from expected"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[5] for row in rows]
