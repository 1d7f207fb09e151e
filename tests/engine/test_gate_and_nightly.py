"""The regression gate and the nightly history: the engine of issue 5."""
from __future__ import annotations

import copy
import json

import pytest

from resclaims.claims.engine import gate, nightly
from resclaims.claims.engine.model import Claim, Hypothesis, Kind, Provenance, Reference, Tracked

TOY = Claim(
    id="toy", title="toy", statement="x \\le 1", conclusion="x \\le 1", kind=Kind.UPPER_BOUND,
    hypotheses=(Hypothesis("x_nonneg", "x \\ge 0", lambda inst: inst["x"] >= 0),),
    references=(Reference("nobody", None, "nowhere"),), provenance=Provenance.DERIVED,
    tracked=(Tracked("iterations", "lower", rtol=0.1),),
)


@pytest.fixture(autouse=True)
def toy_registry(monkeypatch):
    monkeypatch.setattr(gate.registry, "all_claims", lambda: {"toy": TOY})
    monkeypatch.setattr(nightly.registry, "all_claims", lambda: {"toy": TOY})


def _doc(status="verified", iterations=100.0, slack=0.2, complete=True, claims=("toy",), date="2026-11-27T00:00:00+00:00"):
    return {"run": {"date": date, "commit": "abc", "profile": "ci", "complete": complete,
                    "packages": {"hypothesis": "6.155.2"}},
            "claims": [{"id": cid, "expected": "holds", "status": status, "matches_expected": status == "verified",
                        "tests": [{"nodeid": f"tests/test_{cid}.py::test", "outcome": "passed"}],
                        "worst_slack": slack, "examples": {"held": 5, "generated": 6}, "seconds": 1.0,
                        "metrics": {"iterations": {"value": iterations, "reduce": "max", "unit": "", "count": 3}}}
                       for cid in claims]}


def _failures(now, base=None):
    rows, _ = gate.compare(now, gate.baseline_from_report(base or _doc()))
    return [(r.claim, r.metric, r.outcome) for r in rows if r.failed]


def test_gate_passes_on_the_baseline_run_and_within_tolerance():
    assert _failures(_doc()) == []
    assert _failures(_doc(iterations=109.9, slack=0.1995)) == []  # rtol 0.1; slack atol 1e-3


@pytest.mark.parametrize("now, expected", [
    (_doc(iterations=111.0), [("toy", "iterations", "worse than the baseline (lower is better)")]),
    (_doc(slack=0.1), [("toy", "worst slack", "worse than the baseline (higher is better)")]),
    (_doc(status="refuted"), [("toy", "verdict", "verdict changed")]),
    (_doc(claims=()), [("toy", "verdict", "claim missing from the run")]),
    (_doc(complete=False), [("(run)", "complete", "the run is incomplete")]),
])
def test_gate_fails_on_each_kind_of_regression(now, expected):
    assert _failures(now) == expected


def test_gate_fails_on_a_claim_without_baseline_and_an_untracked_measurement():
    base = _doc()
    del base["claims"][0]["metrics"]["iterations"]
    assert _failures(_doc(), base) == [
        ("toy", "iterations", "tracked metric without a baseline value (accept with --update-baseline)")]
    now = _doc()
    now["claims"].append({**copy.deepcopy(now["claims"][0]), "id": "newcomer"})
    assert ("newcomer", "verdict", "claim without a baseline entry (accept with --update-baseline)") in _failures(now)
    now = _doc()
    del now["claims"][0]["metrics"]["iterations"]
    assert _failures(now) == [("toy", "iterations", "tracked metric not measured")]


def test_gate_fails_when_a_tracked_metric_is_measured_nowhere():
    """A misspelt tracked name is in neither the baseline nor the run: that is a failure, not "ok"."""
    base, now = _doc(), _doc()
    del base["claims"][0]["metrics"]["iterations"]
    del now["claims"][0]["metrics"]["iterations"]
    assert _failures(now, base) == [
        ("toy", "iterations", "tracked metric not measured (neither in the baseline nor in this run)")]


def test_gate_tracks_every_atlas_row_in_its_search_direction(monkeypatch):
    from resclaims.claims.engine.model import Constant, Truth

    atlas = Claim(**{**TOY.__dict__, "constants": (
        Constant("c", "a largest-valid constant", Truth.LARGEST_VALID, "unnamed", "unknown", 0.1, "proof", "open"),
        Constant("K", "a smallest-valid constant", Truth.SMALLEST_VALID, "3", "unknown", 3.0, "proof", "open"))})
    monkeypatch.setattr(gate.registry, "all_claims", lambda: {"toy": atlas})
    c, k = atlas.constant("c").metric, atlas.constant("K").metric

    def doc(c_found, k_found):
        d = _doc()
        d["claims"][0]["metrics"].update({c: {"value": c_found, "reduce": "min", "unit": "", "count": 1},
                                          k: {"value": k_found, "reduce": "max", "unit": "", "count": 1}})
        return d

    base = doc(0.5, 2.0)
    assert _failures(doc(0.4, 2.5), base) == []  # stronger searches pass
    assert _failures(doc(0.6, 1.9), base) == [("toy", c, "worse than the baseline (lower is better)"),
                                              ("toy", k, "worse than the baseline (higher is better)")]
    assert _failures(_doc(), base) == [("toy", c, "tracked metric not measured"), ("toy", k, "tracked metric not measured")]


