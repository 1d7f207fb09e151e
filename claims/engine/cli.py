"""``resclaims``: verify every claim, list the claims, show one claim.

``verify`` drives pytest (the same engine as ``pytest -n auto``) in the project folder and
exits non-zero when a claim's verdict differs from its expected verdict or a test fails.

The project is the one of the working directory (the nearest folder above it holding this
project's ``pyproject.toml`` and ``tests/``), so that two clones sharing one environment each
verify and report into their own ``reports/``; outside a clone, the installed checkout.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from . import profiles, registry

INSTALLED_ROOT = Path(__file__).resolve().parents[2]


def is_project(folder: Path) -> bool:
    """A clone of this project: ``pyproject.toml`` naming ``resclaims``, with ``tests/`` and ``claims/``."""
    pyproject = folder / "pyproject.toml"
    return ((folder / "tests").is_dir() and (folder / "claims").is_dir() and pyproject.is_file()
            and 'name = "resclaims"' in pyproject.read_text(encoding="utf-8", errors="replace"))


def project_root(cwd: Path | None = None) -> Path:
    """The project of the working directory, else the installed checkout."""
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_project(folder):
            return folder
    if is_project(INSTALLED_ROOT):
        return INSTALLED_ROOT
    raise SystemExit(f"resclaims: {here} is not inside a clone of the project, and the installed package "
                     f"has no tests/ next to it; run from a clone (pip install -e . there)")


def _tests_dir() -> Path:
    return project_root() / "tests"


def run_suite(profile: str, workers: str, report_dir: Path, *, stem: str = "latest", k: str | None = None,
              extra: tuple[str, ...] = ()) -> tuple[int, Path | None]:
    """Run the suite through pytest; returns pytest's exit status and the complete report (or None)."""
    report_dir = report_dir.resolve()
    cmd = [sys.executable, "-m", "pytest", str(_tests_dir()), "-q", "-p", "no:cacheprovider",
           f"--hypothesis-profile={profile}", f"--resclaims-report-dir={report_dir}",
           f"--resclaims-report-stem={stem}", *extra]
    if workers != "0":
        cmd += ["-n", workers]
    if k:
        cmd += ["-k", k]
    print("$", " ".join(cmd), flush=True)
    report = report_dir / f"{stem}.json"
    before = report.stat().st_mtime_ns if report.exists() else None
    status = run_interruptibly(cmd, project_root())
    fresh = report.exists() and report.stat().st_mtime_ns != before
    if status == INTERRUPTED:
        partial = report_dir / ("partial.md" if stem == "latest" else f"{stem}.partial.md")
        print(f"resclaims: interrupted; "
              + (f"partial report of what had finished: {partial}" if partial.exists() else "no partial report")
              + f"; {report.with_suffix('.md').name} and earlier reports untouched", file=sys.stderr)
        return INTERRUPTED, None
    if status not in (0, 1) or not fresh:
        print(f"resclaims: pytest exited with {status}; no complete report", file=sys.stderr)
        return status or 2, None
    return status, report


#: Exit status of an interrupted run (128 + SIGINT, as a shell reports it).
INTERRUPTED = 128 + signal.SIGINT
#: How long an interrupted pytest may take to write its partial report before it is killed.
INTERRUPT_GRACE_SECONDS = 120.0


def run_interruptibly(cmd: list[str], cwd: Path) -> int:
    """Run pytest in a session of its own and pass it exactly one SIGINT when we get Ctrl-C/SIGTERM.

    A terminal's Ctrl-C signals the whole foreground process group: the xdist workers would die
    mid-message ("cannot send (already closed?)") and ``subprocess.call`` would kill pytest before
    it writes ``partial.*``. Here only this process receives it; the pytest controller gets one
    SIGINT, stops its workers itself and writes the partial report; a second Ctrl-C (or the grace
    period running out) kills it. Returns pytest's exit status, or :data:`INTERRUPTED`.
    """
    child = subprocess.Popen(cmd, cwd=cwd, start_new_session=True)
    previous_term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=INTERRUPT_GRACE_SECONDS)
            except (KeyboardInterrupt, subprocess.TimeoutExpired):
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            return INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous_term)


