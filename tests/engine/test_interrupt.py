"""Ctrl-C for real: ``resclaims verify`` and ``resclaims nightly`` started as a user would, SIGINT
sent to their process group mid-run (what a terminal does), and what must come out: a partial
report of what had finished, a one-line message instead of a traceback, earlier reports untouched."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from resclaims.claims.engine.cli import INTERRUPTED, project_root

#: How long the run may take to start its first test, and to stop once interrupted.
START_TIMEOUT, STOP_TIMEOUT = 120.0, 120.0
#: A subset of claims with many quick tests (so the run is still going when it is interrupted).
SUBSET = "test_c2_ or test_a1_ or test_b1_"  # module names: the engine's per-claim tests do not match


def _interrupt_after_first_test(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``resclaims ARGS`` in a new process group (with the default SIGINT action, as in a
    terminal), wait for the first finished test, SIGINT the whole group; (exit status, output)."""
    process = subprocess.Popen([sys.executable, "-m", "resclaims.claims.engine.cli", *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=0,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen, deadline = "", time.monotonic() + START_TIMEOUT
    try:
        # pytest -q prints a "." per finished test at the start of a line after the header lines
        while not any(mark in seen for mark in ("\n.", "\n[resclaims")) and time.monotonic() < deadline:
            char = process.stdout.read(1)
            if not char:
                break
            seen += char
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, seen + rest


@pytest.mark.parametrize("command, partial, earlier", [
    (["verify", "--profile", "ci", "-n", "2", "-k", SUBSET], "partial", "latest"),
    (["nightly", "-n", "2", "--date", "2026-01-02", "-k", SUBSET], "2026-01-02.partial", "2026-01-01"),
])
def test_sigint_mid_run_leaves_a_partial_report_and_a_one_line_message(tmp_path, command, partial, earlier):
    earlier_reports = {tmp_path / f"{earlier}.{ext}": f"earlier {ext}\n" for ext in ("md", "json")}
    for path, text in earlier_reports.items():
        path.write_text(text)
    status, output = _interrupt_after_first_test([*command, "--report-dir", str(tmp_path)], project_root())
    assert status == INTERRUPTED, output
    assert "Traceback" not in output and "cannot send" not in output, output
    message = [line for line in output.splitlines() if line.startswith("resclaims: interrupted")]
    assert len(message) == 1 and f"{partial}.md" in message[0], output
    doc = json.loads((tmp_path / f"{partial}.json").read_text())
    assert doc["run"]["complete"] is False
    assert any(c["tests"] for c in doc["claims"]), "the partial report holds no finished test"
    for path, text in earlier_reports.items():
        assert path.read_text() == text
    assert not (tmp_path / "history.jsonl").exists()  # an interrupted night is not a night of the history
