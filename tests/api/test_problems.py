"""Every API error is an RFC 9457 problem (application/problem+json with type, title, status
and detail); validation problems list each field's location and message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.store.db import session_scope

PROBLEM = "application/problem+json"


@pytest.fixture()
def client(sqlite_engine: Engine) -> TestClient:
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="ri", role=Role.COORDINATOR, actor=None)
        token = issue_token(db, user_id=user.id, actor=None)
    return TestClient(create_app(timers=False), headers={"Authorization": f"Bearer {token}"})


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The answer's problem document, checked for the members every problem has."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_a_refusal_of_the_service_keeps_its_message_as_detail(client: TestClient) -> None:
    body = _problem(client.get("/api/v1/cases/no-such-case"), 404)
    assert body["type"] == "about:blank" and body["title"] == "Not Found"
    assert "no-such-case" in body["detail"]


def test_missing_credentials(client: TestClient) -> None:
    body = _problem(client.get("/api/v1/cases", headers={"Authorization": ""}), 401)
    assert "Bearer" in body["detail"]


def test_unknown_route_and_method(client: TestClient) -> None:
    assert _problem(client.get("/api/v1/no/such/thing"), 404)["detail"] == "Not Found"
    answer = client.patch("/healthz")
    assert _problem(answer, 405)["title"] == "Method Not Allowed"
    assert answer.headers["allow"] == "GET"


def test_validation_names_each_field(client: TestClient) -> None:
    body = _problem(client.post("/api/v1/cases", json={"network": 5, "surprise": 1}), 422)
    assert body["type"] != "about:blank"
    where = {tuple(e["location"]): e for e in body["errors"]}
    assert ("body", "surprise") in where and ("body", "network") in where
    assert where[("body", "surprise")]["pointer"] == "#/surprise"
    assert all(e["message"] and e["type"] for e in body["errors"])
    # detail names the fields too, for a person reading it
    assert "surprise" in body["detail"] and "network" in body["detail"]


def test_a_query_parameter_has_no_pointer(client: TestClient) -> None:
    body = _problem(client.post("/api/v1/public/tips?debug=1", json={}), 422)
    query = [e for e in body["errors"] if e["location"][0] == "query"]
    assert query == [
        {"location": ["query", "debug"], "message": query[0]["message"], "type": query[0]["type"]}
    ]


def test_a_refused_tip_keeps_its_problems_list(client: TestClient) -> None:
    body = _problem(client.post("/api/v1/public/tips", json={"what": "x"}), 422)
    assert body["detail"] == "the tip is not valid"
    assert body["problems"] and all(p["field"] and p["problem"] for p in body["problems"])
    assert all(e["location"][0] == "body" for e in body["errors"])


def test_body_too_large_and_nul_answered_by_the_middleware(client: TestClient) -> None:
    big = client.post(
        "/api/v1/cases",
        content=b"x" * (2 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert "larger than" in _problem(big, 413)["detail"]
    assert "NUL" in _problem(client.get("/api/v1/cases/a%00b"), 422)["detail"]


def test_too_many_tips(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from bolo.reports.public import reset_public_state

    monkeypatch.setenv("BOLO_TIPS_PER_CLIENT_BURST", "1")
    monkeypatch.setenv("BOLO_TIPS_PER_CLIENT_PER_MINUTE", "1")
    reset_public_state()
    try:
        client.post("/api/v1/public/tips", json={})
        answer = client.post("/api/v1/public/tips", json={})
        assert "try again" in _problem(answer, 429)["detail"]
        assert int(answer.headers["retry-after"]) >= 1
    finally:
        reset_public_state()


def test_pages_keep_their_html_errors(client: TestClient) -> None:
    answer = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


def test_the_schema_documents_problems(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/cases"]["post"]
    for code in ("404", "422", "429"):
        assert list(operation["responses"][code]["content"]) == [PROBLEM]
