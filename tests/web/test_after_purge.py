"""The pages a team opens after an exercise or a case is over: once the case is purged (its
alerts' texts and CAP XML blanked), the console's alert page and the post page still answer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from bolo.alerts.takedown import cancel_alert
from bolo.api import create_app
from bolo.cases.model import Case
from bolo.ops.retention import purge_due
from bolo.store.db import session_scope
from tests.security.factories import CHILD, World, end_case
from tests.web.conftest import ClientFor


def _purge(engine: Engine, w: World) -> None:
    """Cancel, resolve and close the world's case, then purge it at once (as `--days 0`)."""
    with session_scope(engine) as db:
        end_case(db, w)
    assert purge_due(engine, days=0).cases == [w.case_id]


def test_the_console_alert_page_of_a_purged_case_answers(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    _purge(sqlite_engine, world)
    answer = client_for("coordinator").get(f"/console/alerts/{world.alert_id}")
    assert answer.status_code == 200, answer.text[:500]
    assert CHILD not in answer.text


def test_the_post_page_after_its_alert_was_purged_answers(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    """The cancelled alert stays on the post page for a day, unless its case is purged."""
    _purge(sqlite_engine, world)
    answer = client_for("post_officer").get("/post")
    assert answer.status_code == 200, answer.text[:500]
    assert world.alert_id not in answer.text


def _api(client: TestClient, token: str, url: str) -> Response:
    return client.get(url, headers={"Authorization": f"Bearer {token}", "Accept": "*/*"})


def test_the_messages_of_a_purged_case_are_gone_not_empty(
    sqlite_engine: Engine, world: World
) -> None:
    """Every CAP/XML answer of a purged case's alert is a 410 problem saying why, never a 200
    with the blanked XML."""
    _purge(sqlite_engine, world)
    client = TestClient(create_app(timers=False))
    token = world.tokens["coordinator"]
    staff = _api(client, token, f"/api/v1/alert-versions/{world.version_id}/cap")
    assert staff.status_code == 410, staff.text
    assert staff.headers["content-type"].startswith("application/problem+json")
    assert "purged with its case" in staff.json()["detail"]
    public = client.get(f"/alerts/{world.alert_id}.cap")
    assert public.status_code == 410 and "purged" in public.json()["detail"]
    for url in (f"/alerts/{world.alert_id}/poster", f"/alerts/{world.alert_id}"):
        answer = client.get(url, headers={"Accept": "text/html"})
        assert answer.status_code == 410, (url, answer.status_code)
        assert CHILD not in answer.text


def test_the_picture_of_a_purged_case_is_gone(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    """The picture would show where the child was last known: the API and the console's map
    answer 410, the case page says the picture went with the case and shows no coordinates."""
    with session_scope(sqlite_engine) as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        exact = f"{case.last_known_lat:.4f}"
    _purge(sqlite_engine, world)
    client = TestClient(create_app(timers=False))
    answer = _api(client, world.tokens["coordinator"], f"/api/v1/cases/{world.case_id}/picture")
    assert answer.status_code == 410, answer.text
    assert "search picture was deleted" in answer.json()["detail"]
    console = client_for("coordinator")
    assert console.get(f"/console/cases/{world.case_id}/map.json").status_code == 410
    page = console.get(f"/console/cases/{world.case_id}")
    assert page.status_code == 200
    assert 'id="picture-purged"' in page.text and "map.json" not in page.text
    assert exact not in page.text


def test_a_cancelled_alert_offers_no_update(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    """Once cancelled, the alert page has no "Draft an update", its form and the API refuse."""
    console = client_for("coordinator")
    assert (
        f"/console/alerts/{world.alert_id}/update"
        in console.get(f"/console/alerts/{world.alert_id}").text
    )
    with session_scope(sqlite_engine) as db:
        cancel_alert(db, alert_id=world.alert_id, reason="found", actor=world.users["coordinator"])
    page = console.get(f"/console/alerts/{world.alert_id}")
    assert f"/console/alerts/{world.alert_id}/update" not in page.text
    form = console.get(f"/console/alerts/{world.alert_id}/update")
    assert form.status_code == 409 and "only an alert in force" in form.text
    posted = console.post(f"/console/alerts/{world.alert_id}/update", data={"en_headline": "x"})
    assert posted.status_code == 409
