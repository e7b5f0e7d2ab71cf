"""A NUL character in a URL, a form or a JSON text is refused clearly everywhere (422, which the
API fuzz test counts as a refusal of schema-valid input); it was a 500 from PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.auth.sessions import COOKIE_NAME, CSRF_HEADER, create_session, csrf_token_for
from bolo.store.db import session_scope


def test_nul_in_a_path_or_query_is_422(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        token = issue_token(
            db, user_id=create_user(db, username="root", role=Role.ADMIN, actor=None).id, actor=None
        )
    client = TestClient(create_app(timers=False), raise_server_exceptions=False)
    bearer = {"Authorization": f"Bearer {token}"}
    for path in (
        "/alerts/a%00b",
        "/alerts/a%00b.cap",
        "/api/v1/cases/a%00b",
        "/api/v1/posts/a%00b",
        "/alerts?lang=%00",
        "/console/cases/a%00b",
    ):
        answer = client.get(path, headers=bearer)
        assert answer.status_code == 422 and "NUL" in answer.json()["detail"], path
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert client.get("/alerts/no-such-alert", headers=bearer).status_code == 404


def test_nul_in_a_json_text_is_422(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        token = issue_token(
            db, user_id=create_user(db, username="root", role=Role.ADMIN, actor=None).id, actor=None
        )
    client = TestClient(create_app(timers=False), raise_server_exceptions=False)
    bearer = {"Authorization": f"Bearer {token}"}
    post = {"id": "gate-1", "kind": "police", "name": "Gate\u00001", "lat": 42.5, "lon": 1.5}
    answer = client.put("/api/v1/posts/gate-1", json=post, headers=bearer)
    assert answer.status_code == 422 and "NUL" in answer.text, answer.text
    answer = client.post(
        "/api/v1/users", json={"username": "x", "role": "viewer", "\u0000": 1}, headers=bearer
    )
    assert answer.status_code == 422
    post["name"] = "Gate \\u0000 written out"  # the six characters, not a NUL: fine
    assert client.put("/api/v1/posts/gate-1", json=post, headers=bearer).status_code == 200


def test_nul_in_a_form_is_422(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        user = create_user(db, username="coord", role=Role.COORDINATOR, actor=None)
        sid = create_session(db, user_id=user.id)
    client = TestClient(
        create_app(timers=False),
        raise_server_exceptions=False,
        cookies={COOKIE_NAME: sid},
        headers={CSRF_HEADER: csrf_token_for(sid), "Accept": "text/html"},
    )
    answer = client.post(
        "/console/cases",
        data={
            "child_name": "a\x00b",
            "lat": "39.2",
            "lon": "126.2",
            "time_earliest": "",
            "time_latest": "",
        },
    )
    assert answer.status_code == 422 and "NUL" in answer.text
