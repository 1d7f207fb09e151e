"""A night on a Dask cluster: shards (claim x Hypothesis seed) run on workers, merged into one report.

``resclaims nightly --cluster`` (and ``resclaims verify --cluster``) split the run into
*shards*, one per claim and seed. A shard runs on a Dask worker as its own pytest process::

    python -m pytest tests/test_<claim>.py -q -p no:xdist -p no:cacheprovider
        --hypothesis-profile=<profile> --hypothesis-seed=<seed> --resclaims-report-dir=<tmp> ...

and returns the text of its JSON report. The client checks each payload (a malformed one is an
error naming the shard), rebuilds each claim's :class:`~.judge.ClaimRun` with
:func:`.report.run_from_json`, folds the evidence of all shards with the engine's
order-independent :meth:`.evidence.ClaimEvidence.merge` (in sorted shard order, so the merged
report does not depend on which worker finished first), concatenates the test outcomes (node
ids suffixed ``[seed=S]``, so the shards of one test never collide) and writes one report with
:func:`.report.write_reports`: ``<stem>.{md,json}`` when every shard finished, else
``<stem>.partial.*`` (the last complete report stays intact).

Reproducibility: a night is a function of its seed list. Each shard runs with its own empty
example database (``HYPOTHESIS_STORAGE_DIRECTORY`` in a temp folder), so the same seeds give the
same merged JSON whatever the number of workers or the order in which shards finish (only the
run's date, the workers and the timings differ).

Faults: a worker that dies mid-shard loses nothing: the scheduler runs its shards again
elsewhere (``distributed.scheduler.allowed-failures`` times, 3 by default) and the client keeps
exactly one result per shard. Every attempt logs a Dask event (topic ``resclaims-<run token>``)
before it starts, so the report lists the shards that ran more than once. A shard whose workers
keep dying (``KilledWorker``), whose pytest crashes or exceeds ``shard_timeout``, or whose payload
is malformed is named in an error, and the night is written as partial. An unreachable scheduler,
or one that no worker joins, is an error naming its address within ``connect_timeout``.

Ctrl-C (or SIGTERM) writes the shards finished so far as the partial report. The clustered night
runs the claims' test modules only (not ``tests/engine`` nor ``tests/impl``, which have no claim).

Real clusters (``--scheduler tcp://HOST:PORT`` or ``DASK_SCHEDULER_ADDRESS``): every worker must
have the same checkout of the project, at the same path as the client's, installed (``pip install
-e '.[cluster]'``): a shard runs ``tests/`` of that path. A shard whose report names another
commit than the client's is rejected. The events that count attempts live on the scheduler (its
``distributed.admin.low-level-log-length`` bounds how many it keeps).
"""
from __future__ import annotations

import copy
from concurrent.futures import CancelledError
import datetime as _dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, TextIO

from . import registry, report
from .evidence import ClaimEvidence
from .judge import ClaimRun

#: Exit status of pytest when every test passed / some failed / none was selected (``-k``).
PYTEST_OK, PYTEST_FAILED, PYTEST_NO_TESTS = 0, 1, 5
#: Exit status of a night that could not run or lost shards (the other statuses are pytest's).
NIGHT_FAILED = 2
#: Exit status of an interrupted night (128 + SIGINT, as the CLI's).
INTERRUPTED = 128 + signal.SIGINT
#: Default seconds to reach the scheduler and to see a worker join it.
CONNECT_TIMEOUT = 30.0
#: Default seconds one shard may run before it is killed (a hung test must not hold the night).
SHARD_TIMEOUT = 4 * 3600.0
#: Lines of a crashed shard's output quoted in its error.
QUOTED_LINES = 5


class ClusterError(RuntimeError):
    """The night cannot run: the scheduler is unreachable, or no worker joins it."""


class ShardFailed(RuntimeError):
    """A shard ran but gave no report (pytest crashed, or ran past the shard time-out)."""


