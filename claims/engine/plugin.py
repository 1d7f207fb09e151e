"""The pytest plugin: one engine behind ``pytest -n auto`` and ``resclaims verify``.

Loaded with ``-p resclaims.claims.engine.plugin`` (the project's pytest ``addopts``). In every
process it opens an evidence accumulator around each test call and attaches its payload to
the test report (``user_properties``), which xdist ships to the controller. Only the
controller (``not hasattr(config, "workerinput")``) aggregates and writes the reports, once,
atomically, also when the run is interrupted (the report is then marked incomplete).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

# Cap BLAS threads before numpy is imported anywhere: xdist workers inherit the
# environment, and n workers x n BLAS threads on a 2-core machine only thrash.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from . import evidence, profiles, registry  # noqa: E402  (profiles registers the profiles)
from .judge import CANARY, ERROR, VIOLATION, ClaimRun, TestOutcome  # noqa: E402

_PAYLOAD_KEY = "resclaims"
_ACC = pytest.StashKey[evidence.Accumulator | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("resclaims", "claim verification reports")
    group.addoption(
        "--resclaims-report-dir",
        default=None,
        help="where latest.md / latest.json are written (default: <rootdir>/reports)",
    )
    group.addoption(
        "--resclaims-no-report", action="store_true", help="do not write the Markdown/JSON report"
    )
    group.addoption(
        "--resclaims-report-stem", default="latest",
        help="file name stem of the report (default latest: latest.md, latest.json)",
    )
    group.addoption(
        "--resclaims-gate", nargs="?", const="reports/baseline.json", default=None, metavar="BASELINE",
        help="after the report, run the regression gate against BASELINE (default reports/baseline.json); "
        "the session fails if the gate does",
    )
    group.addoption(
        "--resclaims-progress", action="store_true",
        help="print a line per claim as its tests finish (default under the nightly profile)",
    )
    group.addoption(
        "--resclaims-polish", default=None, metavar="REPORT_JSON",
        help="polish the worst instance of every verified claim of REPORT_JSON whose collected test module "
        "defines POLISH, then re-judge and rewrite that report (use with --collect-only)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # A printed falsifying example must reproduce: every float with the digits that round-trip
    # (numpy's default prints 8 significant digits, e.g. array([[1.]]) for 1 + 1e-14).
    import numpy

    numpy.set_printoptions(floatmode="unique")
    # Respect --hypothesis-profile; otherwise ci under CI (as Hypothesis decides), else dev.
    if not config.getoption("hypothesis_profile", default=None):
        settings.load_profile(profiles.default_profile())
    if profiles.current_profile() == "ci":
        profiles.make_generation_order_independent()
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(RunCollector(config), "resclaims-collector")
    # In every process: xdist workers are stopped through execnet's interrupt_main(), which runs
    # the SIGINT handler in the worker too.
    _interrupt_outside_gc_callbacks(worker=hasattr(config, "workerinput"))
    if config.getoption("resclaims_polish"):
        from .tightness import PolishSession

        config.pluginmanager.register(PolishSession(config), "resclaims-polish")


#: Delay before a Ctrl-C that arrived inside a garbage-collector callback is delivered again.
SIGINT_RETRY_SECONDS = 0.05


def _interrupt_outside_gc_callbacks(*, worker: bool) -> None:
    """Make Ctrl-C stop the run even when it lands in a ``gc.callbacks`` function (Hypothesis
    installs one): raised there, ``KeyboardInterrupt`` is "ignored" with a printed traceback and
    the run goes on (seen in the controller on Ctrl-C, and in xdist workers stopped mid-test). The handler raises it as Python's default does, except inside such a
    callback, where it re-sends the signal to this process a moment later, and, in an xdist
    ``worker``, at interpreter exit (``threading._shutdown``, where execnet's interrupt_main reaches
    a worker that has finished), where there is nothing left to stop."""
    import gc
    import os
    import signal
    import threading

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # someone else (a debugger, an embedding program) handles Ctrl-C: leave it alone

    def on_sigint(signum, frame):
        if worker and frame is not None and frame.f_code is threading._shutdown.__code__:
            return  # the worker is already exiting: nothing to stop
        if frame is not None and any(getattr(cb, "__code__", None) is frame.f_code for cb in gc.callbacks):
            threading.Timer(SIGINT_RETRY_SECONDS, os.kill, (os.getpid(), signal.SIGINT)).start()
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)


def claim_id_of(nodeid: str) -> str | None:
    """``tests/test_<id>.py::...`` belongs to claim ``<id>`` when such a claim exists."""
    stem = Path(nodeid.split("::", 1)[0]).stem
    cid = stem.removeprefix("test_")
    return cid if stem.startswith("test_") and cid in registry.all_claims() else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    evidence.begin_test(item.nodeid)
    try:
        return (yield)
    finally:
        item.stash[_ACC] = evidence.end_test()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.when == "call":
        acc = item.stash.get(_ACC, None)
        payload = {"evidence": acc.payload() if acc else {}}
        if call.excinfo is not None:
            payload["exception"] = call.excinfo.typename
            payload["message"] = str(call.excinfo.value).splitlines()[0][:300] if str(call.excinfo.value) else ""
            payload["failure"] = failure_kind(call.excinfo.value)
        report.user_properties.append((_PAYLOAD_KEY, json.dumps(payload)))
    return report


def failure_kind(exc: BaseException) -> str:
    """How the evidence explains a failure: a recorded violation, an uncaught canary, or neither.
    Hypothesis reports several distinct failures of one test as an exception group."""
    if isinstance(exc, BaseExceptionGroup):
        kinds = {failure_kind(e) for e in exc.exceptions}
        return kinds.pop() if len(kinds) == 1 else ERROR
    if isinstance(exc, evidence.Violation):
        return VIOLATION
    if isinstance(exc, evidence.CanaryNotCaught):
        return CANARY
    return ERROR


class RunCollector:
    """Controller-side aggregation of every test report into one :class:`ClaimRun` per claim."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.runs = {cid: ClaimRun(claim) for cid, claim in registry.all_claims().items()}
        self.stray: dict[str, evidence.ClaimEvidence] = {}
        self.pending: dict[str, set[str]] = {}  # claim id -> node ids not finished yet
        self.started = time.monotonic()
        self.progress = config.getoption("resclaims_progress") or profiles.current_profile() == "nightly"

    # --- progress ---------------------------------------------------------------------------

    def _expect(self, nodeids) -> None:
        for nodeid in nodeids:
            cid = claim_id_of(nodeid)
            if cid is not None:
                self.pending.setdefault(cid, set()).add(nodeid)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._expect(item.nodeid for item in session.items)  # empty on an xdist controller

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self._expect(ids)

    def _finished(self, cid: str, nodeid: str) -> None:
        waiting = self.pending.get(cid)
        if not self.progress or waiting is None or nodeid not in waiting:
            return
        waiting.discard(nodeid)
        if waiting:
            return
        done = sum(1 for w in self.pending.values() if not w)
        run, reporter = self.runs[cid], self.config.pluginmanager.get_plugin("terminalreporter")
        examples = sum(r.evidence.generated for r in self.runs.values())
        if reporter is not None:
            reporter.write_line(
                f"[resclaims {done}/{len(self.pending)} claims, {examples} examples, "
                f"{time.monotonic() - self.started:.0f} s] {cid}: {run.judgement.status} "
                f"({run.evidence.held}/{run.evidence.generated} held)")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        cid = claim_id_of(report.nodeid)
        payload = {}
        for key, value in getattr(report, "user_properties", ()):
            if key == _PAYLOAD_KEY:
                payload = json.loads(value)
        for other_id, data in payload.get("evidence", {}).items():
            if other_id in self.runs:
                self.runs[other_id].evidence.merge(evidence.ClaimEvidence.from_json(data))
        if cid is None:
            return
        run = self.runs[cid]
        if report.when == "call":
            run.tests.append(
                TestOutcome(
                    report.nodeid,
                    report.outcome,
                    payload.get("exception"),
                    payload.get("message", ""),
                    report.duration,
                    payload.get("failure", ERROR if report.failed else None),
                )
            )
        elif report.failed:  # setup/teardown error, or a crashed worker's replacement report
            run.tests.append(TestOutcome(report.nodeid, "failed", f"{report.when} error", _first_line(report),
                                         failure=ERROR))
        elif report.skipped and report.when == "setup":
            run.tests.append(TestOutcome(report.nodeid, "skipped"))
        if report.when == "teardown" or (report.when == "setup" and not report.passed):
            self._finished(cid, report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.config.getoption("resclaims_no_report"):
            return
        from . import report

        out_dir = self.config.getoption("resclaims_report_dir") or Path(self.config.rootpath) / "reports"
        complete = int(exitstatus) in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        info = report.run_info(self.config, complete=complete, exitstatus=int(exitstatus))
        self.paths = report.write_reports(list(self.runs.values()), info, Path(out_dir),
                                          self.config.getoption("resclaims_report_stem"),
                                          root=Path(self.config.rootpath))
        baseline = self.config.getoption("resclaims_gate")
        if baseline and complete:
            from . import gate

            lines: list[str] = []
            status = gate.run_gate(self.paths[1], Path(self.config.rootpath) / baseline, echo=lines.append)
            self.gate_lines = lines
            if status:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        from . import report

        if self.config.option.collectonly:  # nothing ran: no verdicts to show
            return
        paths = getattr(self, "paths", None)
        terminalreporter.section("resclaims")
        for line in report.summary_lines(list(self.runs.values())):
            terminalreporter.write_line(line)
        if paths:
            terminalreporter.write_line(f"report: {paths[0]}  json: {paths[1]}")
        for line in getattr(self, "gate_lines", ()):
            terminalreporter.write_line(line)


def _first_line(report: pytest.TestReport) -> str:
    text = str(report.longrepr or "")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""
