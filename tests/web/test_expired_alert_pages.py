"""An active alert whose expiry has passed shows as expired on the staff's pages (the console's
case, alert and home pages, the post page) before the expiry job stores it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bolo.alerts.model import Alert, AlertState
from bolo.cases.model import CaseState, Outcome
from bolo.cases.schemas import CaseResolve
from bolo.cases.service import resolve_case
from bolo.clock import now
from bolo.errors import Conflict
from bolo.store.db import session_scope
from tests.security.factories import World
from tests.web.conftest import ClientFor


def _past_expiry(engine: Engine, alert_id: str) -> None:
    with session_scope(engine) as db:
        alert = db.get(Alert, alert_id)
        assert alert is not None and alert.state == AlertState.ACTIVE
        alert.expires_at = now() - timedelta(minutes=1)  # the expiry job has not run yet


def test_the_console_shows_an_alert_past_its_expiry_as_expired(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    coordinator = client_for("coordinator")
    assert 'class="state state-active"' in coordinator.get(f"/console/alerts/{world.alert_id}").text
    _past_expiry(sqlite_engine, world.alert_id)
    for path in (f"/console/alerts/{world.alert_id}", f"/console/cases/{world.case_id}"):
        page = coordinator.get(path).text
        assert 'class="state state-expired"' in page and "state-active" not in page, path
    assert (
        f"/console/alerts/{world.alert_id}/update"
        not in coordinator.get(f"/console/alerts/{world.alert_id}").text
    )  # no update of an ended alert is offered


def test_the_post_page_shows_an_alert_past_its_expiry_as_ended(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    officer = client_for("post_officer")
    assert 'class="banner ended"' not in officer.get("/post").text
    _past_expiry(sqlite_engine, world.alert_id)
    page = officer.get("/post").text
    assert world.alert_id in page and "EXPIRED: no further action" in page


def test_an_alert_past_its_expiry_leaves_the_delivery_board_and_the_case_map(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    coordinator = client_for("coordinator")

    def targeted() -> list[str]:
        answer = coordinator.get(f"/console/cases/{world.case_id}/map.json")
        assert answer.status_code == 200, answer.text[:300]
        posts = answer.json()["posts"]["features"]
        return [p["properties"]["id"] for p in posts if p["properties"]["targeted"]]

    assert f"/console/alerts/{world.alert_id}" in coordinator.get("/console/deliveries").text
    assert targeted() == [world.posts[0]]
    _past_expiry(sqlite_engine, world.alert_id)
    assert "No live alert." in coordinator.get("/console/deliveries").text
    assert targeted() == []


def test_a_case_whose_alert_is_past_its_expiry_can_be_resolved(
    sqlite_engine: Engine, world: World
) -> None:
    coordinator = world.users["coordinator"]
    resolution = CaseResolve(outcome=Outcome.FOUND_SAFE)
    with session_scope(sqlite_engine) as db, pytest.raises(Conflict, match="still live"):
        resolve_case(db, case_id=world.case_id, data=resolution, actor=coordinator)
    _past_expiry(sqlite_engine, world.alert_id)
    with session_scope(sqlite_engine) as db:
        case = resolve_case(db, case_id=world.case_id, data=resolution, actor=coordinator)
        assert case.state == CaseState.RESOLVED