class MalformedPayload(ValueError):
    """A shard's payload is not a report of this project's schema."""


@dataclass(frozen=True, order=True)
class Shard:
    """One claim's tests under one Hypothesis seed."""

    claim: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.claim}[seed={self.seed}]"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ShardOptions:
    """How a worker runs a shard (sent with every task; plain data, picklable)."""

    root: str
    profile: str
    k: str | None = None
    shard_timeout: float = SHARD_TIMEOUT
    topic: str | None = None  # the Dask event topic where each attempt registers itself
    delay: float = 0.0  # seconds to wait before starting (lets a test kill a worker mid-shard)


# --- seeds and shards -----------------------------------------------------------------------------


def night_seeds(night: str, count: int) -> list[int]:
    """``count`` Hypothesis seeds derived from the night's name: the same night, the same seeds."""
    return [int.from_bytes(hashlib.sha256(f"resclaims/{night}/{i}".encode()).digest()[:4], "big")
            for i in range(count)]


def parse_seed_list(text: str) -> list[int]:
    """``"1,2,3"`` -> ``[1, 2, 3]`` (each seed once, in the given order)."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"resclaims: --seed-list must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise SystemExit("resclaims: --seed-list is empty")
    return list(dict.fromkeys(seeds))


def select_claims(root: Path, k: str | None = None) -> list[str]:
    """The claims that have a test module, those whose module name a ``-k`` expression matches
    (pytest's substring rule; the expression is also passed to each shard's pytest)."""
    ids = [cid for cid in registry.all_claims() if (root / "tests" / f"test_{cid}.py").is_file()]
    if not k:
        return ids
    from _pytest.mark.expression import Expression  # pytest's own -k grammar

    try:
        expression = Expression.compile(k)
    except Exception as exc:  # noqa: BLE001  (pytest's ParseError moved between versions)
        raise SystemExit(f"resclaims: bad -k expression {k!r}: {exc}") from None

    def matches(cid: str) -> bool:
        names = (f"test_{cid}.py", "tests")
        return expression.evaluate(lambda sub, **_: any(sub.lower() in n.lower() for n in names))

    return [cid for cid in ids if matches(cid)]


def make_shards(claims: list[str], seeds: list[int]) -> list[Shard]:
    return sorted(Shard(cid, seed) for cid in claims for seed in seeds)


# --- on the worker --------------------------------------------------------------------------------

#: Run argv[2:] so that it is killed when this process's parent (the Dask worker) dies (Linux).
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]): sys.exit(70)  # the parent died before prctl\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def shard_command(shard: Shard, options: ShardOptions, report_dir: Path) -> list[str]:
    """The pytest command of one shard (run in the project root)."""
    cmd = [sys.executable, "-m", "pytest", f"tests/test_{shard.claim}.py", "-q", "-p", "no:xdist",
           "-p", "no:cacheprovider", f"--hypothesis-profile={options.profile}",
           f"--hypothesis-seed={shard.seed}", f"--resclaims-report-dir={report_dir}",
           "--resclaims-report-stem=shard"]
    return cmd + (["-k", options.k] if options.k else [])


def _current_worker():
    """The Dask worker running this task, or None (called directly, in a test)."""
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def _log_attempt(shard: Shard, topic: str | None) -> None:
    """Register this attempt with the scheduler (a Dask event), before any work is done."""
    worker = _current_worker()
    if topic is not None and worker is not None:
        worker.log_event(topic, {"shard": shard.name, "worker": worker.address})


def run_shard(shard: Shard, options: ShardOptions) -> dict:
    """Run one shard's pytest; returns ``{"exitstatus", "report"}`` (``report`` is the JSON text,
    None when ``-k`` selected no test). Raises :class:`ShardFailed` when pytest crashed or ran past
    the shard time-out. The pytest process dies with the worker (Linux), so a killed worker leaves
    no orphan behind."""
    _log_attempt(shard, options.topic)
    if options.delay:
        time.sleep(options.delay)
    worker = _current_worker()  # its scratch folder: Dask clears what a killed worker leaves there
    with tempfile.TemporaryDirectory(prefix="resclaims-shard-", dir=worker and worker.local_directory) as tmp:
        cmd = shard_command(shard, options, Path(tmp))
        if sys.platform == "linux":
            cmd = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *cmd]
        env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(Path(tmp) / "hypothesis")}
        try:
            out = subprocess.run(cmd, cwd=options.root, env=env, capture_output=True, text=True,
                                 timeout=options.shard_timeout, start_new_session=True)
        except subprocess.TimeoutExpired:
            raise ShardFailed(f"shard {shard}: no result within {options.shard_timeout:g} s "
                              "(the shard time-out); its pytest was killed") from None
        if out.returncode == PYTEST_NO_TESTS:
            return {"exitstatus": PYTEST_NO_TESTS, "report": None}
        payload = Path(tmp) / "shard.json"
        if out.returncode not in (PYTEST_OK, PYTEST_FAILED) or not payload.is_file():
            tail = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()][-QUOTED_LINES:]
            raise ShardFailed(f"shard {shard}: pytest exited with {out.returncode} and wrote no report "
                              f"(in {options.root}): " + " | ".join(tail))
        return {"exitstatus": out.returncode, "report": payload.read_text(encoding="utf-8")}


# --- on the client: payloads and the merge --------------------------------------------------------


def _tag(nodeid: str | None, seed: int) -> str | None:
    return f"{nodeid}[seed={seed}]" if nodeid else nodeid


def tag_nodeids(entry: dict, seed: int) -> dict:
    """A claim entry whose every node id (tests and evidence) names the seed it ran under."""
    entry = copy.deepcopy(entry)
    entry["worst_nodeid"] = _tag(entry.get("worst_nodeid"), seed)
    if entry.get("counterexample"):
        entry["counterexample"]["nodeid"] = _tag(entry["counterexample"].get("nodeid"), seed)
    for kind in ("metrics", "tables", "series"):
        for record in entry.get(kind, {}).values():
            record["nodeids"] = sorted(_tag(n, seed) for n in record.get("nodeids", []) if n)
    for record in entry.get("canaries", {}).values():
        record["nodeid"] = _tag(record.get("nodeid"), seed)
    for row in entry.get("constants", []):
        if row.get("search"):
            row["search"]["nodeid"] = _tag(row["search"].get("nodeid"), seed)
    for test in entry["tests"]:
        test["nodeid"] = _tag(test["nodeid"], seed)
    return entry


def parse_shard(shard: Shard, payload, commit: str | None = None) -> dict[str, ClaimRun]:
    """The claim runs of a shard's payload; :class:`MalformedPayload` (naming the shard) when it is
    not a complete report of this schema, names an unknown claim, or ran another commit."""
    if not isinstance(payload, dict) or "exitstatus" not in payload or "report" not in payload:
        raise MalformedPayload(f"shard {shard}: malformed payload: expected a dict with 'exitstatus' and "
                               f"'report', got {type(payload).__name__}")
    if payload["exitstatus"] not in (PYTEST_OK, PYTEST_FAILED, PYTEST_NO_TESTS):
        raise MalformedPayload(f"shard {shard}: malformed payload: exit status {payload['exitstatus']!r}")
    if payload["report"] is None:
        if payload["exitstatus"] != PYTEST_NO_TESTS:
            raise MalformedPayload(f"shard {shard}: malformed payload: no report, exit status {payload['exitstatus']}")
        return {}
    claims = registry.all_claims()
    try:
        doc = json.loads(payload["report"])
        if doc["schema_version"] != report.SCHEMA_VERSION:
            raise MalformedPayload(f"shard {shard}: report schema version {doc['schema_version']}, "
                                   f"this client reads {report.SCHEMA_VERSION}")
        if not doc["run"]["complete"]:
            raise MalformedPayload(f"shard {shard}: its report is marked incomplete")
        shard_commit = doc["run"].get("commit")
        if commit not in (None, "unknown") and shard_commit not in (None, "unknown", commit):
            raise MalformedPayload(f"shard {shard}: ran commit {shard_commit}, the client has {commit}: "
                                   "every worker needs the client's checkout")
        runs = {}
        for entry in doc["claims"]:
            if entry["id"] not in claims:
                raise MalformedPayload(f"shard {shard}: unknown claim {entry['id']!r} in its report")
            runs[entry["id"]] = report.run_from_json(claims[entry["id"]], tag_nodeids(entry, shard.seed))
        return runs
    except MalformedPayload:
        raise
    except json.JSONDecodeError as exc:
        raise MalformedPayload(f"shard {shard}: malformed payload (not JSON: {exc})") from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise MalformedPayload(f"shard {shard}: malformed payload ({type(exc).__name__}: {exc})") from None


def merge_shard(night: dict[str, ClaimRun], shard: Shard, runs: dict[str, ClaimRun]) -> None:
    """Fold one shard into the night: all of it, or (when its evidence cannot be merged, e.g. a
    ``reduce="same"`` metric that differs) nothing, with :class:`MalformedPayload` naming it."""
    merged = {}
    for cid, run in runs.items():
        trial = copy.deepcopy(night[cid].evidence)
        try:
            trial.merge(run.evidence)
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedPayload(f"shard {shard}: its evidence of {cid} does not merge: {exc}") from None
        merged[cid] = trial
    for cid, ev in merged.items():
        night[cid] = ClaimRun(night[cid].claim, ev, night[cid].tests + runs[cid].tests)


def merge_night(results: dict[Shard, dict[str, ClaimRun]]) -> tuple[dict[str, ClaimRun], dict[str, str]]:
    """Every claim's run of the night, folded in sorted shard order (the fold is order-independent;
    sorting also fixes which of two shards that do not merge is left out), and the shards left out
    (name -> error)."""
    night = {cid: ClaimRun(claim, ClaimEvidence(), []) for cid, claim in registry.all_claims().items()}
    unmerged = {}
    for shard in sorted(results):
        try:
            merge_shard(night, shard, results[shard])
        except MalformedPayload as exc:
            unmerged[shard.name] = str(exc)
    return night, unmerged


# --- progress -------------------------------------------------------------------------------------


@dataclass
class NightProgress:
    """One line per finished shard: shards done, examples, rate, time left; silent when ``quiet``
    (the default under CI)."""

    total: int
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    quiet: bool = field(default_factory=lambda: bool(os.environ.get("CI")))
    done: int = 0
    examples: int = 0
    started: float = field(default_factory=time.monotonic)

    def finished(self, shard: Shard, runs: dict[str, ClaimRun] | None, error: str | None = None) -> None:
        self.done += 1
        self.examples += sum(r.evidence.generated for r in (runs or {}).values())
        if self.quiet:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        left = elapsed / self.done * (self.total - self.done)
        if error is not None:
            what = f"FAILED: {error}"
        elif shard.claim in (runs or {}):
            run = runs[shard.claim]
            what = f"{run.judgement.status} ({run.evidence.held}/{run.evidence.generated} held)"
        else:
            what = "no test selected"
        print(f"[resclaims {self.done}/{self.total} shards, {self.examples} examples, "
              f"{self.examples / elapsed:.0f}/s, {_clock(elapsed)} elapsed, ~{_clock(left)} left] "
              f"{shard}: {what}", file=self.stream, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


# --- the night ------------------------------------------------------------------------------------


@dataclass
class Night:
    """What a clustered run produced: the report written (complete or partial) and its faults."""

    status: int
    report: Path | None  # the complete JSON report; None when the night is partial
    written: Path | None  # the JSON written (complete or partial); None when nothing ran
    retried: dict[str, int]  # shard name -> attempts, for shards that ran more than once
    failed: dict[str, str]  # shard name -> error
    interrupted: bool = False


def _scheduler_default() -> str | None:
    """Dask's own setting: ``DASK_SCHEDULER_ADDRESS`` or ``scheduler-address`` in its config."""
    import dask
    import distributed  # noqa: F401  (loads distributed's config)

    return dask.config.get("scheduler-address", None)


