"""An active alert whose expiry has passed is expired for every reader at once: the public list,
the alert's page and poster, the feeds, the child's photo, the staff API and the console do not
wait for the expiry job to store it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Engine

from bolo.alerts import public_reads, service, takedown
from bolo.alerts.model import Alert, AlertState
from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token, user_by_name
from bolo.clock import FakeClock, now, use_clock
from bolo.errors import Conflict
from bolo.store.db import session_scope
from tests.alerts.factories import content, issue_public_alert
from tests.cases.test_case_photos import World, _issue, _media_path, _upload, jpeg_with_gps

# The photo tests' fixture: a case, its coordinator and a viewer, with their tokens.
from tests.cases.test_case_photos import world as world

ATOM = "{http://www.w3.org/2005/Atom}"
PAST_EXPIRY = timedelta(hours=25)  # the factories' alerts expire after 24 hours


@pytest.fixture()
def clock() -> Iterator[FakeClock]:
    fake = FakeClock(now())
    with use_clock(fake):
        yield fake


def _stored_state(engine: Engine, alert_id: str) -> str:
    with session_scope(engine) as db:
        alert = db.get(Alert, alert_id)
        assert alert is not None
        return alert.state


def test_public_reads_treat_an_alert_past_its_expiry_as_expired(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    alert_id, _ = issue_public_alert(sqlite_engine)
    client = TestClient(create_app(timers=False))
    assert "There is no active alert." not in client.get("/alerts").text
    clock.advance(seconds=PAST_EXPIRY.total_seconds())
    assert _stored_state(sqlite_engine, alert_id) == AlertState.ACTIVE  # the job has not run
    with session_scope(sqlite_engine) as db:
        assert public_reads.public_issues(db) == []
        (issue,) = public_reads.public_issues(db, include_ended=True)
        assert issue.state == AlertState.EXPIRED and issue.ended
    listed = client.get("/alerts").text
    active, _, ended = listed.partition("<h2>Ended</h2>")
    assert "There is no active alert." in active and f"/alerts/{alert_id}" not in active
    assert f"/alerts/{alert_id}" in ended and "(expired)" in ended
    page = client.get(f"/alerts/{alert_id}").text
    assert "EXPIRED: this alert is no longer active" in page
    assert 'href="/tips/new?case=' not in page  # no call for sightings of an ended alert
    assert client.get(f"/alerts/{alert_id}/poster").status_code == 404
    feed = etree.fromstring(client.get("/feed/cap.atom").content)
    assert [t.text for t in feed.iter(f"{ATOM}title")][1].startswith("Expired: ")


def test_the_staff_api_shows_the_expired_state_before_the_job(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    alert_id, _ = issue_public_alert(sqlite_engine)
    with session_scope(sqlite_engine) as db:
        viewer = create_user(db, username="watcher", role=Role.VIEWER, actor=None)
        token = {"Authorization": f"Bearer {issue_token(db, user_id=viewer.id, actor=None)}"}
    client = TestClient(create_app(timers=False))
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=token).json()["state"] == "active"
    clock.advance(seconds=PAST_EXPIRY.total_seconds())
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=token).json()["state"] == "expired"
    with session_scope(sqlite_engine) as db:
        assert takedown.expire_due(db) == [alert_id]  # the job stores what readers saw
        alert = db.get(Alert, alert_id)
        assert alert is not None and alert.state == alert.shown_state == AlertState.EXPIRED


def test_the_childs_photo_leaves_the_public_web_at_the_alerts_expiry(
    world: World, clock: FakeClock
) -> None:
    _status, body = _upload(world, jpeg_with_gps())
    _issue(world)
    path = _media_path(body["photo_url"])
    assert world.client.get(path).status_code == 200
    clock.advance(seconds=PAST_EXPIRY.total_seconds())
    assert world.client.get(path).status_code == 404
    assert world.client.get(path, headers=world.viewer).status_code == 200  # staff still see it


def test_the_feed_says_cancelled_and_expired_in_the_readers_language(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    issue_public_alert(sqlite_engine)
    clock.advance(seconds=PAST_EXPIRY.total_seconds())
    cancelled, _ = issue_public_alert(sqlite_engine)
    with session_scope(sqlite_engine) as db:
        coord = user_by_name(db, username="coord")
        takedown.cancel_alert(db, alert_id=cancelled, reason="Found safe.", actor=coord)
    client = TestClient(create_app(timers=False))
    answer = client.get("/feed/cap.atom", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    korean = etree.fromstring(answer.content)
    titles = [e.findtext(f"{ATOM}title") or "" for e in korean.iter(f"{ATOM}entry")]
    assert [t.split(": ")[0] for t in titles] == ["취소됨", "만료됨"], titles
    rss = client.get("/feed/cap.rss", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).text
    assert "<title>만료됨: " in rss


def test_an_alert_past_its_expiry_takes_no_update_before_the_job(
    sqlite_engine: Engine, clock: FakeClock
) -> None:
    alert_id, _ = issue_public_alert(sqlite_engine)
    clock.advance(seconds=PAST_EXPIRY.total_seconds())
    with session_scope(sqlite_engine) as db:
        coord = user_by_name(db, username="coord")
        with pytest.raises(Conflict, match="only an alert in force"):
            service.update_alert(db, alert_id=alert_id, content=content([]), author=coord)
