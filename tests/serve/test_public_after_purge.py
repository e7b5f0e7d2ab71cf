"""The public pages and feeds keep answering after a retention purge; the purged alert itself
is gone (410), never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.clock import FakeClock, use_clock
from bolo.ops.retention import purge_due
from bolo.store.db import session_scope
from tests.security.factories import build_world, end_case

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_public_pages_answer_after_a_purge(db_engine: Engine) -> None:
    clock = FakeClock(START)
    with use_clock(clock):
        with session_scope(db_engine) as db:
            w = build_world(db, with_reports=False)
            end_case(db, w)
        client = TestClient(create_app(timers=False))
        assert client.get(f"/alerts/{w.alert_id}").status_code == 200  # ended, still shown
        clock.advance(days=2)
        assert purge_due(db_engine, days=1).cases == [w.case_id]
        for url in ("/alerts", "/alerts?lang=ko", "/feed/cap.atom", "/feed/cap.rss", "/healthz"):
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.status_code)
        for url in (f"/alerts/{w.alert_id}", f"/alerts/{w.alert_id}.cap"):
            assert client.get(url).status_code == 410, url  # gone for good, not "never was"
        assert w.alert_id not in client.get("/alerts").text
