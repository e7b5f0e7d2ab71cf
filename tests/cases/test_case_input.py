"""Case times are checked before anything is stored: a zone, a sane range, not in the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.cases.model import Case
from bolo.store.db import session_scope

RECENT = (datetime.now(UTC) - timedelta(hours=2)).isoformat()


def _body(earliest: str, latest: str = RECENT) -> dict[str, object]:
    return {
        "children": [{"name": "A Child"}],
        "last_known": {"lat": 39.2, "lon": 126.2, "time_earliest": earliest, "time_latest": latest},
    }


@pytest.mark.parametrize(
    ("earliest", "latest", "words"),
    [
        # Found by the API fuzzer: year 1 with a positive offset overflowed on the way to UTC (500).
        ("0001-01-01T00:00:00+00:01", "2000-01-01T00:00:00Z", "out of range"),
        ("1850-01-01T00:00:00Z", RECENT, "before 1900"),
        (RECENT, (datetime.now(UTC) + timedelta(hours=3)).isoformat(), "in the future"),
        ("2026-01-01T10:00:00", RECENT, "timezone"),
    ],
)
def test_bad_case_times_are_422_and_store_nothing(
    sqlite_engine: Engine, earliest: str, latest: str, words: str
) -> None:
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="coord", role=Role.COORDINATOR, actor=None)
        token = issue_token(db, user_id=user.id, actor=None)
    answer = TestClient(create_app(timers=False)).post(
        "/api/v1/cases", json=_body(earliest, latest), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 422, answer.text
    assert words in answer.text
    with session_scope(sqlite_engine) as db:
        assert db.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_a_sane_case_is_opened(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="coord", role=Role.COORDINATOR, actor=None)
        token = issue_token(db, user_id=user.id, actor=None)
    answer = TestClient(create_app(timers=False)).post(
        "/api/v1/cases",
        json=_body((datetime.now(UTC) - timedelta(hours=5)).isoformat()),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