def connect(address: str | None, n_workers: int, connect_timeout: float):
    """A client of the scheduler at ``address`` (waiting for a worker), or of a new ``LocalCluster``
    of ``n_workers`` single-threaded worker processes; (client, cluster or None, description)."""
    import logging

    from distributed import Client, LocalCluster

    if address is None:
        # The worker processes inherit an ignored SIGINT: a terminal's Ctrl-C reaches the whole process
        # group, and only this process should handle it (a worker restarted later does not inherit it).
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        return Client(cluster), cluster, f"LocalCluster ({n_workers} workers)"
    try:
        client = Client(address, timeout=connect_timeout)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within {connect_timeout:g} s "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    try:
        client.wait_for_workers(1, timeout=connect_timeout)
    except TimeoutError:
        client.close()
        raise ClusterError(f"no worker joined the Dask scheduler at {address} within {connect_timeout:g} s") from None
    return client, None, f"scheduler {address}"


def _attempts(client, topic: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    try:
        events = client.get_events(topic)
    except Exception:  # noqa: BLE001  (a scheduler going away while we ask: no retry information)
        return counts
    for _, msg in events:
        counts[msg["shard"]] = counts.get(msg["shard"], 0) + 1
    return counts


def _describe_failure(shard: Shard, exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (f"shard {shard}: its worker died on each of {exc.allowed_failures + 1} attempts "
                f"(the scheduler's distributed.scheduler.allowed-failures = {exc.allowed_failures}); "
                f"last worker {exc.last_worker.address if exc.last_worker else '?'}")
    if isinstance(exc, (ShardFailed, MalformedPayload)):
        return str(exc)
    if isinstance(exc, CancelledError):
        return f"shard {shard}: cancelled by the cluster (scheduler lost or restarted?): {exc}"
    return f"shard {shard}: {type(exc).__name__}: {exc}"


def run_night(shards: list[Shard], *, root: Path, out_dir: Path, stem: str, profile: str,
              address: str | None = None, n_workers: int = 1, k: str | None = None,
              connect_timeout: float = CONNECT_TIMEOUT, shard_timeout: float = SHARD_TIMEOUT,
              delay: float = 0.0, runner: Callable[[Shard, ShardOptions], dict] = run_shard,
              progress: NightProgress | None = None, args: list[str] | None = None) -> Night:
    """Run ``shards`` on the cluster and write the merged report ``out_dir/<stem>.{md,json}``
    (``<stem>.partial.*`` unless every shard finished). Raises :class:`ClusterError` when the
    scheduler cannot be reached; a Ctrl-C writes the partial report and returns ``interrupted``."""
    root, out_dir = Path(root).resolve(), Path(out_dir).resolve()
    token = uuid.uuid4().hex[:12]
    options = ShardOptions(str(root), profile, k, shard_timeout, f"resclaims-{token}", delay)
    progress = progress or NightProgress(len(shards))
    started = _dt.datetime.now(_dt.timezone.utc)
    client, cluster, where = connect(address, n_workers, connect_timeout)
    results: dict[Shard, dict[str, ClaimRun]] = {}
    statuses: dict[Shard, int] = {}
    failed: dict[str, str] = {}
    interrupted = False
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:  # SIGTERM stops the night as Ctrl-C does (signals reach the main thread only)
        previous_term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    commit = _local_info(root, 0, [], complete=False, exitstatus=0)["commit"]
    try:
        from distributed import as_completed

        workers = len(client.scheduler_info(n_workers=-1)["workers"])
        futures = {client.submit(runner, shard, options, key=f"resclaims-{token}-{shard.claim}-{shard.seed}",
                                 pure=False): shard for shard in shards}
        try:
            for future in as_completed(futures):
                shard = futures.pop(future)
                error = None
                try:
                    payload = future.result()
                    runs = parse_shard(shard, payload, commit)
                    results[shard] = runs
                    statuses[shard] = PYTEST_FAILED if payload["exitstatus"] == PYTEST_FAILED else PYTEST_OK
                except Exception as exc:  # noqa: BLE001  (every failure is reported by shard)
                    error = failed[shard.name] = _describe_failure(shard, exc)
                    runs = None
                future.release()
                progress.finished(shard, runs, error)
        except KeyboardInterrupt:
            interrupted = True
            client.cancel(list(futures))
        retried = {name: n for name, n in sorted(_attempts(client, options.topic).items()) if n > 1}
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous_term)
        try:
            client.close(timeout=10)
            if cluster is not None:
                cluster.close(timeout=10)
        except Exception:  # noqa: BLE001  (a cluster torn down by Ctrl-C: nothing left to save)
            pass
    night, unmerged = merge_night(results)
    failed.update(unmerged)
    complete = not interrupted and not failed and len(results) == len(shards)
    shard_status = max(statuses.values(), default=PYTEST_OK)
    status = shard_status if complete else INTERRUPTED if interrupted else NIGHT_FAILED
    info = _local_info(root, workers, args or [], complete=complete, exitstatus=status)
    info.update({"date": started.isoformat(timespec="seconds"), "profile": profile,
                 "seed_policy": f"one shard per claim and seed (--hypothesis-seed), each with an empty example "
                                f"database; profile {profile}: {report.SEED_POLICY.get(profile, '')}",
                 "cluster": {"scheduler": where, "workers": workers, "seeds": sorted({s.seed for s in shards}),
                             "shards": [s.name for s in shards],
                             "finished": [s.name for s in sorted(results) if s.name not in failed],
                             "retried": retried, "failed": dict(sorted(failed.items())),
                             "interrupted": interrupted}})
    _, js = report.write_reports(list(night.values()), info, out_dir, stem, root=root)
    add_cluster_section(js)
    return Night(status, js if complete else None, js, retried, dict(sorted(failed.items())), interrupted)


def _local_info(root: Path, workers: int, args: list[str], *, complete: bool, exitstatus: int) -> dict:
    """The report header of this machine (commit, packages), as the plugin writes it."""
    config = SimpleNamespace(rootpath=root, option=SimpleNamespace(numprocesses=workers), args=args)
    return report.run_info(config, complete=complete, exitstatus=exitstatus)


CLUSTER_HEADING = "## Cluster"


def add_cluster_section(report_json: Path) -> None:
    """Put the "Cluster" section (seeds, shards, retried and failed shards, from the JSON's
    ``run.cluster``) before the summary of the Markdown report; again after a step that rewrote it
    (polishing). Idempotent; a report of an unclustered run is left alone."""
    run = json.loads(report_json.read_text(encoding="utf-8"))["run"]
    cluster = run.get("cluster")
    md_path = report_json.with_suffix(".md")
    if cluster is None or not md_path.exists():
        return
    retried = ", ".join(f"`{name}` ({n} attempts)" for name, n in cluster["retried"].items()) or "none"
    lines = [CLUSTER_HEADING, "",
             f"- {cluster['scheduler']}, {cluster['workers']} workers at the start; "
             f"{len(cluster['finished'])} of {len(cluster['shards'])} shards finished"
             + (" (interrupted)" if cluster["interrupted"] else ""),
             f"- seeds: {', '.join(map(str, cluster['seeds']))}; a shard is one claim under one seed (the "
             "`[seed=S]` suffix of a node id), reproduced alone by `pytest tests/test_<claim>.py -p no:xdist "
             f"--hypothesis-profile={run['profile']} --hypothesis-seed=S`",
             f"- shards retried (their worker died; each counted once): {retried}"]
    lines += [f"- **failed**: {message}" for message in cluster["failed"].values()]
    md = md_path.read_text(encoding="utf-8")
    before, heading, rest = md.partition(f"\n{CLUSTER_HEADING}\n")
    if heading:  # drop the section written before
        md = before + "\n" + rest[rest.index("\n## "):].lstrip("\n") if "\n## " in rest else before
    head, summary, tail = md.partition("\n## Summary\n")
    md = head + "\n" + "\n".join(lines) + "\n" + summary + tail if summary else md + "\n" + "\n".join(lines) + "\n"
    report.atomic_write(md_path, md)


# --- the command line (``resclaims nightly --cluster``, ``resclaims verify --cluster``) -------------


def workers_of(value: str) -> int:
    """``-n`` as the size of a LocalCluster: ``auto`` = the CPUs, ``0`` = one worker."""
    if value == "auto":
        return os.cpu_count() or 1
    try:
        return max(1, int(value))
    except ValueError:
        raise SystemExit(f"resclaims: -n must be a number or auto, got {value!r}") from None


def run_from_cli(args, *, root: Path, out_dir: Path, stem: str, profile: str, night: str) -> tuple[int, Path | None]:
    """A clustered run of the CLI: (exit status, the complete JSON report or None), with one
    message per problem on stderr (the unreachable address, each failed shard, the interrupt)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("resclaims: --cluster needs Dask: pip install -e '.[cluster]'", file=sys.stderr)
        return NIGHT_FAILED, None
    address = args.scheduler or _scheduler_default()
    count = args.seeds if args.seeds is not None else (1 if profile == "ci" else 2)
    seeds = parse_seed_list(args.seed_list) if args.seed_list else night_seeds(night, count)
    claims = select_claims(root, args.k)
    if not claims:
        print(f"resclaims: no claim's test module matches -k {args.k!r}", file=sys.stderr)
        return NIGHT_FAILED, None
    shards = make_shards(claims, seeds)
    n_workers = workers_of(args.workers)
    print(f"$ resclaims on {address or f'a LocalCluster of {n_workers} workers'}: {len(shards)} shards = "
          f"{len(claims)} claims x seeds {', '.join(map(str, seeds))}; profile {profile}", flush=True)
    try:
        night_run = run_night(shards, root=root, out_dir=out_dir, stem=stem, profile=profile, address=address,
                              n_workers=n_workers, k=args.k, connect_timeout=args.connect_timeout,
                              shard_timeout=args.shard_timeout, args=sys.argv[1:])
    except ClusterError as exc:
        print(f"resclaims: {exc}; no report written", file=sys.stderr)
        return NIGHT_FAILED, None
    md = night_run.written.with_suffix(".md") if night_run.written else None
    if night_run.retried:
        print("resclaims: shards run again after their worker died (each counted once): "
              + ", ".join(f"{name} ({n} attempts)" for name, n in night_run.retried.items()), flush=True)
    if night_run.interrupted:
        print(f"resclaims: interrupted; partial report of what had finished: {md}; {stem}.md and earlier "
              "reports untouched", file=sys.stderr)
        return INTERRUPTED, None
    for message in night_run.failed.values():
        print(f"resclaims: {message}", file=sys.stderr)
    if night_run.failed:
        print(f"resclaims: {len(night_run.failed)} of {len(shards)} shards failed; partial report: {md}; "
              f"{stem}.md and earlier reports untouched", file=sys.stderr)
        return NIGHT_FAILED, None
    return night_run.status, night_run.report
