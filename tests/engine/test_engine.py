"""The engine itself: evidence recording and aggregation, verdicts, reports, command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resclaims.claims.engine import cli, evidence, registry, report
from resclaims.claims.engine.evidence import ClaimEvidence
from resclaims.claims.engine.model import Claim, Constant, Expected, Hypothesis, Kind, Provenance, Reference, Truth
from resclaims.claims.engine.judge import CANARY, ERROR, VIOLATION, ClaimRun
from resclaims.claims.engine.judge import TestOutcome as Outcome

TOY = Claim(
    id="toy", title="toy", statement="x \\le 1", conclusion="x \\le 1", kind=Kind.UPPER_BOUND,
    hypotheses=(Hypothesis("x_nonneg", "x \\ge 0", lambda inst: inst["x"] >= 0),),
    references=(Reference("nobody", None, "nowhere"),), provenance=Provenance.DERIVED,
)


def test_refuted_claim_needs_a_corrected_variant():
    with pytest.raises(ValueError, match="corrected_variant"):
        Claim(**{**TOY.__dict__, "expected": Expected.REFUTED})


def test_check_upper_records_and_raises_only_when_hypotheses_hold():
    with evidence.scratch() as acc:
        assert evidence.check_upper(TOY, {"x": 0.5}, lhs=0.5, rhs=1.0, rtol=0) == 0.5
        evidence.check_upper(TOY, {"x": -3.0}, lhs=7.0, rhs=1.0, rtol=0)  # hypothesis fails: no raise
        with pytest.raises(evidence.Violation, match="toy violated"):
            evidence.check_upper(TOY, {"x": 2.0}, lhs=2.0, rhs=1.0, rtol=0)
    ev = acc["toy"]
    assert (ev.generated, ev.held, ev.violations) == (3, 2, 1)
    assert ev.worst_slack == -1.0 and ev.worst_instance == {"x": 2.0}
    assert ev.counterexample["instance"] == {"x": 2.0}


def test_tolerance_is_one_sided():
    with evidence.scratch() as acc:
        evidence.check_upper(TOY, {"x": 1.0}, lhs=1.0 + 1e-12, rhs=1.0, rtol=1e-9)  # rounding: no raise
        with pytest.raises(evidence.Violation):
            evidence.check_upper(TOY, {"x": 1.0}, lhs=1.0 + 1e-6, rhs=1.0, rtol=1e-9)
    assert acc["toy"].violations == 1


@pytest.mark.parametrize("check, lhs, rhs, violated", [
    # the tolerance widens the accepted side whatever the sign of rhs: atol + rtol |rhs|
    (evidence.check_upper, -1.0 + 0.5e-9, -1.0, False),
    (evidence.check_upper, -1.0 + 2e-9, -1.0, True),   # rhs (1 + rtol) would have accepted far less
    (evidence.check_lower, -1.0 - 0.5e-9, -1.0, False),
    (evidence.check_lower, -1.0 - 2e-9, -1.0, True),
    (evidence.check_upper, 1.0 + 0.5e-9, 1.0, False),
    (evidence.check_lower, 1.0 - 2e-9, 1.0, True),
])
def test_one_comparison_rule_for_either_sign(check, lhs, rhs, violated):
    with evidence.scratch() as acc:
        try:
            check(TOY, {"x": 1.0}, lhs=lhs, rhs=rhs, rtol=1e-9)
        except evidence.Violation:
            pass
    assert acc["toy"].violations == int(violated)


def test_exact_boolean_symbolic_and_allclose_checks_record_their_instance():
    import sympy

    x = sympy.Symbol("x")
    with evidence.scratch() as acc:
        evidence.check_equal(TOY, {"x": 1.0}, actual=(2, 3), expected=(2, 3), what="shape")
        evidence.check_true(TOY, {"x": 1.0}, holds=True, what="converged")
        evidence.check_symbolic(TOY, {"x": 1.0}, lhs=(x + 1) ** 2, rhs=x**2 + 2 * x + 1, what="square")
        evidence.check_allclose(TOY, {"x": 1.0}, actual=[1.0, -2.0], desired=[1.0, -2.0 + 1e-12], rtol=1e-9)
        for call in (lambda: evidence.check_equal(TOY, {"x": 2.0}, actual=3, expected=4, what="count"),
                     lambda: evidence.check_true(TOY, {"x": 3.0}, holds=False, what="converged"),
                     lambda: evidence.check_symbolic(TOY, {"x": 4.0}, lhs=(x + 1) ** 2, rhs=x**2 + 1, what="square"),
                     lambda: evidence.check_allclose(TOY, {"x": 5.0}, actual=[1.0], desired=[1.1], rtol=1e-9)):
            with pytest.raises(evidence.Violation):
                call()
    ev = acc["toy"]
    assert (ev.generated, ev.held, ev.violations) == (8, 8, 4)
    assert ev.counterexample["instance"] == {"x": 5.0}  # allclose's slack is the most negative


def test_missing_instance_key_is_an_error_not_a_held_hypothesis():
    from resclaims.claims.engine.model import MissingInstanceKey

    with evidence.scratch(), pytest.raises(MissingInstanceKey, match="reads 'x', absent from the instance"):
        evidence.check_upper(TOY, {"y": 0.5}, lhs=0.5, rhs=1.0, rtol=0)
    lenient = Claim(**{**TOY.__dict__, "hypotheses": (
        Hypothesis("x_nonneg", "x \\ge 0", lambda inst: inst.get("x", 0.0) >= 0),)})
    with evidence.scratch(), pytest.raises(MissingInstanceKey):  # .get(key, default) does not default
        evidence.check_upper(lenient, {"y": 0.5}, lhs=0.5, rhs=1.0, rtol=0)


def test_every_record_carries_the_node_id_of_its_test():
    acc = evidence.begin_test("tests/test_toy.py::test_x[1]")
    try:
        evidence.check_upper(TOY, {"x": 0.5}, lhs=0.5, rhs=1.0, rtol=0)
        evidence.record_metric(TOY, "m", 1.0)
        evidence.record_canary(TOY, "planted", caught=True)
        evidence.record_table(TOY, "t", ["a"], [[1]])
        evidence.record_counterexample(TOY, {"x": 3.0}, slack=-2.0, message="3 > 1", reproduction="x = 3.0 > 1.0")
    finally:
        evidence.end_test()
    ev, nodeid = acc["toy"], "tests/test_toy.py::test_x[1]"
    assert ev.worst_nodeid == nodeid and ev.counterexample["nodeid"] == nodeid
    assert ev.metrics["m"]["nodeids"] == [nodeid] and ev.canaries["planted"]["nodeid"] == nodeid
    assert ev.tables["t"]["nodeids"] == [nodeid]


def test_a_reproduction_that_does_not_run_as_printed_is_an_error():
    with evidence.scratch(), pytest.raises(evidence.ReproductionFailed, match="does not run as printed"):
        evidence.record_counterexample(TOY, {"x": 3.0}, slack=-2.0, message="3 > 1",
                                       reproduction="assert 3.0 <= 1.0, 'the violation'")


def test_nan_is_an_error_not_a_pass():
    with evidence.scratch(), pytest.raises(FloatingPointError, match="lhs is nan"):
        evidence.check_upper(TOY, {"x": 1.0}, lhs=float("nan"), rhs=1.0, rtol=0)


def test_scratch_does_not_leak_into_the_test_evidence():
    outer = evidence._acc()
    with evidence.scratch():
        with pytest.raises(evidence.Violation):
            evidence.check_upper(TOY, {"x": 1.0}, lhs=5.0, rhs=1.0, rtol=0)
    assert "toy" not in outer.by_claim


def test_canary_that_is_not_caught_fails_the_test():
    with evidence.scratch(), pytest.raises(evidence.CanaryNotCaught, match="was not caught"):
        evidence.record_canary(TOY, "planted", caught=False)


def test_to_builtin_makes_payloads_json_safe():
    payload = evidence.to_builtin({"a": np.float32(1.5), "b": np.arange(3), "c": np.bool_(True),
                                   "big": np.ones((17, 17)), "inf": np.inf, "n": np.int64(4)})
    assert json.loads(json.dumps(payload)) == {"a": 1.5, "b": [0, 1, 2], "c": True,
                                               "big": {"shape": [17, 17], "fro_norm": 17.0}, "inf": "inf", "n": 4}


observations = st.lists(st.tuples(st.floats(-2, 2), st.integers(0, 5), st.booleans()), max_size=8)


def _evidence(obs) -> ClaimEvidence:
    ev = ClaimEvidence()
    for slack, x, held in obs:
        ev.observe({"x": x}, held, slack, slack < 0)
        if held:
            ev.metric("m", slack, "max")
        ev.table("t", ["x", "held"], [[x, held]])
        ev.add_series("s", {"x_label": "x", "y_label": "slack", "log_x": False, "log_y": False,
                            "curves": {f"c{x % 2}": [[x, slack]]}})
        ev.offer_constant("k", {"truth": "largest valid", "value": slack, "instance": {"x": x}, "reproduction": "",
                                "nodeid": f"t{x}", "effort": {"methods": [f"m{x % 3}"], "starts": 1,
                                                              "evaluations": x + 1, "searches": 1}})
    return ev


@given(a=observations, b=observations, c=observations)
def test_merge_is_commutative_and_associative(a, b, c):
    """The reason results agree between -n 0 and -n auto: worker order cannot matter."""
    def merged(*parts):
        out = ClaimEvidence()
        for p in parts:
            out.merge(ClaimEvidence.from_json(json.loads(json.dumps(_evidence(p).to_json()))))
        return out.to_json()

    assert merged(a, b, c) == merged(c, a, b) == merged(b, c, a)


CAUGHT = {"planted": {"caught": True, "detail": "", "nodeid": "t0"}}


def _evidence_with(**kw) -> ClaimEvidence:
    return ClaimEvidence(**{"generated": 3, "held": 3, "worst_slack": 0.1, "canaries": CAUGHT, **kw})


def _run(outcomes, ev=None) -> ClaimRun:
    return ClaimRun(TOY, ev or _evidence_with(),
                    [Outcome(f"t{i}", o, exc, failure=kind)
                     for i, (o, exc, kind) in enumerate((*x, None)[:3] for x in outcomes)])


@pytest.mark.parametrize("outcomes, ev, status", [
    ([("passed", None)], None, "verified"),
    ([], None, "inconclusive"),
    ([("skipped", None)], None, "inconclusive"),
    ([("passed", None)], _evidence_with(generated=5, held=0), "inconclusive"),
    ([("failed", "Violation", VIOLATION)], _evidence_with(violations=1), "refuted"),
    ([("failed", "AssertionError", ERROR)], _evidence_with(violations=1), "error"),  # a bare assert: not evidence
    ([("failed", "Violation", VIOLATION)], None, "error"),  # a violation the evidence does not hold
    ([("failed", "LinAlgError", ERROR)], None, "error"),
    ([("failed", "CanaryNotCaught", CANARY)],
     _evidence_with(canaries={"planted": {"caught": False, "detail": "", "nodeid": "t0"}}), "error"),
    ([("passed", None)], _evidence_with(canaries={}), "inconclusive"),  # no sensitivity check ran
    ([("passed", None)], _evidence_with(polished={"violated": True}, violations=1), "refuted"),
])
def test_the_judge_decides_every_status(outcomes, ev, status):
    assert _run(outcomes, ev).judgement.status == status


def test_a_polished_violation_refutes_the_claim():
    """Planted: the search's worst instance x = 0.9 holds (x <= 1); polishing moves x past 1."""
    from resclaims.claims.engine import tightness

    def check(x):
        return evidence.check_upper(TOY, {"x": x}, lhs=x, rhs=1.0, rtol=0)

    spec = tightness.Polish(check, lambda inst: (inst["x"],), ("x",))
    ev = _evidence_with(worst_slack=0.1, worst_instance={"x": 0.9})
    assert _run([("passed", None)], ev).judgement.status == "verified"
    result = tightness.polish(TOY, spec, {"x": 0.9})
    assert result["violated"] and result["slack"] < 0
    ev.merge(tightness.record_polished(TOY, spec, result, "tests/test_toy.py::POLISH"))
    judged = _run([("passed", None)], ev).judgement
    assert (judged.status, ev.violations) == ("refuted", 1) and "polishing found" in judged.reason
    assert ev.counterexample["nodeid"] == "tests/test_toy.py::POLISH"


