"""Markdown and JSON reports of a run, written atomically.

JSON schema (``schema_version`` 1; keys are only ever added within a major version)::

    {
      "schema_version": 1,
      "run": {"date", "commit", "dirty", "profile", "seed_policy", "complete", "exitstatus",
              "workers", "packages": {name: version}, "machine": {...}, "args": [...]},
      "claims": [
        {"id", "title", "source", "kind", "provenance", "expected": "holds"|"refuted",
         "status": "verified"|"refuted"|"inconclusive"|"error", "matches_expected": bool,
         "reason", "statement", "conclusion", "hypotheses": [{"name", "statement"}],
         "references": [str], "corrected_variant", "notes",
         "examples": {"generated", "held", "violations"},
         "worst_slack", "worst_instance", "counterexample": null | {"instance", "slack",
         "message", "reproduction"}, "metrics": {name: {"value", "reduce", "unit", "count"}},
         "canaries": {name: {"caught", "detail"}},
         "tables": {name: {"columns": [str], "rows": [[cell]]}},
         "series": {name: {"x_label", "y_label", "log_x", "log_y", "curves": {label: [[x, y]]}}},
         "tests": [{"nodeid", "outcome", "exception", "message"}], "seconds"}
      ]
    }
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
from .judge import ClaimRun

SCHEMA_VERSION = 1
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


def claim_json(run: ClaimRun) -> dict:
    c, ev = run.claim, run.evidence
    status, reason = run.status_and_reason()
    return {
        "id": c.id,
        "title": c.title,
        "source": c.source(),
        "kind": c.kind.value,
        "provenance": c.provenance.value,
        "expected": c.expected.value,
        "status": status,
        "matches_expected": run.matches_expected,
        "reason": reason,
        "statement": c.statement,
        "conclusion": c.conclusion,
        "hypotheses": [{"name": h.name, "statement": h.statement,
                        "held": ev.hypotheses.get(h.name, {}).get("held", 0),
                        "closest_to_edge": ev.hypotheses.get(h.name, {}).get("edge")} for h in c.hypotheses],
        "weakly_tested": weakly_tested(ev.held, ev.generated),
        "tightness": tightness(c.kind.value, ev.worst_slack, ev.by_size) if status == "verified" else None,
        "references": [str(r) for r in c.references],
        "corrected_variant": c.corrected_variant,
        "notes": c.notes,
        "examples": {"generated": ev.generated, "held": ev.held, "violations": ev.violations},
        "worst_slack": ev.worst_slack,
        "worst_instance": ev.worst_instance,
        "counterexample": ev.counterexample,
        "metrics": dict(sorted(ev.metrics.items())),
        "canaries": dict(sorted(ev.canaries.items())),
        "tables": dict(sorted(ev.tables.items())),
        "series": dict(sorted(ev.series.items())),
        "tests": [
            {"nodeid": t.nodeid, "outcome": t.outcome, "exception": t.exception, "message": t.message}
            for t in sorted(run.tests, key=lambda t: t.nodeid)
        ],
        "seconds": round(run.duration, 3),
    }


#: A claim is "weakly tested" when fewer instances than this satisfied its hypotheses, or
#: fewer than this fraction of the generated ones.
WEAK_MIN_HELD, WEAK_MIN_FRACTION = 10, 0.2
#: A bound is "tight" when the best ratio found is within this of 1.
TIGHT_WITHIN = 0.01


def weakly_tested(held: int, generated: int) -> bool:
    return held < WEAK_MIN_HELD or held < WEAK_MIN_FRACTION * generated


def _ratio(kind: str, slack: float) -> float:
    """lhs/rhs of an upper bound, rhs/lhs of a lower bound (1 = attained), from the slack."""
    return 1.0 - slack if kind == "upper bound" else 1.0 / (1.0 + slack)


def tightness(kind: str, worst_slack, by_size: dict) -> dict | None:
    """How tight an inequality looks: the best ratio found and its trend over problem sizes."""
    import math

    if kind not in ("upper bound", "lower bound") or worst_slack is None:
        return None
    best = _ratio(kind, max(worst_slack, 0.0))  # a verified claim's slack is >= 0 up to rounding
    sizes = sorted((float(k), _ratio(kind, max(v, 0.0))) for k, v in by_size.items())
    out = {"best_ratio": best, "per_size": [[n, r] for n, r in sizes]}
    if best >= 1 - TIGHT_WITHIN:
        out["verdict"] = f"tight: attained within {TIGHT_WITHIN:.0%}"
        return out
    usable = [(n, r) for n, r in sizes if n > 0 and r > 0]
    if len(usable) >= 3 and usable[-1][0] / usable[0][0] >= 4:
        xs = [math.log(n) for n, _ in usable]
        ys = [math.log(1 / r) for _, r in usable]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        out["gap_exponent"] = slope
        if slope > 0.15:
            out["verdict"] = f"loose by a growing factor (gap ~ size^{slope:.2f})"
            return out
        out["verdict"] = f"loose by a constant factor ≈ {1 / best:.3g}"
        return out
    out["verdict"] = f"loose by a factor ≈ {1 / best:.3g} (too few sizes for a trend)"
    return out


def build_json(runs: list[ClaimRun], info: dict) -> dict:
    return {"schema_version": SCHEMA_VERSION, "run": info, "claims": [claim_json(r) for r in runs]}


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


def _table(header: list[str], rows: list[list[str]]) -> str:
    def row(cells) -> str:  # a "|" inside a cell (norms) would split it
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return "\n".join([row(header), "|" + "---|" * len(header), *(row(r) for r in rows)])


def render_markdown(doc: dict, figures: dict | None = None) -> str:
    """The Markdown report; ``figures`` maps (claim id, series name) to a PNG path relative
    to the report (see :func:`write_figures`)."""
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
    for c in claims:
        out += _claim_section(c, figures)
    return "\n".join(out) + "\n"


def _claim_section(c: dict, figures: dict) -> list[str]:
    ex = c["examples"]
    lines = [
        f"## {c['id']}",
        "",
        f"**{c['title']}** — {c['kind']}, provenance: {c['provenance']}; "
        f"references: {'; '.join(c['references'])}",
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
        + f"). {c['reason']}.",
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
        lines += [f"Extremal instance (worst slack {_fmt(c['worst_slack'], 6)}):", "",
                  "```json", json.dumps(c["worst_instance"], sort_keys=True), "```", ""]
    failed = [t for t in c["tests"] if t["outcome"] == "failed"]
    if failed:
        lines += ["Failing tests (re-run one with the command shown; Hypothesis replays the "
                  "failing example from its database under the dev profile, or prints "
                  "`@reproduce_failure` under ci):", ""]
        lines += [f"- `pytest '{t['nodeid']}'` — {t['exception']}: {t['message']}" for t in failed]
        lines.append("")
    cx = c["counterexample"]
    if cx:
        lines += [f"Counterexample (slack {_fmt(cx['slack'], 6)}): {cx['message']}", "",
                  "```json", json.dumps(cx["instance"], sort_keys=True), "```", ""]
        if cx.get("reproduction"):
            lines += ["Reproduction:", "", "```python", cx["reproduction"].strip(), "```", ""]
    if c["metrics"]:
        lines += [_table(["metric", "value", "fold", "over"],
                         [[k, _fmt(m["value"], 6) + (f" {m['unit']}" if m["unit"] else ""),
                           m["reduce"], str(m["count"])] for k, m in c["metrics"].items()]), ""]
    for name, t in c.get("tables", {}).items():
        lines += [f"{name}:", "", _table(t["columns"], [[_fmt(x, 4) for x in r] for r in t["rows"]]), ""]
    for name, s in c.get("series", {}).items():
        png = figures.get((c["id"], name))
        n = sum(len(p) for p in s["curves"].values())
        lines += [f"![{name}]({png})" if png else
                  f"{name}: {len(s['curves'])} curves, {n} points in the JSON report "
                  "(install the `plots` extra for the figure).", ""]
    if c["canaries"]:
        lines += ["Sensitivity (the check shown able to fail):", ""]
        lines += [f"- {'caught' if v['caught'] else '**NOT CAUGHT**'}: {k}"
                  + (f" — {v['detail']}" if v["detail"] else "") for k, v in c["canaries"].items()]
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


def write_reports(runs: list[ClaimRun], info: dict, out_dir: Path, stem: str = "latest") -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.json`` (and the figures) in ``out_dir``.

    An incomplete run writes ``partial.*`` (``<stem>.partial.*`` for another stem) instead, so
    that the last complete report stays intact.
    """
    doc = build_json(runs, info)
    if not info["complete"]:
        stem = "partial" if stem == "latest" else f"{stem}.partial"
    md, js = out_dir / f"{stem}.md", out_dir / f"{stem}.json"
    atomic_write(js, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    atomic_write(md, render_markdown(doc, write_figures(doc, out_dir, stem)))
    return md, js


def summary_lines(runs: list[ClaimRun]) -> list[str]:
    """A plain-text summary table for terminals."""
    rows = [("claim", "expected", "status", "held/gen", "worst slack", "")]
    for r in runs:
        ev = r.evidence
        rows.append((r.claim.id, r.claim.expected.value, r.status, f"{ev.held}/{ev.generated}",
                     _fmt(ev.worst_slack),
                     "" if r.matches_expected else "(not run)" if not r.tests else "<- differs from expected"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[5] for row in rows]
