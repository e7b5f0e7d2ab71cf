"""/readyz fails, naming the check, when the database is down, its migrations are behind, the
broker is down or no dispatcher is alive (no triage worker: test_triage_readiness.py);
/healthz (liveness) answers regardless."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.clock import now
from bolo.dispatch.runner.liveness import Role, beat
from bolo.reports.worker import LEASE
from bolo.settings import reset_settings
from bolo.store.db import engine_for, session_scope, set_default_engine
from bolo.store.leases import take


def _checks(client: TestClient, status: int) -> dict[str, dict[str, object]]:
    answer = client.get("/readyz")
    assert answer.status_code == status, answer.text
    assert client.get("/healthz").status_code == 200
    checks: dict[str, dict[str, object]] = answer.json()["checks"]
    return checks


def _beat(engine: Engine, role: Role) -> None:
    with session_scope(engine) as db:
        beat(db, name=f"test-{role.value}", role=role, started_at=now())


def _triage_alive(engine: Engine) -> None:
    take(engine, name=LEASE, holder="test-triage", ttl_s=60)


def test_ready_only_with_a_live_dispatcher(sqlite_engine: Engine) -> None:
    _triage_alive(sqlite_engine)
    client = TestClient(create_app(timers=False))
    checks = _checks(client, 503)
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert not checks["dispatcher"]["ok"] and "bolo dispatcher" in str(checks["dispatcher"])
    _beat(sqlite_engine, Role.DISPATCHER)
    assert _checks(client, 200)["dispatcher"]["ok"]


def test_not_ready_when_the_database_is_down(data_dir: Path) -> None:
    set_default_engine(engine_for("postgresql://postgres@127.0.0.1:1/test"))
    checks = _checks(TestClient(create_app(timers=False)), 503)
    assert not checks["database"]["ok"] and "OperationalError" in str(checks["database"])


def test_not_ready_when_migrations_are_behind(data_dir: Path) -> None:
    set_default_engine(engine_for(f"sqlite:///{data_dir / 'never-migrated.db'}"))
    checks = _checks(TestClient(create_app(timers=False)), 503)
    assert checks["database"]["ok"] and not checks["migrations"]["ok"]
    assert "bolo db upgrade" in str(checks["migrations"]["detail"])


def test_not_ready_when_the_broker_is_down(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLO_BROKER_URL", "nats://127.0.0.1:1")
    reset_settings()
    _beat(sqlite_engine, Role.RELAY)
    _beat(sqlite_engine, Role.WORKER)
    checks = _checks(TestClient(create_app(timers=False)), 503)
    assert not checks["broker"]["ok"] and checks["dispatcher"]["ok"]


def test_ready_with_a_live_broker_relay_and_worker(
    sqlite_engine: Engine, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLO_BROKER_URL", nats_url)
    reset_settings()
    _triage_alive(sqlite_engine)
    client = TestClient(create_app(timers=False))
    _beat(sqlite_engine, Role.RELAY)
    assert not _checks(client, 503)["dispatcher"]["ok"]  # a relay without a worker sends nothing
    _beat(sqlite_engine, Role.WORKER)
    assert _checks(client, 200)["broker"]["ok"]


def test_workers_refuse_a_database_not_migrated(data_dir: Path) -> None:
    from typer.testing import CliRunner

    from bolo.dispatch.cli import app as dispatch_app

    url = f"sqlite:///{data_dir / 'never-migrated.db'}"
    data_dir.mkdir(parents=True, exist_ok=True)
    for args in (
        ["dispatcher", "--database-url", url],
        ["relay", "--database-url", url, "--broker-url", "nats://127.0.0.1:1"],
    ):
        result = CliRunner().invoke(dispatch_app, args)
        assert result.exit_code == 2, result.output
        assert "run `bolo db upgrade`" in result.output and "Traceback" not in result.output
