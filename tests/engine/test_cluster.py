"""The night on a Dask cluster (``resclaims nightly --cluster``, :mod:`resclaims.claims.engine.cluster`).

A night is reproducible from its seed list (1 or 2 workers, the same merged JSON); a worker killed
mid-shard loses nothing and counts nothing twice, and the report names the shard run again; a
worker that dies for good, an unreachable scheduler and a malformed payload each give an error
naming the shard or the address, within a stated time-out, and leave the previous report intact.

Kept small (one fast claim, two seeds, the ``dev`` profile, whose examples the seed decides; the
``ci`` profile ignores seeds): the real shards run pytest in worker processes, as a night does.
"""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from distributed import Client, LocalCluster  # noqa: E402

from resclaims.claims.engine import cli, cluster, registry, report  # noqa: E402
from resclaims.claims.engine.judge import ClaimRun  # noqa: E402

#: A fast claim (under a second of examples per shard) whose evidence depends on the seed (its worst
#: instance, slack, hypotheses' edges and metrics differ between seeds 11 and 22).
CLAIM = "c2_forward_lipschitz_bound"
SEEDS = [11, 22]
#: Randomized, seeded by ``--hypothesis-seed`` (each shard with its own empty example database).
PROFILE = "dev"
#: Longest wait for a shard to start on a worker, and for a faulted night to end.
START_TIMEOUT, NIGHT_TIMEOUT = 60.0, 120.0
#: The connect time-out given for an unreachable scheduler, and the slack allowed on top of it.
CONNECT_TIMEOUT, CONNECT_SLACK = 2.0, 10.0


def _shards() -> list[cluster.Shard]:
    return cluster.make_shards([CLAIM], SEEDS)


def _night(out: Path, **kwargs) -> cluster.Night:
    return cluster.run_night(_shards(), root=cli.project_root(), out_dir=out, stem="night", profile=PROFILE,
                             progress=cluster.NightProgress(len(SEEDS), quiet=True), **kwargs)


def _comparable(path: Path) -> dict:
    """A night's JSON without what legitimately differs between runs: when, on which workers, how long."""
    doc = json.loads(path.read_text())
    for key in ("date", "workers", "args"):
        doc["run"].pop(key)
    for key in ("scheduler", "workers", "retried"):
        doc["run"]["cluster"].pop(key)
    for claim in doc["claims"]:
        claim.pop("seconds")
    return doc


def _claim(path: Path) -> dict:
    return next(c for c in json.loads(path.read_text())["claims"] if c["id"] == CLAIM)


