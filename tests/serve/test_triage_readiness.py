"""/readyz and /metrics say when no triage worker clusters new reports: nobody holds the
clustering lease, its holder stopped renewing it, or this server's own worker process is dead
(killed here for real)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.core import Metric
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.clock import now
from bolo.dispatch.runner.liveness import Role, beat
from bolo.ops.metrics import DatabaseCollector
from bolo.reports.worker import LEASE, WorkerProcess
from bolo.store.db import session_scope
from bolo.store.leases import take


def _triage(client: TestClient, status: int) -> dict[str, object]:
    answer = client.get("/readyz")
    assert answer.status_code == status, answer.text
    check: dict[str, object] = answer.json()["checks"]["triage"]
    return check


def _dispatcher_alive(engine: Engine) -> None:
    with session_scope(engine) as db:
        beat(db, name="test-dispatcher", role=Role.DISPATCHER, started_at=now())


def _gauge(engine: Engine) -> float:
    metrics: list[Metric] = list(DatabaseCollector(engine).collect())
    (found,) = [m for m in metrics if m.name == "bolo_triage_worker_alive"]
    return float(found.samples[0].value)


def test_ready_only_while_a_triage_worker_holds_a_fresh_lease(sqlite_engine: Engine) -> None:
    _dispatcher_alive(sqlite_engine)
    client = TestClient(create_app(timers=False))
    check = _triage(client, 503)
    assert "no triage worker" in str(check["detail"]) and "bolo serve" in str(check["detail"])
    assert _gauge(sqlite_engine) == 0
    take(sqlite_engine, name=LEASE, holder="gone:1:abc", ttl_s=-90)  # renewed 150 s ago
    check = _triage(client, 503)
    assert "gone:1:abc stopped renewing" in str(check["detail"]), check
    assert _gauge(sqlite_engine) == 0
    take(sqlite_engine, name=LEASE, holder="alive:2:def", ttl_s=60)
    assert _triage(client, 200)["ok"]
    assert _gauge(sqlite_engine) == 1


def _wait(what: str, done: Callable[[], bool], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done(), f"{what} within {timeout_s:.0f} s"


def test_a_killed_triage_worker_process_is_reported_at_once(
    sqlite_engine: Engine, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLO_DATABASE_URL", f"sqlite:///{data_dir / 'test.db'}")
    _dispatcher_alive(sqlite_engine)
    app = create_app(timers=False)
    worker = WorkerProcess(restart_s=600.0)  # stays dead while we look
    app.state.triage = worker  # as bolo serve's lifespan does
    client = TestClient(app)
    worker.start()
    try:
        _wait("the worker took the lease", lambda: client.get("/readyz").status_code == 200)
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        _wait("the worker died", lambda: worker.exit_code() is not None, 10)
        check = _triage(client, 503)
        assert "killed by signal 9" in str(check["detail"]), check
    finally:
        worker.stop()