def _info(complete=True):
    return {"date": "2026-01-01T00:00:00+00:00", "commit": "abc", "dirty": False, "profile": "ci",
            "seed_policy": "derandomized", "complete": complete, "exitstatus": 0, "workers": 0,
            "packages": {"numpy": "2"}, "machine": {"python": "3.11", "platform": "x", "processor": "y",
                                                    "cpus": 2}, "args": []}


def test_report_shows_counterexample_with_reproduction(tmp_path):
    ev = ClaimEvidence(generated=1, held=1, violations=1, worst_slack=-1.0, worst_instance={"x": 2.0},
                       counterexample={"instance": {"x": 2.0}, "slack": -1.0, "message": "2 > 1",
                                       "reproduction": "assert 2.0 <= 1.0"})
    md, js = report.write_reports([_run([("passed", None)], ev)], _info(), tmp_path / "reports")
    text = md.read_text()
    assert "**refuted** ✗" in text and "```python\nassert 2.0 <= 1.0\n```" in text
    assert "[claims/toy.py](../claims/toy.py) · [tests/test_toy.py](../tests/test_toy.py)" in text
    doc = json.loads(js.read_text())
    assert doc["schema_version"] == report.SCHEMA_VERSION
    c = doc["claims"][0]
    assert (c["status"], c["expected"], c["matches_expected"]) == ("refuted", "holds", False)
    assert set(c) >= {"id", "title", "expected", "status", "examples", "worst_slack", "metrics"}


