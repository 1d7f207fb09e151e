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
    """Trend heat maps, claims x runs (verdicts, worst slack, tracked metrics relative to their
    first run): readable with 40 claims where 40 overlapping lines are not; [] without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap
    except ImportError:
        return []
    import numpy as np

    from .report import save_figure

    runs = sorted({h["run"] for h in history})
    labels = [_label(r) for r in runs]
    claims = sorted({h["claim"] for h in history})
    col, row = {r: i for i, r in enumerate(runs)}, {c: i for i, c in enumerate(claims)}

    def heat_map(matrix, rows, title, file, **image):
        fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(runs) + 4), 0.22 * len(rows) + 1.8), dpi=100)
        shown = ax.imshow(matrix, aspect="auto", interpolation="nearest", **image)
        ax.set(yticks=range(len(rows)), xticks=range(len(runs)), title=title)
        ax.set_yticklabels(rows, fontsize="x-small")
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize="x-small")
        return fig, ax, shown

    # verdicts: 0 verified, 1 refuted, 2 inconclusive, 3 error; a cell differing from expected is hatched
    codes = {"verified": 0, "refuted": 1, "inconclusive": 2, "error": 3}
    verdicts = np.full((len(claims), len(runs)), np.nan)
    for h in history:
        verdicts[row[h["claim"]], col[h["run"]]] = codes.get(h["status"], 3)
    fig, ax, _ = heat_map(verdicts, claims, "verdict per claim and run (green verified, orange refuted, grey "
                          "inconclusive, red error; x: differs from expected)", "trend-verdicts.png",
                          cmap=ListedColormap(["tab:green", "tab:orange", "tab:gray", "tab:red"]), vmin=-0.5, vmax=3.5)
    for h in history:
        if not h["matches_expected"]:
            ax.text(col[h["run"]], row[h["claim"]], "x", ha="center", va="center", color="white", fontsize="small")
    written = [save_figure(fig, out_dir, "trend-verdicts.png")]

    slack = np.full((len(claims), len(runs)), np.nan)
    for h in history:
        if h["worst_slack"] is not None and math.isfinite(h["worst_slack"]):
            slack[row[h["claim"]], col[h["run"]]] = math.log10(max(abs(h["worst_slack"]), 1e-16))
    fig, ax, shown = heat_map(slack, claims, "log10 |worst slack| per claim and run (dark = at the bound)",
                              "trend-slack.png", cmap="viridis", vmin=-16, vmax=0)
    fig.colorbar(shown, ax=ax, fraction=0.03)
    written.append(save_figure(fig, out_dir, "trend-slack.png"))

    metrics = sorted({(h["claim"], m) for h in history for m in h["metrics"] if m != "worst slack"})
    if metrics:
        change = np.full((len(metrics), len(runs)), np.nan)
        for k, (cid, name) in enumerate(metrics):
            first = None
            for h in sorted((h for h in history if h["claim"] == cid), key=lambda h: h["run"]):
                value = h["metrics"].get(name)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    first = value if first is None else first
                    change[k, col[h["run"]]] = 0.0 if value == first else math.copysign(
                        math.log10(1 + abs(value - first) / max(abs(first), 1e-300)), value - first)
        fig, ax, shown = heat_map(change, [f"{cid}: {name}"[:70] for cid, name in metrics],
                                  "tracked metrics: signed log10(1 + relative change) from the claim's first run",
                                  "trend-metrics.png", cmap="coolwarm", vmin=-1, vmax=1)
        fig.colorbar(shown, ax=ax, fraction=0.03)
        written.append(save_figure(fig, out_dir, "trend-metrics.png"))
    return written
