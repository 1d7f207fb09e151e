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

from resclaims.claims.engine.cli import INTERRUPTED, project_root

#: How long a run may take to finish its first test, and to stop once interrupted.
START_TIMEOUT, STOP_TIMEOUT = 180.0, 120.0
#: A subset of claims with many quick tests (so the run is still going when it is interrupted);
#: module names, so that the engine's per-claim tests do not match.
SUBSET = "test_c2_ or test_a1_ or test_b1_"


def _start(args: list[str]) -> subprocess.Popen:
    """``resclaims ARGS`` in a new process group, with the default SIGINT action (as in a terminal)."""
    return subprocess.Popen([sys.executable, "-m", "resclaims.claims.engine.cli", *args], cwd=project_root(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=0,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt_after_first_test(process: subprocess.Popen) -> tuple[int, str]:
    """Wait for the first finished test (pytest -q prints "." at the start of a line after its header,
    the nightly a "[resclaims" progress line), SIGINT the whole group; (exit status, output)."""
    seen, deadline = "", time.monotonic() + START_TIMEOUT
    try:
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


def test_sigint_mid_run_leaves_a_partial_report_and_a_one_line_message(tmp_path):
    """Both commands run side by side (verify with an xdist worker, whose death mid-message was the
    reported failure; the nightly in process, the same path otherwise), each interrupted after its
    first finished test. Three pytest processes in all, so that the test stays cheap on two cores."""
    cases = {  # folder: (arguments, partial report's stem, an earlier report that must stay intact)
        "verify": (["verify", "--profile", "ci", "-n", "1", "-k", SUBSET], "partial", "latest"),
        "nightly": (["nightly", "-n", "0", "--date", "2026-01-02", "-k", SUBSET], "2026-01-02.partial", "2026-01-01"),
    }
    earlier, processes = {}, {}
    for name, (args, _, stem) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        earlier[name] = {folder / f"{stem}.{ext}": f"earlier {ext}\n" for ext in ("md", "json")}
        for path, text in earlier[name].items():
            path.write_text(text)
        processes[name] = _start([*args, "--report-dir", str(folder)])
    for name, process in processes.items():
        status, output = _interrupt_after_first_test(process)
        folder, partial = tmp_path / name, cases[name][1]
        assert status == INTERRUPTED, output
        assert "Traceback" not in output and "cannot send" not in output, output
        message = [line for line in output.splitlines() if line.startswith("resclaims: interrupted")]
        assert len(message) == 1 and f"{partial}.md" in message[0], output
        doc = json.loads((folder / f"{partial}.json").read_text())
        assert doc["run"]["complete"] is False
        assert any(c["tests"] for c in doc["claims"]), f"{name}: the partial report holds no finished test"
        for path, text in earlier[name].items():
            assert path.read_text() == text
        assert not (folder / "history.jsonl").exists()  # an interrupted night is not a night of the history