def test_report_renders_tables_and_figures(tmp_path):
    pytest.importorskip("matplotlib")
    with evidence.scratch() as acc:
        evidence.record_table(TOY, "rate per depth", ["L", "rate"], [[8, 0.5], [2, 0.25]])
        evidence.record_series(TOY, "loss curve", x_label="t", y_label="loss", log_y=True,
                               curves={"L=2": ([0, 1, 2], [1.0, 0.1, 0.01])})
        with pytest.raises(ValueError, match="xs and ys"):
            evidence.record_series(TOY, "bad", x_label="t", y_label="y", curves={"c": ([0, 1], [1.0])})
    md, js = report.write_reports([_run([("passed", None)], acc[TOY.id])], _info(), tmp_path)
    text = md.read_text()
    assert "| L | rate |" in text and text.index("| 2 | 0.25 |") < text.index("| 8 | 0.5 |")
    assert "![loss curve](figures/latest-toy-loss-curve.png)" in text
    assert (tmp_path / "figures/latest-toy-loss-curve.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(js.read_text())["claims"][0]["series"]["loss curve"]["curves"]["L=2"][2] == [2.0, 0.01]


def test_incomplete_run_keeps_the_last_complete_report(tmp_path):
    report.write_reports([_run([("passed", None)])], _info(), tmp_path)
    before = (tmp_path / "latest.json").read_text()
    md, _ = report.write_reports([_run([])], _info(complete=False), tmp_path)
    assert md.name == "partial.md" and "INCOMPLETE RUN" in md.read_text()
    assert (tmp_path / "latest.json").read_text() == before


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "latest.json"
    target.write_text("old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        report.atomic_write(target, "new")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_cli_list_and_show(capsys):
    assert cli.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert all(cid in listing for cid in registry.all_claims())
    assert cli.main(["show", "a4_balanced_factorization"]) == 0
    assert "statement:" in capsys.readouterr().out
    assert cli.main(["show", "nope"]) == 2


def _claims_json(report_dir: Path) -> list[dict]:
    doc = json.loads((report_dir / "latest.json").read_text())
    for c in doc["claims"]:
        c.pop("seconds")
    return doc["claims"]


def test_same_results_in_process_and_with_xdist(tmp_path):
    """One engine, two doors: -n 0 and -n 2 give identical claim results (ci profile)."""
    root = Path(__file__).resolve().parents[2]
    selection = ["tests/test_a4_balanced_factorization.py", "tests/test_b9_margin_projection.py"]
    for workers in ("0", "2"):
        subprocess.run([sys.executable, "-m", "pytest", *selection, "-q", "-p", "no:cacheprovider",
                        "-n", workers, "--hypothesis-profile=ci", f"--resclaims-report-dir={tmp_path / workers}"],
                       cwd=root, check=True, capture_output=True)
    assert _claims_json(tmp_path / "0") == _claims_json(tmp_path / "2")


def test_borderline_violation_is_rechecked_in_high_precision():
    import mpmath

    with evidence.scratch() as acc:
        # float says 1 + 1e-15 > 1, the exact values say equal: cleared, exact slack recorded
        slack = evidence.check_upper(TOY, {"x": 1.0}, lhs=1.0 + 1e-15, rhs=1.0, rtol=0,
                                     exact=lambda: (mpmath.mpf(1), mpmath.mpf(1)))
        assert slack == 0.0
        with pytest.raises(evidence.Violation):  # confirmed in high precision: a real violation
            evidence.check_upper(TOY, {"x": 1.0}, lhs=2.0, rhs=1.0, rtol=0,
                                 exact=lambda: (mpmath.mpf(2), mpmath.mpf(1)))
    metrics = acc["toy"].metrics
    assert metrics["borderline: float violations re-checked at 50 digits"]["value"] == 2
    assert metrics["borderline: violations confirmed at 50 digits"]["value"] == 1


def test_recorded_counterexample_makes_the_claim_refuted_with_its_reproduction(tmp_path):
    """The path a refuted-as-stated claim takes: record_counterexample -> status refuted."""
    with evidence.scratch() as acc:
        evidence.record_counterexample(TOY, {"x": 3.0}, slack=-2.0, message="3 > 1",
                                       reproduction="x = 3.0\nassert x > 1.0  # the slide's x <= 1 fails")
        evidence.record_counterexample(TOY, {"x": 2.0}, slack=-1.0, message="2 > 1",
                                       reproduction="x = 2.0\nassert x > 1.0")
    ev = acc["toy"]
    assert ev.counterexample["instance"] == {"x": 3.0}  # the most violating one, order-independent
    run = _run([("passed", None)], ev)
    assert run.judgement.status == "refuted"
    md, _ = report.write_reports([run], _info(), tmp_path)
    printed = md.read_text().split("```python\n")[1].split("\n```")[0]
    assert printed == "x = 3.0\nassert x > 1.0  # the slide's x <= 1 fails"
    evidence.run_reproduction(TOY, printed)  # runs as printed


def test_reports_go_to_the_project_of_the_working_directory(tmp_path, monkeypatch):
    """A second clone sharing the environment verifies into its own reports/, not the installed one's."""
    clone = tmp_path / "second-clone"
    (clone / "tests").mkdir(parents=True)
    (clone / "claims").mkdir()
    (clone / "pyproject.toml").write_text('[project]\nname = "resclaims"\n')
    (clone / "claims" / "deep").mkdir()
    assert cli.project_root(clone / "claims" / "deep") == clone
    monkeypatch.chdir(clone)
    assert cli._tests_dir() == clone / "tests"
    elsewhere = tmp_path / "not-a-clone"
    elsewhere.mkdir()
    assert cli.project_root(elsewhere) == cli.INSTALLED_ROOT


def test_polishing_reads_POLISH_from_the_collected_modules_and_rejudges(tmp_path):
    """``--collect-only --resclaims-polish REPORT``: POLISH comes from the test module pytest
    collected (no sys.path), the polished instance joins the evidence and the report is rewritten
    by the judge (the claim stays verified: the real bound holds)."""
    root = Path(__file__).resolve().parents[2]
    module = "tests/test_c2_forward_lipschitz_bound.py"
    common = [sys.executable, "-m", "pytest", module, "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
              "--hypothesis-profile=ci"]
    subprocess.run([*common, f"--resclaims-report-dir={tmp_path}"], cwd=root, check=True, capture_output=True)
    before = json.loads((tmp_path / "latest.json").read_text())
    out = subprocess.run([*common, "--collect-only", "--resclaims-no-report",
                          f"--resclaims-polish={tmp_path / 'latest.json'}"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "c2_forward_lipschitz_bound: slack" in out.stdout
    after = {c["id"]: c for c in json.loads((tmp_path / "latest.json").read_text())["claims"]}
    claim = after["c2_forward_lipschitz_bound"]
    assert claim["status"] == "verified" and claim["polished"]["evaluations"] > 0
    assert claim["worst_slack"] <= [c for c in before["claims"] if c["id"] == claim["id"]][0]["worst_slack"]
    assert "## Polished tightness" in (tmp_path / "latest.md").read_text()


def test_checks_under_their_own_hypotheses_are_counted_in_the_report():
    """``held=`` replaces the claim's hypotheses (a lemma, a fact about a finding): such records
    are counted apart, so the report shows how much of the evidence they are."""
    with evidence.scratch() as acc:
        evidence.check_upper(TOY, {"x": 0.5}, lhs=0.5, rhs=1.0, rtol=0)
        evidence.check_true(TOY, {"x": -1.0}, holds=True, what="a lemma", held={})
        evidence.check_true(TOY, {"x": -1.0}, holds=True, what="a lemma", held={"lemma applies": False})
    ev = acc["toy"]
    assert (ev.generated, ev.held) == (3, 2)
    assert ev.metrics[evidence.OWN_HYPOTHESES_METRIC]["value"] == 1


def test_weak_testing_counts_only_the_claims_own_hypotheses():
    ev = _evidence_with(generated=40, held=40, metrics={evidence.OWN_HYPOTHESES_METRIC: {
        "value": 35, "reduce": "sum", "unit": "", "count": 35, "nodeids": []}})
    judged = _run([("passed", None)], ev).judgement
    assert judged.status == "verified" and judged.weakly_tested  # 5 of 40 held the claim's hypotheses
    assert "35 of them checked under hypotheses of their own" in judged.reason


# --- the constants atlas -------------------------------------------------------------------------

ATLAS_TOY = Claim(**{**TOY.__dict__, "id": "atlas_toy", "constants": (
    Constant("c", "largest x from which the toy converges", Truth.LARGEST_VALID, slide="unnamed",
             paper="unknown", proven=0.25, proven_by="a proof", other_side="open"),
    Constant("K", "coefficient of the toy bound", Truth.SMALLEST_VALID, slide="4", paper="3 (v2)",
             proven=2.0, proven_by="a proof", other_side="exact family"))})


def _found(name, value, x=0.0, evaluations=10):
    return evidence.record_constant(ATLAS_TOY, name, value=value, instance={"x": x},
                                    reproduction=f"value = {value!r}", method="Nelder-Mead", starts=2,
                                    evaluations=evaluations, rtol=1e-9)


def test_an_atlas_search_keeps_its_extremal_instance_and_adds_up_its_effort():
    with evidence.scratch() as acc:
        assert _found("c", 0.5, x=1.0) == 0.5          # room: proven / found
        assert _found("c", 0.4, x=2.0) == 0.25 / 0.4   # a failure at a smaller value is the better bound
        _found("c", 0.45, x=3.0)
        assert _found("K", 1.5) == 0.75                 # room: found / proven
        _found("K", 1.0)
    ev = acc["atlas_toy"]
    c, k = ev.constants["c"], ev.constants["K"]
    assert (c["value"], c["instance"], c["effort"]) == (0.4, {"x": 2.0}, {
        "methods": ["Nelder-Mead"], "starts": 6, "evaluations": 30, "searches": 3})
    assert k["value"] == 1.5 and ev.metrics[ATLAS_TOY.constant("K").metric]["value"] == 1.5
    assert ev.metrics[ATLAS_TOY.constant("c").metric]["value"] == 0.4


def test_a_search_that_beats_the_proven_constant_refutes_the_claim():
    with evidence.scratch() as acc:
        with pytest.raises(evidence.Violation):
            _found("c", 0.2)        # a failure below the proven 0.25
        with pytest.raises(evidence.Violation):
            _found("K", 2.5)        # an instance needing more than the proven 2
        _found("K", 2.0 * (1 + 1e-12))  # rounding of a tight family: within rtol
    assert acc["atlas_toy"].violations == 2


@pytest.mark.parametrize("snippet, message", [
    ("value = 0.3", "the reproduction gives value=0.3"),
    ("x = 1", "binds no `value`"),
    ("raise ValueError('no')", "does not run as printed"),
])
def test_an_atlas_reproduction_must_recompute_the_value(snippet, message):
    with evidence.scratch(), pytest.raises(evidence.ReproductionFailed, match=message):
        evidence.record_constant(ATLAS_TOY, "c", value=0.5, instance={"x": 0.0}, reproduction=snippet,
                                 method="Nelder-Mead", starts=1, evaluations=1, rtol=0.0)


def test_an_undeclared_constant_or_an_effortless_search_is_an_error():
    with evidence.scratch():
        with pytest.raises(KeyError, match="declares no constant 'c_9'"):
            evidence.record_constant(ATLAS_TOY, "c_9", value=1.0, instance={}, reproduction="value = 1.0",
                                     method="m", starts=1, evaluations=1, rtol=0.0)
        with pytest.raises(ValueError, match="starts >= 1"):
            evidence.record_constant(ATLAS_TOY, "c", value=1.0, instance={}, reproduction="value = 1.0",
                                     method="m", starts=0, evaluations=0, rtol=0.0)


def test_an_unsearched_constant_leaves_the_claim_inconclusive_and_the_atlas_shows_it(tmp_path):
    with evidence.scratch() as acc:
        evidence.check_upper(ATLAS_TOY, {"x": 0.5}, lhs=0.5, rhs=1.0, rtol=0)
        evidence.record_canary(ATLAS_TOY, "planted", caught=True)
        _found("c", 0.5)
    run = ClaimRun(ATLAS_TOY, acc["atlas_toy"], [Outcome("t0", "passed")])
    assert (run.judgement.status, run.judgement.reason) == ("inconclusive", "constant K of the atlas was not searched")
    md, js = report.write_reports([run], _info(), tmp_path)
    doc = json.loads(js.read_text())
    assert (doc["schema_version"], doc["schema_revision"]) == (1, 2)
    rows = {r["name"]: r for r in doc["atlas"]}
    assert rows["c"]["best_found"] == 0.5 and rows["c"]["room"] == 0.5 and rows["K"]["search"] is None
    assert rows["c"]["search"]["reproduction"] == "value = 0.5"
    text = md.read_text()
    assert "## Constants atlas" in text and "**not searched**" in text
    assert "| c | [atlas_toy](#atlas-toy) | largest valid | unnamed | unknown | 0.25 | 0.5 | 0.5 | open |" in text
    # the JSON round trip (polishing re-judges from a written report) keeps the atlas
    again = report.run_from_json(ATLAS_TOY, doc["claims"][0])
    assert again.evidence.constants["c"]["value"] == 0.5 and again.judgement.status == "inconclusive"