def print_summary(doc: dict, report_md: Path) -> int:
    """The terminal summary of a report; the number of claims whose verdict differs from expected."""
    differing = [c for c in doc["claims"] if not c["matches_expected"]]
    print()
    print(f"{'claim':44} {'expected':9} {'status':13} {'held/gen':>10} {'worst slack':>12}")
    for c in doc["claims"]:
        ex, ws = c["examples"], c["worst_slack"]
        print(f"{c['id']:44} {c['expected']:9} {c['status']:13} {ex['held']:>5}/{ex['generated']:<4} "
              f"{'-' if ws is None else f'{ws:12.3g}':>12}{'' if c['matches_expected'] else '  <- differs'}")
    print(f"\n{len(doc['claims']) - len(differing)}/{len(doc['claims'])} claims as expected; report: {report_md}")
    return len(differing)


def wants_cluster(args: argparse.Namespace) -> bool:
    """``--cluster`` or ``--scheduler``: run the shards on Dask (see :mod:`.cluster`)."""
    return bool(args.cluster or args.scheduler)


def run_clustered(args: argparse.Namespace, profile: str, out: Path, stem: str, night: str) -> tuple[int, Path | None]:
    from . import cluster

    return cluster.run_from_cli(args, root=project_root(), out_dir=out, stem=stem, profile=profile, night=night)


def cmd_verify(args: argparse.Namespace) -> int:
    out = Path(args.report_dir or project_root() / "reports")
    if wants_cluster(args):
        from . import nightly

        status, report = run_clustered(args, args.profile, out, "latest", nightly.night_name(None))
    else:
        status, report = run_suite(args.profile, args.workers, out, k=args.k)
    if report is None:
        return status
    differing = print_summary(json.loads(report.read_text()), report.with_suffix(".md"))
    return 1 if differing or status else 0


def cmd_nightly(args: argparse.Namespace) -> int:
    from . import nightly

    night = nightly.night_name(args.date)
    out = Path(args.report_dir or project_root() / "reports" / "nightly")
    if wants_cluster(args):
        status, report = run_clustered(args, "nightly", out, night, night)
    else:
        status, report = run_suite("nightly", args.workers, out, stem=night, k=args.k, extra=("--resclaims-progress",))
    if report is None:
        if status != INTERRUPTED:
            print(f"resclaims nightly: incomplete; the partial report is {out / (night + '.partial.md')}, "
                  "earlier nights are intact", file=sys.stderr)
        return status
    polish_status = polish(report)  # a polished violation refutes its claim: exit 1
    if wants_cluster(args):  # polishing rewrote the Markdown: put the cluster's section back
        from . import cluster

        cluster.add_cluster_section(report)
    nightly.record_night(report)
    differing = print_summary(json.loads(report.read_text()), report.with_suffix(".md"))
    return 1 if differing or status or polish_status else 0


