"""A national alert's surge reads the public side hard: the feeds and the public alert list
cost the same number of SQL statements however many alerts were ever issued, and the feeds
say what they hold (alerts in force and those ended in the last day) in the reader's language."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Engine, event

from bolo.alerts import takedown
from bolo.api import create_app
from bolo.auth.model import User
from bolo.store.db import session_scope
from tests.alerts.factories import issue_public_alert

ATOM = "{http://www.w3.org/2005/Atom}"
PUBLIC_READS = ("/feed/cap.atom", "/feed/cap.rss", "/alerts")


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the block."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements(engine: Engine, client: TestClient) -> dict[str, int]:
    found = {}
    for url in PUBLIC_READS:
        with counting(engine) as seen:
            assert client.get(url).status_code == 200
        found[url] = len(seen)
    return found


def _cancel(engine: Engine, alert_id: str) -> None:
    with session_scope(engine) as db:
        actor = db.query(User).filter_by(username="coord").one()
        takedown.cancel_alert(db, alert_id=alert_id, reason="Found.", actor=actor)


def test_public_reads_cost_the_same_statements_for_2_or_8_alerts(db_engine: Engine) -> None:
    client = TestClient(create_app(timers=False))
    _cancel(db_engine, issue_public_alert(db_engine)[0])
    issue_public_alert(db_engine)
    few = _statements(db_engine, client)
    for number in range(6):
        alert_id, _ = issue_public_alert(db_engine)
        if number % 2:
            _cancel(db_engine, alert_id)
    many = _statements(db_engine, client)
    assert many == few, f"statements per request grew with the alerts: {few} -> {many}"
    assert max(many.values()) <= 6
    assert client.get("/feed/cap.atom").text.count("<entry>") == 8
    assert client.get("/alerts").text.count('href="/alerts/') >= 8


def test_the_feed_title_says_it_keeps_ended_alerts_in_the_readers_language(
    sqlite_engine: Engine,
) -> None:
    issue_public_alert(sqlite_engine)
    client = TestClient(create_app(timers=False))
    english = etree.fromstring(client.get("/feed/cap.atom").content)
    title = english.findtext(f"{ATOM}title") or ""
    assert "active" not in title and "in force or ended in the last 24 hours" in title
    rss = etree.fromstring(client.get("/feed/cap.rss").content)
    assert "ended in the last 24 hours" in (rss.findtext("channel/description") or "")
    korean = client.get("/feed/cap.atom", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert korean.headers["vary"] == "Accept-Language"
    ko_title = etree.fromstring(korean.content).findtext(f"{ATOM}title") or ""
    assert ko_title != title and "24" in ko_title
    assert korean.headers["etag"] != client.get("/feed/cap.atom").headers["etag"]