def test_gate_writes_its_diff_into_the_report_and_updates_only_explicitly(tmp_path):
    report, baseline = tmp_path / "latest.json", tmp_path / "baseline.json"
    report.write_text(json.dumps(_doc()))
    (tmp_path / "latest.md").write_text("# report\n")
    out = []
    assert gate.run_gate(report, baseline, echo=out.append) == 2 and "no baseline" in out[-1]
    assert gate.run_gate(report, baseline, update=True, echo=out.append) == 0
    assert gate.run_gate(report, baseline, echo=out.append) == 0
    report.write_text(json.dumps(_doc(iterations=200.0)))
    assert gate.run_gate(report, baseline, echo=out.append) == 1
    assert "toy" in out[-1] and "iterations" in out[-1] and "110" in out[-1]  # claim, metric, limit
    md = (tmp_path / "latest.md").read_text()
    assert md.count("## Regression gate") == 1 and "| toy | iterations | 100 | 200 | 110 |" in md
    assert json.loads(report.read_text())["gate"]["passed"] is False
    report.write_text(json.dumps(_doc(complete=False)))
    assert gate.run_gate(report, baseline, update=True, echo=out.append) == 2  # never accept a partial run
    subset = _doc()
    subset["claims"][0]["tests"] = []
    report.write_text(json.dumps(subset))
    assert gate.run_gate(report, baseline, update=True, echo=out.append) == 2  # nor a run of a subset
    assert "claims not run: toy" in out[-1]
    assert json.loads(baseline.read_text())["claims"]["toy"]["metrics"]["iterations"] == 100.0


def test_nightly_history_keeps_every_run_once_and_trends_are_linked(tmp_path):
    runs = (("2026-11-25", "2026-11-25T02:00:00+00:00", 100.0), ("2026-11-26", "2026-11-26T02:00:00+00:00", 90.0),
            ("2026-11-26", "2026-11-26T02:00:00+00:00", 90.0), ("2026-11-26", "2026-11-26T09:30:00+00:00", 80.0))
    for night, date, iterations in runs:  # the third records the second's report again: a no-op
        report = tmp_path / f"{night}.json"
        report.write_text(json.dumps(_doc(iterations=iterations, date=date)))
        report.with_suffix(".md").write_text("# night\n")
        nightly.record_night(report)
    history = nightly.read_history(tmp_path / nightly.HISTORY)
    assert [(h["night"], h["metrics"]["iterations"]) for h in history] == [
        ("2026-11-25", 100.0), ("2026-11-26", 90.0), ("2026-11-26", 80.0)]
    md = (tmp_path / "2026-11-26.md").read_text()
    assert md.count("## Trend over past nights") == 1 and "| toy | ✓ 0.2 | ✓ 0.2 | ✓ 0.2 |" in md
    assert "| claim | 2026-11-25 02:00 | 2026-11-26 02:00 | 2026-11-26 09:30 |" in md
    if pytest.importorskip("matplotlib"):
        assert "![trend-slack](trend-slack.png)" in md and (tmp_path / "trend-metrics.png").exists()


def test_night_names_are_dates():
    assert nightly.night_name("2026-11-27") == "2026-11-27"
    with pytest.raises(SystemExit, match="YYYY-MM-DD"):
        nightly.night_name("yesterday")


def test_an_interrupted_night_leaves_a_partial_report_and_earlier_nights_intact(tmp_path):
    from resclaims.claims.engine import report
    from resclaims.claims.engine.judge import ClaimRun

    info = {"date": "2026-11-27T02:00:00+00:00", "commit": "abc", "dirty": False, "profile": "nightly",
            "seed_policy": "random", "complete": True, "exitstatus": 0, "workers": 2, "packages": {},
            "machine": {"python": "3.11", "platform": "x", "processor": "y", "cpus": 2}, "args": []}
    md, _ = report.write_reports([ClaimRun(TOY)], info, tmp_path, "2026-11-26")
    before = md.read_text()
    partial, _ = report.write_reports([ClaimRun(TOY)], {**info, "complete": False}, tmp_path, "2026-11-27")
    assert partial.name == "2026-11-27.partial.md" and "INCOMPLETE RUN" in partial.read_text()
    assert md.read_text() == before and not (tmp_path / "2026-11-27.md").exists()
