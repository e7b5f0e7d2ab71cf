"""A second bolo follows the first's public feed (`bolo serve`) with `bolo cap subscribe`: it
sees the Alert, then the Update, then the Cancel, and applies each (the feed keeps a cancelled
alert, by its Cancel, for a day after it came down)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bolo.alerts import service, takedown
from bolo.alerts.external import ExternalAlert
from bolo.auth.model import User
from bolo.store.db import engine_for, session_scope, upgrade_database
from tests.alerts.factories import ATTESTED, a_case, content, draft, staff
from tests.security.live_server import bolo, environment, serving


@pytest.fixture()
def first(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """The first bolo: `bolo serve` over its own data folder (base URL, its database)."""
    home = tmp_path / "first"
    home.mkdir()
    engine = engine_for(f"sqlite:///{home / 'bolo.db'}")
    upgrade_database(engine)
    try:
        with serving(environment(home)) as base:
            yield base, engine
    finally:
        engine.dispose()


@pytest.fixture()
def second(tmp_path: Path) -> Iterator[tuple[dict[str, str], Engine]]:
    """The second bolo: its own data folder (the environment to run `bolo` in, its database)."""
    home = tmp_path / "second"
    home.mkdir()
    engine = engine_for(f"sqlite:///{home / 'bolo.db'}")
    upgrade_database(engine)
    yield environment(home), engine
    engine.dispose()


def staff_of(db: Session) -> tuple[User, User]:
    """The coordinator and approver `staff` created."""
    users = {u.username: u for u in db.execute(select(User)).scalars()}
    return users["coord"], users["approver"]


def _poll(base: str, env: dict[str, str], state: Path) -> str:
    """One `bolo cap subscribe --once` of the second bolo; its output."""
    done = bolo(
        env,
        "cap",
        "subscribe",
        f"{base}/feed/cap.atom",
        "--once",
        "--allow-private",
        "--state",
        str(state),
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    return done.stdout


def _states(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as db:
        rows = db.execute(select(ExternalAlert).order_by(ExternalAlert.sent)).scalars()
        return {f"{r.msg_type}:{r.headline}": r.state for r in rows}


def test_a_second_bolo_applies_the_firsts_alert_update_and_cancel(
    first: tuple[str, Engine], second: tuple[dict[str, str], Engine], tmp_path: Path
) -> None:
    base, engine = first
    env, theirs = second
    state = tmp_path / "second.state"
    with session_scope(engine) as db:
        coord, approver = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        alert_id = v.alert_id
    assert "NEW " in _poll(base, env, state)
    assert _states(theirs) == {"Alert:Child abducted near Songchon": "active"}
    assert "feed unchanged (304)" in _poll(base, env, state)

    with session_scope(engine) as db:
        coord, approver = staff_of(db)
        u = service.update_alert(
            db,
            alert_id=alert_id,
            author=coord,
            content=content([], headline="Car seen heading north"),
        )
        service.submit_for_approval(db, version_id=u.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=u.id, sha256=u.sha256, approver=approver)
    assert "UPDATE " in _poll(base, env, state)
    assert _states(theirs) == {
        "Alert:Child abducted near Songchon": "superseded",
        "Update:Car seen heading north": "active",
    }

    with session_scope(engine) as db:
        takedown.cancel_alert(db, alert_id=alert_id, reason="Found safe.", actor=staff_of(db)[0])
    assert "CANCEL " in _poll(base, env, state)
    assert set(_states(theirs).values()) == {"cancelled"}
    assert "feed unchanged (304)" in _poll(base, env, state)