def cmd_list(args: argparse.Namespace) -> int:
    for claim in registry.all_claims().values():
        print(f"{claim.id:44} {claim.kind.value:14} {claim.expected.value:8} {claim.title}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    try:
        c = registry.get(args.claim)
    except KeyError as exc:
        print(f"resclaims: {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"{c.id}: {c.title}")
    print(f"kind: {c.kind.value}; provenance: {c.provenance.value}; expected: {c.expected.value}"
          + (f" (corrected variant: {c.corrected_variant})" if c.corrected_variant else ""))
    print("references:", "; ".join(map(str, c.references)))
    print("statement:", textwrap.fill(c.statement, 100, subsequent_indent="  "))
    for h in c.hypotheses:
        print(f"  hypothesis {h.name}: {h.statement}")
    print("conclusion:", c.conclusion)
    if c.notes:
        print(textwrap.fill(c.notes, 100))
    return 0


def cmd_mutants(args: argparse.Namespace) -> int:
    from . import mutants

    return mutants.main(args.ids, workers=args.workers)


def polish(report: Path) -> int:
    """Polish a report's worst instances in a pytest session that only collects (so ``POLISH`` is
    read from the modules pytest collected); the report is re-judged and rewritten."""
    if not report.exists():
        print(f"resclaims tightness: no report at {report}", file=sys.stderr)
        return 2
    cmd = [sys.executable, "-m", "pytest", str(_tests_dir()), "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
           "--collect-only", "--resclaims-no-report", f"--resclaims-polish={report.resolve()}"]
    out = subprocess.run(cmd, cwd=project_root(), capture_output=True, text=True)
    summary = out.stdout.split("resclaims polishing", 1)[-1].splitlines()[1:] if out.returncode in (0, 1) else []
    print("\n".join(line for line in summary if line.strip() and not line.startswith("=")) or out.stdout + out.stderr)
    print(f"polished: {report.with_suffix('.md')}")
    return out.returncode


def cmd_tightness(args: argparse.Namespace) -> int:
    return polish(Path(args.report or project_root() / "reports" / "latest.json").resolve())


def cmd_gate(args: argparse.Namespace) -> int:
    from . import gate

    root = project_root()
    return gate.run_gate(Path(args.report or root / "reports" / "latest.json").resolve(),
                         Path(args.baseline or root / "reports" / "baseline.json").resolve(),
                         update=args.update_baseline)


def cmd_bench(args: argparse.Namespace) -> int:
    """Time the deep linear engine in a child process with BLAS capped at one thread."""
    import os

    env = {**os.environ, **{k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    out = Path(args.out or project_root() / "reports" / "bench.md").resolve()
    return subprocess.call([sys.executable, "-m", "resclaims.impl.bench", str(out)], cwd=project_root(), env=env)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """Options of a run on a Dask cluster (the ``cluster`` extra)."""
    from .cluster import CONNECT_TIMEOUT, SHARD_TIMEOUT

    group = parser.add_argument_group(
        "Dask cluster", "split the run into shards (claim x Hypothesis seed) run on Dask workers and merged into "
        "one report; -n is then the number of workers of a LocalCluster on this machine")
    group.add_argument("--cluster", action="store_true",
                       help="run on Dask: the scheduler of --scheduler or DASK_SCHEDULER_ADDRESS, else a LocalCluster")
    group.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="a running Dask scheduler (implies --cluster); its workers need this checkout at this path")
    group.add_argument("--seeds", type=int, default=None, metavar="N",
                       help="Hypothesis seeds per claim, derived from the night's date (default 2; 1 under ci)")
    group.add_argument("--seed-list", default=None, metavar="S1,S2,...", help="these seeds instead (reproduces a night)")
    group.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT, metavar="SECONDS",
                       help=f"to reach the scheduler and see a worker (default {CONNECT_TIMEOUT:g})")
    group.add_argument("--shard-timeout", type=float, default=SHARD_TIMEOUT, metavar="SECONDS",
                       help=f"one shard's longest run before it is killed and reported (default {SHARD_TIMEOUT:g})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resclaims", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="verify every claim and write reports/latest.{md,json}")
    v.add_argument("--profile", choices=profiles.PROFILES, default=profiles.default_profile())
    v.add_argument("-n", "--workers", default="auto", help="pytest-xdist workers (0 = in process)")
    v.add_argument("--report-dir", default=None, help="default: reports/ of the project of the working directory")
    v.add_argument("-k", default=None, help="pytest -k expression (a subset of claims)")
    add_cluster_options(v)
    v.set_defaults(func=cmd_verify)
    sub.add_parser("list", help="list the claims").set_defaults(func=cmd_list)
    s = sub.add_parser("show", help="show one claim's record")
    s.add_argument("claim")
    s.set_defaults(func=cmd_show)
    mu = sub.add_parser("mutants", help="plant the catalogue of bugs in a copy of impl/; each must turn the suite red")
    mu.add_argument("ids", nargs="*", help="mutant ids (default: all)")
    mu.add_argument("-n", "--workers", default="auto")
    mu.set_defaults(func=cmd_mutants)
    nt = sub.add_parser("nightly", help="verify with the nightly profile; writes reports/nightly/<date>.{md,json}, "
                        "appends to the history and draws the trends")
    nt.add_argument("-n", "--workers", default="auto")
    nt.add_argument("--date", default=None, help="name of the night (default: today, UTC, YYYY-MM-DD)")
    nt.add_argument("--report-dir", default=None, help="default: reports/nightly/ of the project")
    nt.add_argument("-k", default=None, help="pytest -k expression (a subset of claims; not for a real night)")
    add_cluster_options(nt)
    nt.set_defaults(func=cmd_nightly)
    tg = sub.add_parser("tightness", help="polish each inequality's worst instance toward its bound (scipy)")
    tg.add_argument("--report", default=None, help="default: reports/latest.json of the project")
    tg.set_defaults(func=cmd_tightness)
    g = sub.add_parser("gate", help="compare the last report with reports/baseline.json (the regression gate)")
    g.add_argument("--report", default=None, help="default: reports/latest.json of the project")
    g.add_argument("--baseline", default=None, help="default: reports/baseline.json of the project")
    g.add_argument("--update-baseline", action="store_true", help="accept the report as the new baseline")
    g.set_defaults(func=cmd_gate)
    b = sub.add_parser("bench", help="time the deep linear engine against the BLAS floor; writes reports/bench.md")
    b.add_argument("--out", default=None, help="default: reports/bench.md of the project")
    b.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:  # outside a pytest run (polishing, gate, bench): no traceback
        print(f"resclaims {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
