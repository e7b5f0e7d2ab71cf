"""Cursor paging of the API's lists: ?limit= and an opaque cursor in `Link: <...>; rel="next"`,
keyset on the list's order, so rows stored between pages skip or repeat nothing."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.clock import FakeClock, use_clock
from bolo.dispatch.model import Delivery
from bolo.posts.model import Post
from bolo.store.db import session_scope

T0 = datetime(2026, 4, 1, 5, 0, tzinfo=UTC)


@pytest.fixture()
def client(db_engine: Engine) -> TestClient:
    with session_scope(db_engine) as db:
        user = create_user(db, username="ri", role=Role.COORDINATOR, actor=None)
        token = issue_token(db, user_id=user.id, actor=None)
    return TestClient(create_app(timers=False), headers={"Authorization": f"Bearer {token}"})


def _next(answer: httpx.Response) -> str | None:
    link = answer.headers.get("link")
    if link is None:
        return None
    match = re.fullmatch(r'<(/[^>]+)>; rel="next"', link)
    assert match, link
    return match.group(1)


def _case(client: TestClient, reported: datetime) -> str:
    seen = reported - timedelta(hours=2)
    body = {
        "children": [{"name": "A Child", "age": 7}],
        "reported_at": reported.isoformat(),
        "last_known": {
            "place": "Songchon",
            "lat": 39.2,
            "lon": 126.2,
            "time_earliest": (seen - timedelta(hours=1)).isoformat(),
            "time_latest": seen.isoformat(),
        },
    }
    answer = client.post("/api/v1/cases", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _add_posts(engine: Engine, ids: list[str]) -> None:
    with session_scope(engine) as db:
        for post_id in ids:
            db.add(Post(id=post_id, kind="police", name=post_id, lat=39.0, lon=125.7))


def test_pages_of_cases_skip_and_repeat_nothing_while_cases_arrive(client: TestClient) -> None:
    with use_clock(FakeClock(T0)):
        # three reported at the same instant: the id orders them
        old = [_case(client, T0 - timedelta(hours=h)) for h in (1, 2, 2, 2, 3)]
        first = client.get("/api/v1/cases?limit=2")
        assert first.status_code == 200 and isinstance(first.json(), list)
        seen = [c["id"] for c in first.json()]
        assert len(seen) == 2
        # a newer case and one reported at a tied instant arrive between pages
        _case(client, T0)
        _case(client, T0 - timedelta(hours=2))
        url = _next(first)
        while url:
            answer = client.get(url)
            assert answer.status_code == 200 and len(answer.json()) <= 2
            seen += [c["id"] for c in answer.json()]
            url = _next(answer)
    assert sorted(c for c in seen if c in old) == sorted(old)
    assert len(seen) == len(set(seen))
    every = client.get("/api/v1/cases").json()
    times = [(c["reported_at"], c["id"]) for c in every]
    assert times == sorted(times, reverse=True)


def test_pages_of_posts_follow_the_id_and_keep_filters(
    client: TestClient, db_engine: Engine
) -> None:
    _add_posts(db_engine, [f"post-{i:02d}" for i in range(0, 14, 2)])
    first = client.get("/api/v1/posts?limit=3")
    ids = [p["id"] for p in first.json()]
    assert ids == ["post-00", "post-02", "post-04"]
    assert "limit=3" in (_next(first) or "")
    _add_posts(db_engine, ["post-01", "post-05"])  # one before the cursor, one after it
    url, pages = _next(first), 1
    while url:
        answer = client.get(url)
        ids += [p["id"] for p in answer.json()]
        url, pages = _next(answer), pages + 1
    assert ids == [
        "post-00",
        "post-02",
        "post-04",
        "post-05",
        "post-06",
        "post-08",
        "post-10",
        "post-12",
    ]
    assert pages == 3


def test_the_last_page_has_no_link(client: TestClient, db_engine: Engine) -> None:
    _add_posts(db_engine, ["a-1", "a-2"])
    answer = client.get("/api/v1/posts?limit=2")
    assert len(answer.json()) == 2 and "link" not in answer.headers


def _forged(parts: Any) -> str:
    import json

    raw = json.dumps(parts).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%2F%2F",
        _forged([1, 2]),
        _forged({"t": "x"}),
        _forged([{"t": "x"}, "id"]),
        _forged([{"t": "2026-04-01T05:00:00"}, "id"]),  # no zone
        _forged([{"t": "2026-04-01T05:00:00+00:00"}, 7]),
        _forged(["x" * 300]),
    ],
)
def test_a_bad_cursor_is_422(client: TestClient, cursor: str) -> None:
    for path in ("/api/v1/cases", "/api/v1/alerts", "/api/v1/reports"):
        answer = client.get(f"{path}?cursor={cursor}")
        assert answer.status_code == 422, (path, cursor, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["location"] == ["query", "cursor"]


def test_a_cursor_of_one_list_is_refused_by_another(client: TestClient, db_engine: Engine) -> None:
    _add_posts(db_engine, ["b-1", "b-2"])
    url = _next(client.get("/api/v1/posts?limit=1")) or ""
    cursor = re.search(r"cursor=([^&]+)", url)
    assert cursor is not None
    assert client.get(f"/api/v1/cases?cursor={cursor.group(1)}").status_code == 422


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x"])
def test_the_limit_is_bounded(client: TestClient, limit: str) -> None:
    answer = client.get(f"/api/v1/posts?limit={limit}")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["location"] == ["query", "limit"]


def test_every_paged_list_walks_to_the_same_rows_as_one_page(sqlite_engine: Engine) -> None:
    from tests.security.factories import build_world

    with session_scope(sqlite_engine) as db:
        w = build_world(db)
        _add_posts_in(db, ["z-1", "z-2"])
        db.flush()
        # more deliveries of the version: the keyset (post, channel index) crosses posts
        for post_id, index in (("z-1", 0), ("z-1", 1), ("z-2", 0)):
            db.add(
                Delivery(
                    alert_id=w.alert_id,
                    version_id=w.version_id,
                    post_id=post_id,
                    channel_index=index,
                    channel_kind="webhook",
                    url="https://example.org/hook",
                )
            )
    client = TestClient(
        create_app(timers=False), headers={"Authorization": f"Bearer {w.tokens['admin']}"}
    )
    lists = [
        "/api/v1/cases",
        "/api/v1/alerts",
        "/api/v1/posts",
        "/api/v1/reports",
        f"/api/v1/posts/{w.posts[0]}/alerts",
        f"/api/v1/dispatch/versions/{w.version_id}/deliveries",
    ]
    counts: dict[str, int] = {}
    for path in lists:
        whole = client.get(f"{path}?limit=1000")
        assert whole.status_code == 200, (path, whole.text)
        assert "link" not in whole.headers and whole.json(), path
        walked: list[Any] = []
        url: str | None = f"{path}?limit=1"
        while url:
            answer = client.get(url)
            assert answer.status_code == 200 and len(answer.json()) == 1, (url, answer.text)
            walked += answer.json()
            url = _next(answer)
        assert walked == whole.json(), path
        counts[path] = len(walked)
    # the lists with more than one row were walked through cursors
    assert counts["/api/v1/posts"] >= 4 and counts["/api/v1/reports"] >= 2, counts
    assert counts[lists[-1]] >= 4, counts


def _add_posts_in(db: Any, ids: list[str]) -> None:
    for post_id in ids:
        db.add(Post(id=post_id, kind="police", name=post_id, lat=39.0, lon=125.7))
