"""The triage worker: one per database (a lease), and a process of its own under `bolo serve`,
restarted when it dies and stopped with the server."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from bolo.clock import now
from bolo.reports import service
from bolo.reports.intake import TipIn
from bolo.reports.model import Report
from bolo.reports.worker import LEASE, TriageWorker, WorkerProcess
from bolo.store.db import session_scope
from bolo.store.leases import Lease
from tests.reports.factories import KILJU, coordinator, songchon_case


def _tips(engine: Engine, count: int, case_id: str | None = None) -> str:
    with session_scope(engine) as s:
        if case_id is None:
            case_id = songchon_case(s, coordinator(s)).id
        for i in range(count):
            service.submit_tip(
                s,
                tip=TipIn(
                    case_id=case_id,
                    what=f"a couple with a small boy in a grey truck, tip {i} {time.time()}",
                    lat=KILJU[0],
                    lon=KILJU[1],
                    seen_at=now() - timedelta(minutes=5 + i),
                ),
            )
    return case_id


def _unclustered(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(
            s.execute(
                select(func.count()).select_from(Report).where(Report.cluster_id.is_(None))
            ).scalar_one()
        )


def test_a_second_worker_does_not_cluster_while_the_first_holds_the_lease(
    db_engine: Engine,
) -> None:
    first, second = TriageWorker(db_engine), TriageWorker(db_engine)
    case_id = _tips(db_engine, 3)
    first.step()
    assert first.clustered == 3
    _tips(db_engine, 2, case_id)
    second.step()
    assert second.clustered == 0
    assert _unclustered(db_engine) == 2
    first.release()  # e.g. the first server stopped
    second.step()
    assert second.clustered == 2
    assert _unclustered(db_engine) == 0


def test_an_expired_lease_is_taken_over_and_its_old_holder_writes_nothing(
    db_engine: Engine,
) -> None:
    stalled, other = TriageWorker(db_engine), TriageWorker(db_engine)
    case_id = _tips(db_engine, 1)
    stalled.step()
    _tips(db_engine, 2, case_id)
    with session_scope(db_engine) as s:  # the stalled worker let its lease run out
        s.execute(update(Lease).values(expires_at=now() - timedelta(seconds=1)))
    other.step()
    assert other.clustered == 2
    _tips(db_engine, 1, case_id)
    stalled.step()
    assert stalled.clustered == 1  # only its first batch: the lease is the other's now
    assert _unclustered(db_engine) == 1


def test_two_worker_threads_never_both_write(sqlite_engine: Engine) -> None:
    case_id = _tips(sqlite_engine, 5)
    workers = [TriageWorker(sqlite_engine, poll_s=0.02) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        for round_ in range(5):
            _tips(sqlite_engine, 3, case_id)
            time.sleep(0.15 + 0.01 * round_)
        deadline = time.monotonic() + 20
        while _unclustered(sqlite_engine) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()
    assert sorted(w.clustered for w in workers) == [0, 20]


def test_the_worker_stops_when_its_parent_is_gone(sqlite_engine: Engine) -> None:
    worker = TriageWorker(sqlite_engine)
    stop = threading.Event()
    began = time.monotonic()
    # This process's parent is not this process: as if the server had died.
    worker.run(stop, parent_pid=os.getpid())
    assert time.monotonic() - began < 5
    with session_scope(sqlite_engine) as s:
        assert s.get(Lease, LEASE) is None  # given up for the next worker


def _wait(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_serve_runs_the_worker_as_a_process_restarted_when_it_dies(
    sqlite_engine: Engine, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLO_DATABASE_URL", f"sqlite:///{data_dir / 'test.db'}")
    case_id = _tips(sqlite_engine, 3)
    process = WorkerProcess(restart_s=0.1)
    process.start()
    try:
        assert _wait(lambda: _unclustered(sqlite_engine) == 0)
        first = process.pid
        assert first is not None and first != os.getpid()
        os.kill(first, signal.SIGKILL)
        assert _wait(lambda: process.starts == 2 and process.pid != first, 20)
        _tips(sqlite_engine, 2, case_id)
        # The new process takes its predecessor's lease at once (no waiting for it to expire).
        assert _wait(lambda: _unclustered(sqlite_engine) == 0, 30)
        child = process._child
    finally:
        process.stop()
    assert child is not None and child.poll() is not None


def test_cluster_command_says_another_worker_holds_the_database(
    sqlite_engine: Engine, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bolo.cli import app

    monkeypatch.setenv("BOLO_DATABASE_URL", f"sqlite:///{data_dir / 'test.db'}")
    case_id = _tips(sqlite_engine, 2)
    server = TriageWorker(sqlite_engine)
    server.step()  # holds the lease, as a running `bolo serve` does
    _tips(sqlite_engine, 1, case_id)
    answer = CliRunner().invoke(app, ["report", "cluster"])
    assert answer.exit_code == 0
    assert "another worker clusters this database" in answer.output
    assert "clustered 0 report(s)" in answer.output
    assert _unclustered(sqlite_engine) == 1
