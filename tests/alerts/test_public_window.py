"""The feeds read the alerts in force and those ended within their window, not every alert ever
issued, and say the same as when they read them all: the same entries, and a Last-Modified
that moves when an ended alert leaves the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bolo.alerts import public_reads, takedown
from bolo.alerts.model import Alert
from bolo.alerts.public_routes import FEED_KEEP
from bolo.api import create_app
from bolo.auth.model import User
from bolo.clock import FakeClock, now, use_clock
from bolo.store.db import session_scope
from tests.alerts.factories import issue_public_alert


@pytest.fixture()
def clock() -> Iterator[FakeClock]:
    fake = FakeClock(now().replace(microsecond=0))
    with use_clock(fake):
        yield fake


def _cancel(engine: Engine, alert_id: str) -> None:
    with session_scope(engine) as db:
        actor = db.query(User).filter_by(username="coord").one()
        takedown.cancel_alert(db, alert_id=alert_id, reason="Found.", actor=actor)


def _latest_expiry(engine: Engine, ids: list[str]) -> datetime:
    with session_scope(engine) as db:
        found = db.scalars(select(Alert.expires_at).where(Alert.id.in_(ids))).all()
    return max(e for e in found if e is not None)


def test_the_feed_reads_only_the_alerts_its_window_holds(
    db_engine: Engine, clock: FakeClock
) -> None:
    client = TestClient(create_app(timers=False))
    old = [issue_public_alert(db_engine)[0] for _ in range(4)]
    _cancel(db_engine, old[0])
    clock.advance(seconds=3 * 86400.0)  # the others expired two days ago
    with session_scope(db_engine) as db:
        takedown.expire_due(db)  # one stored as expired, the rest expired at read time
    # Empty: Last-Modified is when the last of them left the feed (expiry + FEED_KEEP).
    answer = client.get("/feed/cap.atom")
    assert answer.text.count("<entry>") == 0
    left = _latest_expiry(db_engine, old[1:]) + FEED_KEEP
    assert parsedate_to_datetime(answer.headers["last-modified"]) == left
    fresh, _ = issue_public_alert(db_engine)
    clock.advance(seconds=1.0)
    recent, _ = issue_public_alert(db_engine)
    _cancel(db_engine, recent)
    with session_scope(db_engine) as db:
        found = public_reads.public_issues(db, include_ended=True, ended_since=now() - FEED_KEEP)
        assert [i.alert.id for i in found] == [recent, fresh]  # newest first, old ones unread
        assert public_reads.last_departure(db, keep=FEED_KEEP) == left
        assert len(public_reads.public_issues(db, include_ended=True, ended_limit=1)) == 2
    feed = client.get("/feed/cap.atom").text
    assert feed.count("<entry>") == 2 and all(f"/alerts/{a}.cap" not in feed for a in old)
