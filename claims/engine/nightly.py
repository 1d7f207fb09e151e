"""Nightly verification: one report per night, a history file, and trend plots.

``resclaims nightly`` runs the suite with the ``nightly`` profile (20x the examples, random
seeds, ``target()`` toward each bound's edge) into ``reports/nightly/<YYYY-MM-DD>.{md,json}``,
then :func:`record_night` appends one line per claim to ``reports/nightly/history.jsonl``
(keyed by the run's start time: every run is kept, recording the same report twice is a
no-op; a second run the same night overwrites that night's report file), draws the trends
(``trend-*.png``, matplotlib) and links them from the night's report. An interrupted night
leaves ``<date>.partial.*`` and touches neither the history nor earlier nights.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

from . import registry
from .report import _table, atomic_write

HISTORY = "history.jsonl"
#: Nights shown in the trend table of a report (the plots show every night).
TABLE_NIGHTS = 7
_STATUS_MARK = {"verified": "✓", "refuted": "✗", "inconclusive": "?", "error": "!"}


def night_name(date: str | None) -> str:
    """``YYYY-MM-DD`` (today in UTC by default); anything else is rejected."""
    if date is None:
        return _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    try:
        return _dt.date.fromisoformat(date).isoformat()
    except ValueError:
        raise SystemExit(f"resclaims nightly: --date must be YYYY-MM-DD, got {date!r}") from None


def history_lines(doc: dict, night: str) -> list[dict]:
    """One record per claim: verdict, search effort, worst slack and the tracked metrics."""
    claims = registry.all_claims()
    lines = []
    for c in doc["claims"]:
        tracked = [t.metric for t in claims[c["id"]].gate_metrics()] if c["id"] in claims else []
        lines.append({
            "night": night, "run": doc["run"]["date"], "commit": doc["run"]["commit"], "claim": c["id"],
            "status": c["status"],
            "matches_expected": c["matches_expected"], "held": c["examples"]["held"],
            "generated": c["examples"]["generated"], "worst_slack": c["worst_slack"], "seconds": c["seconds"],
            "metrics": {name: c["metrics"][name]["value"] for name in tracked if name in c["metrics"]},
        })
    return lines


def read_history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def record_night(report_json: Path) -> None:
    """Append the night to the history, draw the trends, add the trend section to the report."""
    night = report_json.stem
    doc = json.loads(report_json.read_text())
    history_path = report_json.parent / HISTORY
    history = [h for h in read_history(history_path) if h["run"] != doc["run"]["date"]] + history_lines(doc, night)
    history.sort(key=lambda h: (h["run"], h["claim"]))
    atomic_write(history_path, "".join(json.dumps(h, sort_keys=True) + "\n" for h in history))
    figures = draw_trends(history, report_json.parent)
    md = report_json.with_suffix(".md")
    text = md.read_text().split("\n## Trend over past nights\n")[0].rstrip("\n")
    atomic_write(md, text + "\n\n" + trend_section(history, figures) + "\n")


def _label(run: str) -> str:
    """``2026-11-27T02:17:05+00:00`` -> ``2026-11-27 02:17``."""
    return run[:16].replace("T", " ")


def trend_section(history: list[dict], figures: list[str]) -> str:
    runs = sorted({h["run"] for h in history})
    nights = runs[-TABLE_NIGHTS:]
    by = {(h["claim"], h["run"]): h for h in history}
    claims = sorted({h["claim"] for h in history})
    rows = []
    for cid in claims:
        cells = []
        for n in nights:
            h = by.get((cid, n))
            cells.append("–" if h is None else f"{_STATUS_MARK.get(h['status'], h['status'])}"
                         f"{'' if h['matches_expected'] else '≠'} "
                         f"{'–' if h['worst_slack'] is None else format(h['worst_slack'], '.3g')}")
        rows.append([cid, *cells])
    lines = ["## Trend over past nights", "",
             f"{len(runs)} runs on {len({h['night'] for h in history})} nights in `{HISTORY}` (the last "
             f"{len(nights)} shown). Each cell: verdict (✓ verified, ✗ refuted, ? inconclusive, ! error; "
             "≠ differs from expected) and worst slack.", "",
             _table(["claim", *map(_label, nights)], rows), ""]
    lines += [f"![{Path(f).stem}]({f})" for f in figures]
    return "\n".join(lines)


def draw_trends(history: list[dict], out_dir: Path) -> list[str]:
    """Trend PNGs (verdicts, worst slack, tracked metrics over nights); [] without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    from .report import save_figure

    runs = sorted({h["run"] for h in history})
    nights = [_label(r) for r in runs]
    claims = sorted({h["claim"] for h in history})
    index = {r: i for i, r in enumerate(runs)}
    written = []

    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(nights) + 4), 0.28 * len(claims) + 1.5), dpi=100)
    colour = {"verified": "tab:green", "refuted": "tab:orange", "inconclusive": "tab:gray", "error": "tab:red"}
    for h in history:
        y = claims.index(h["claim"])
        ax.scatter(index[h["run"]], y, c=colour.get(h["status"], "k"), marker="s" if h["matches_expected"] else "x", s=40)
    ax.set(yticks=range(len(claims)), yticklabels=claims, xticks=range(len(nights)), title="verdicts per run",
           xlabel="green verified, orange refuted, red error; x = differs from expected")
    ax.set_xticklabels(nights, rotation=45, ha="right", fontsize="small")
    ax.tick_params(axis="y", labelsize="x-small")
    written.append(save_figure(fig, out_dir, "trend-verdicts.png"))

    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    for cid in claims:
        points = [(index[h["run"]], h["worst_slack"]) for h in history
                  if h["claim"] == cid and h["worst_slack"] is not None and math.isfinite(h["worst_slack"])]
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, [max(y, 1e-16) for y in ys], marker=".", label=cid)
    ax.set(yscale="log", title="worst slack per run (lower = closer to the bound)", xticks=range(len(nights)))
    ax.set_xticklabels(nights, rotation=45, ha="right", fontsize="small")
    ax.legend(fontsize="xx-small", ncol=2)
    written.append(save_figure(fig, out_dir, "trend-slack.png"))

    metrics = sorted({(h["claim"], m) for h in history for m in h["metrics"] if m != "worst slack"})
    if metrics:
        fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 1.8 * len(metrics) + 1), dpi=100, squeeze=False)
        for ax, (cid, name) in zip(axes[:, 0], metrics):
            points = [(index[h["run"]], h["metrics"][name]) for h in history
                      if h["claim"] == cid and h["metrics"].get(name) is not None]
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o")
            ax.set_title(f"{cid}: {name}", fontsize="small")
            ax.set_xticks(range(len(nights)))
            ax.set_xticklabels(nights if ax is axes[-1, 0] else [], rotation=45, ha="right", fontsize="x-small")
        written.append(save_figure(fig, out_dir, "trend-metrics.png"))
    return written