@pytest.fixture(scope="module")
def two_workers():
    """A LocalCluster of two worker processes (each under a nanny, which restarts a killed worker),
    reached by its address as a real cluster would be."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as local:
        yield local


@pytest.fixture(scope="module")
def one_worker_night(tmp_path_factory) -> cluster.Night:
    """The reference night: the LocalCluster ``run_night`` starts itself, one worker."""
    night = _night(tmp_path_factory.mktemp("one-worker"), n_workers=1)
    assert night.report is not None and not night.failed and not night.retried, night
    return night


def _night_with_a_worker_killed(address: str, night) -> tuple[cluster.Night, str]:
    """Run ``night()`` in a thread; as soon as one of its shards has started on a worker (the shard's
    attempt event), SIGKILL that worker's process. The night, and the shard that was running."""
    with Client(address) as client:
        earlier_topics = set(client.get_events())
        box: dict = {}
        thread = threading.Thread(target=lambda: box.setdefault("night", night()), daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and thread.is_alive():
            started = [msg for topic, events in client.get_events().items()
                       if topic.startswith("resclaims-") and topic not in earlier_topics for _, msg in events]
            if started:
                worker = started[0]["worker"]
                os.kill(client.run(os.getpid, workers=[worker])[worker], signal.SIGKILL)
                break
            time.sleep(0.05)
        else:
            raise AssertionError("no shard started on a worker")
    thread.join(NIGHT_TIMEOUT)
    return box["night"], started[0]["shard"]


def test_the_same_seeds_give_the_same_night_on_one_or_two_workers(one_worker_night, two_workers, tmp_path):
    two = _night(tmp_path, address=two_workers.scheduler_address)
    assert two.report is not None and not two.failed, two
    assert _comparable(one_worker_night.report) == _comparable(two.report)
    entry = _claim(two.report)
    nodeids = [t["nodeid"] for t in entry["tests"]]
    assert len(nodeids) == len(set(nodeids)) and {n.rsplit("[seed=", 1)[1] for n in nodeids} == {"11]", "22]"}
    assert entry["status"] == "verified" and entry["examples"]["generated"] > 0
    assert json.loads(two.report.read_text())["run"]["cluster"]["seeds"] == SEEDS


def test_a_worker_killed_mid_shard_loses_nothing_and_counts_nothing_twice(one_worker_night, two_workers, tmp_path):
    # Each shard sleeps first, so that the kill lands while a shard is running on the worker.
    night, killed = _night_with_a_worker_killed(
        two_workers.scheduler_address, lambda: _night(tmp_path, address=two_workers.scheduler_address, delay=1.0))
    assert night.report is not None and not night.failed, night
    assert night.retried == {killed: 2}
    faulted, unfaulted = _claim(night.report), _claim(one_worker_night.report)
    assert faulted["examples"] == unfaulted["examples"]
    assert [t["nodeid"] for t in faulted["tests"]] == [t["nodeid"] for t in unfaulted["tests"]]
    assert _comparable(night.report) == _comparable(one_worker_night.report)
    assert json.loads(night.report.read_text())["run"]["cluster"]["retried"] == {killed: 2}
    assert killed in night.report.with_suffix(".md").read_text().split("## Summary")[0]


def _earlier_reports(folder: Path) -> dict[Path, str]:
    earlier = {folder / f"night.{ext}": f"earlier {ext}\n" for ext in ("md", "json")}
    for path, text in earlier.items():
        path.write_text(text)
    return earlier


def test_a_worker_dying_for_good_names_the_shard_and_keeps_the_last_report(two_workers, tmp_path):
    earlier = _earlier_reports(tmp_path)
    with Client(two_workers.scheduler_address) as client:
        allowed = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
        try:
            shard = cluster.Shard(CLAIM, SEEDS[0])
            night, killed = _night_with_a_worker_killed(two_workers.scheduler_address, lambda: cluster.run_night(
                [shard], root=cli.project_root(), out_dir=tmp_path, stem="night", profile=PROFILE,
                address=two_workers.scheduler_address, delay=NIGHT_TIMEOUT,
                progress=cluster.NightProgress(1, quiet=True)))
        finally:
            client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", allowed))
    assert killed == shard.name
    assert night.report is None and night.status == cluster.NIGHT_FAILED
    assert list(night.failed) == [shard.name] and "worker died" in night.failed[shard.name]
    assert shard.name in night.failed[shard.name]
    assert night.written == tmp_path / "night.partial.json"
    assert json.loads(night.written.read_text())["run"]["complete"] is False
    for path, text in earlier.items():
        assert path.read_text() == text


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_named_within_the_timeout(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_unused_port()}"
    started = time.monotonic()
    status = cli.main(["verify", "--profile", PROFILE, "--scheduler", address, "--connect-timeout",
                       str(CONNECT_TIMEOUT), "--report-dir", str(tmp_path), "-k", CLAIM])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert status == cluster.NIGHT_FAILED
    assert address in err and "cannot reach" in err and "Traceback" not in err, err
    assert elapsed < CONNECT_TIMEOUT + CONNECT_SLACK
    assert list(tmp_path.iterdir()) == []


def _empty_shard_report() -> str:
    """A well-formed shard report in which no test ran (a valid payload, without running pytest)."""
    runs = [ClaimRun(claim) for claim in registry.all_claims().values()]
    return json.dumps(report.build_json(runs, {"complete": True, "commit": "unknown"}))


def _garbling_runner(shard: cluster.Shard, options: cluster.ShardOptions) -> dict:
    """A shard runner whose second seed returns a truncated report."""
    text = _empty_shard_report()
    return {"exitstatus": 0, "report": text if shard.seed == SEEDS[0] else text[: len(text) // 2]}


def test_a_malformed_payload_names_the_shard_and_keeps_the_last_report(tmp_path):
    earlier = _earlier_reports(tmp_path)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0", silence_logs=logging.ERROR) as local:
        night = _night(tmp_path, address=local.scheduler_address, runner=_garbling_runner)
    bad = cluster.Shard(CLAIM, SEEDS[1]).name
    assert night.report is None and night.status == cluster.NIGHT_FAILED
    assert list(night.failed) == [bad] and "malformed payload" in night.failed[bad] and bad in night.failed[bad]
    doc = json.loads((tmp_path / "night.partial.json").read_text())
    assert doc["run"]["complete"] is False and doc["run"]["cluster"]["finished"] == [cluster.Shard(CLAIM, SEEDS[0]).name]
    assert bad in (tmp_path / "night.partial.md").read_text()
    for path, text in earlier.items():
        assert path.read_text() == text


def test_seeds_follow_the_night_and_claims_follow_k():
    assert cluster.night_seeds("2026-12-02", 3) == cluster.night_seeds("2026-12-02", 3)
    assert cluster.night_seeds("2026-12-02", 2) != cluster.night_seeds("2026-12-03", 2)
    assert cluster.parse_seed_list("3, 1,3") == [3, 1]
    command = cluster.shard_command(cluster.Shard(CLAIM, 7), cluster.ShardOptions("/x", PROFILE), Path("/r"))
    assert f"tests/test_{CLAIM}.py" in command and "--hypothesis-seed=7" in command
    assert f"--hypothesis-profile={PROFILE}" in command and "--resclaims-report-dir=/r" in command
    assert cluster.select_claims(cli.project_root(), CLAIM) == [CLAIM]
    assert CLAIM not in cluster.select_claims(cli.project_root(), f"c2_ and not {CLAIM}")


def test_a_shard_past_its_timeout_is_killed_and_named():
    shard = cluster.Shard(CLAIM, SEEDS[0])
    started = time.monotonic()
    with pytest.raises(cluster.ShardFailed, match=re.escape(shard.name) + ".*time-out"):
        cluster.run_shard(shard, cluster.ShardOptions(str(cli.project_root()), PROFILE, shard_timeout=0.2))
    assert time.monotonic() - started < CONNECT_SLACK
