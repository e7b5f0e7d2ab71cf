"""Aggregators poll cheaply: ETag, Last-Modified and 304 on an alert's CAP message and on the
feeds; the feed's `updated` is its newest entry's time, not the time of the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Engine

from bolo.alerts import takedown
from bolo.alerts.model import Alert
from bolo.alerts.public_routes import FEED_KEEP
from bolo.api import create_app
from bolo.auth.model import User
from bolo.clock import FakeClock, use_clock
from bolo.store.db import session_scope
from tests.alerts.factories import issue_public_alert

ATOM = "{http://www.w3.org/2005/Atom}"


def test_alert_cap_answers_304_to_a_matching_etag_or_date(sqlite_engine: Engine) -> None:
    alert_id, _ = issue_public_alert(sqlite_engine)
    client = TestClient(create_app(timers=False))
    first = client.get(f"/alerts/{alert_id}.cap")
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(f"/alerts/{alert_id}.cap", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert (
        client.get(f"/alerts/{alert_id}.cap", headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    old = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert (
        client.get(f"/alerts/{alert_id}.cap", headers={"If-Modified-Since": old}).status_code == 200
    )
    assert (
        client.get(
            f"/alerts/{alert_id}.cap",
            headers={"If-None-Match": '"other"', "If-Modified-Since": modified},
        ).status_code
        == 200
    )  # If-None-Match wins (RFC 9110)
    assert (
        client.get(
            f"/alerts/{alert_id}.cap", headers={"If-Modified-Since": "yesterday-ish"}
        ).status_code
        == 200
    )


def test_feeds_are_conditional_and_updated_is_the_newest_entry(sqlite_engine: Engine) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    with use_clock(clock):
        alert_id, sent = issue_public_alert(sqlite_engine)
        client = TestClient(create_app(timers=False))
        for url in ("/feed/cap.atom", "/feed/cap.rss"):
            first = client.get(url)
            assert first.status_code == 200
            assert (
                client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
            )
            assert (
                client.get(
                    url, headers={"If-Modified-Since": first.headers["last-modified"]}
                ).status_code
                == 304
            )
        clock.advance(minutes=5)
        atom = etree.fromstring(client.get("/feed/cap.atom").content)
        assert datetime.fromisoformat(atom.findtext(f"{ATOM}updated") or "") == sent
        before = client.get("/feed/cap.atom")
        clock.advance(minutes=5)
        with session_scope(sqlite_engine) as db:
            actor = db.query(User).filter_by(username="coord").one()
            takedown.cancel_alert(db, alert_id=alert_id, reason="Found.", actor=actor)
        after = client.get("/feed/cap.atom", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and f"/alerts/{alert_id}.cap" in after.text
        assert "Cancelled: " in after.text  # the Cancel, for subscribers to apply
        stale = client.get(
            "/feed/cap.atom", headers={"If-Modified-Since": before.headers["last-modified"]}
        )
        assert stale.status_code == 200  # the Cancel changed the feed after that date
        assert stale.headers["last-modified"] == format_datetime(clock(), usegmt=True)


def test_an_unchanged_feed_has_the_same_etag_from_request_to_request(sqlite_engine: Engine) -> None:
    issue_public_alert(sqlite_engine)
    client = TestClient(create_app(timers=False))
    assert (
        client.get("/feed/cap.atom").headers["etag"] == client.get("/feed/cap.atom").headers["etag"]
    )


def test_an_ended_alert_stays_in_the_feeds_for_a_day_then_leaves(sqlite_engine: Engine) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    with use_clock(clock):
        cancelled, _ = issue_public_alert(sqlite_engine)
        expiring, _ = issue_public_alert(sqlite_engine)
        with session_scope(sqlite_engine) as db:
            actor = db.query(User).filter_by(username="coord").one()
            takedown.cancel_alert(db, alert_id=cancelled, reason="Found.", actor=actor)
            expires = db.get(Alert, expiring).expires_at  # type: ignore[union-attr]
        assert expires is not None
        client = TestClient(create_app(timers=False))
        clock.advance(seconds=FEED_KEEP.total_seconds() - 60)
        for url in ("/feed/cap.atom", "/feed/cap.rss"):
            assert f"/alerts/{cancelled}.cap" in client.get(url).text
        clock.set(expires + timedelta(hours=1))
        for url in ("/feed/cap.atom", "/feed/cap.rss"):
            assert f"/alerts/{expiring}.cap" in client.get(url).text
        before = client.get("/feed/cap.atom")
        clock.set(expires + FEED_KEEP + timedelta(seconds=1))
        after = client.get(
            "/feed/cap.atom", headers={"If-Modified-Since": before.headers["last-modified"]}
        )
        assert after.status_code == 200 and "<entry>" not in after.text
        assert after.headers["last-modified"] == format_datetime(expires + FEED_KEEP, usegmt=True)
        assert (
            client.get(
                "/feed/cap.atom", headers={"If-None-Match": after.headers["etag"]}
            ).status_code
            == 304
        )
