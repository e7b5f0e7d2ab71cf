"""The dispatch routes with a NUL character anywhere (path, query, form, JSON, the ack link's
own body) answer 4xx before any query: PostgreSQL refuses NUL in text, and an ack link, a
version's deliveries, an API ack or a heartbeat answered 500 (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.dispatch.messages import ack_token
from bolo.dispatch.model import Acknowledgement, Delivery, PostKey
from bolo.dispatch.outbox import enqueue_version
from bolo.posts.model import Post
from bolo.store.db import session_scope
from tests.dispatch.factories import make_alert, make_post, make_version


@pytest.fixture
def world(db_engine: Any) -> tuple[TestClient, dict[str, str], str, str]:
    with session_scope(db_engine) as s:
        make_post(s, "a")
        version = make_version(s, make_alert(s), 1, "Alert", ["a"])
        enqueue_version(s, version_id=version.id)
        delivery = s.scalars(select(Delivery)).one()
        key = s.get(PostKey, "a")
        assert key is not None
        user = create_user(s, username="coord", role=Role.COORDINATOR, actor=None)
        headers = {"Authorization": f"Bearer {issue_token(s, user_id=user.id, actor=None)}"}
        ids = delivery.id, ack_token(key.secret, delivery.id)
    client = TestClient(create_app(timers=False), raise_server_exceptions=False)
    return client, headers, *ids


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/dispatch/ack/a%00b?t=x"),
        ("GET", "/api/v1/dispatch/versions/a%00b/deliveries"),
        ("POST", "/api/v1/dispatch/versions/a%00b/posts/a/ack"),
        ("POST", "/api/v1/dispatch/posts/a%00b/heartbeat"),
        ("GET", "/api/v1/posts/a%00b"),
        ("GET", "/api/v1/cases/a%00b"),
        ("GET", "/alerts/a%00b.cap"),
        ("GET", "/api/v1/cases?state=open%00"),
    ],
)
def test_nul_in_a_path_or_query_is_422(
    world: tuple[TestClient, dict[str, str], str, str], method: str, path: str
) -> None:
    client, headers, _, _ = world
    answer = client.request(method, path, headers=headers, data={"by": "x"})
    assert answer.status_code == 422 and "NUL" in answer.text


def test_nul_in_a_json_string_is_422(
    world: tuple[TestClient, dict[str, str], str, str], db_engine: Any
) -> None:
    client, headers, delivery_id, token = world
    post = {"id": "p9", "kind": "checkpoint", "name": "Check\u0000point", "lat": 40.0, "lon": 127.0}
    answer = client.put("/api/v1/posts/p9", headers=headers, json=post)
    assert answer.status_code == 422 and "NUL" in answer.text
    ack = f"/api/v1/dispatch/ack/{delivery_id}"
    for body in ({"by": "Lt\u0000Ri"}, {"by": "Lt. Ri", "t": token + "\u0000"}):
        answer = client.post(ack, json=body)
        assert answer.status_code == 422 and "NUL" in answer.text
    assert client.post(ack, data={"by": "Lt\x00Ri", "t": token}).status_code == 422
    with session_scope(db_engine) as s:
        assert s.get(Post, "p9") is None and s.scalars(select(Acknowledgement)).all() == []
    assert client.post(ack, json={"by": "Lt. Ri", "t": token}).status_code == 200
