"""A second bolo follows the first's public feed with `bolo cap subscribe`: it sees the Alert,
then the Update, then the Cancel, and applies each (the feed keeps a cancelled alert, by its
Cancel, for a day after it came down)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bolo.alerts import ending, service
from bolo.alerts.external import ExternalAlert
from bolo.auth.model import User
from bolo.cli import app
from bolo.store.db import engine_for, session_scope, upgrade_database
from tests.alerts.helpers import ATTESTED, a_case, content, draft, staff

SERVER = ("import sys, uvicorn; from bolo.api import create_app; "
          "uvicorn.run(create_app(timers=False), host='127.0.0.1', port=int(sys.argv[1]), "
          "log_level='warning')")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def first(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """The first bolo: its own database, served by uvicorn in a subprocess (base URL, engine)."""
    home = tmp_path / "first"
    home.mkdir()
    url = f"sqlite:///{home / 'bolo.db'}"
    engine = engine_for(url)
    upgrade_database(engine)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BOLO_DATA_DIR": str(home), "BOLO_DATABASE_URL": url,
           "BOLO_PUBLIC_BASE_URL": base}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, engine
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        engine.dispose()


def staff_of(db: Session) -> tuple[User, User]:
    """The coordinator and approver `staff` created."""
    users = {u.username: u for u in db.execute(select(User)).scalars()}
    return users["coord"], users["approver"]


def _poll(base: str, state: Path) -> str:
    result = CliRunner().invoke(app, ["cap", "subscribe", f"{base}/feed/cap.atom", "--once",
                                      "--allow-private", "--state", str(state)])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    return result.output


def _states(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as db:
        rows = db.execute(select(ExternalAlert).order_by(ExternalAlert.sent)).scalars()
        return {f"{r.msg_type}:{r.headline}": r.state for r in rows}


def test_a_second_bolo_applies_the_firsts_alert_update_and_cancel(
    first: tuple[str, Engine], sqlite_engine: Engine, tmp_path: Path
) -> None:
    base, engine = first
    state = tmp_path / "second.state"
    with session_scope(engine) as db:
        coord, approver = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        alert_id = v.alert_id
    assert "NEW " in _poll(base, state)
    assert _states(sqlite_engine) == {"Alert:Child abducted near Songchon": "active"}
    assert "feed unchanged (304)" in _poll(base, state)

    with session_scope(engine) as db:
        coord, approver = staff_of(db)
        u = service.update_alert(db, alert_id=alert_id, author=coord,
                                 content=content([], headline="Car seen heading north"))
        service.submit_for_approval(db, version_id=u.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=u.id, sha256=u.sha256, approver=approver)
    assert "UPDATE " in _poll(base, state)
    assert _states(sqlite_engine) == {"Alert:Child abducted near Songchon": "superseded",
                                      "Update:Car seen heading north": "active"}

    with session_scope(engine) as db:
        ending.cancel_alert(db, alert_id=alert_id, reason="Found safe.", actor=staff_of(db)[0])
    assert "CANCEL " in _poll(base, state)
    assert set(_states(sqlite_engine).values()) == {"cancelled"}
    assert "feed unchanged (304)" in _poll(base, state)

