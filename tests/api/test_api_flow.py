"""The REST API: the whole lifecycle over HTTP, and clear 4xx answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.store.db import session_scope
from tests.alerts.factories import content, some_posts


@pytest.fixture()
def client(db_engine: Engine) -> TestClient:
    return TestClient(create_app(timers=False))


def _tokens(engine: Engine) -> dict[str, dict[str, str]]:
    out = {}
    with session_scope(engine) as db:
        for name, role in (
            ("ri", Role.COORDINATOR),
            ("pak", Role.APPROVER),
            ("viewer", Role.VIEWER),
        ):
            user = create_user(db, username=name, role=role, actor=None)
            out[name] = {"Authorization": f"Bearer {issue_token(db, user_id=user.id, actor=None)}"}
        some_posts(db)
    return out


def _case_body() -> dict[str, Any]:
    seen = datetime.now(UTC) - timedelta(hours=2)
    return {
        "children": [{"name": "A Child", "age": 7, "description": "green coat"}],
        "vehicles": [{"description": "white van"}],
        "last_known": {
            "place": "Songchon",
            "lat": 39.2,
            "lon": 126.2,
            "time_earliest": (seen - timedelta(hours=1)).isoformat(),
            "time_latest": seen.isoformat(),
        },
        "hints": [{"kind": "heading", "bearing_deg": 0, "weight": 0.7}],
    }


def test_lifecycle_over_http(client: TestClient, db_engine: Engine) -> None:
    h = _tokens(db_engine)
    case = client.post("/api/v1/cases", json=_case_body(), headers=h["ri"])
    assert case.status_code == 201, case.text
    body = {**content(["checkpoint-0", "checkpoint-1"]).model_dump(), "cap_status": "Actual"}
    v = client.post(f"/api/v1/cases/{case.json()['id']}/alerts", json=body, headers=h["ri"])
    assert v.status_code == 201, v.text
    vid, sha = v.json()["id"], v.json()["sha256"]
    assert (
        client.post(
            f"/api/v1/alert-versions/{vid}/submit",
            headers=h["ri"],
            json={"abduction_believed": True, "risk_of_harm": True},
        ).status_code
        == 200
    )
    own = client.post(
        f"/api/v1/alert-versions/{vid}/approve", json={"sha256": sha}, headers=h["ri"]
    )
    assert own.status_code == 403 and "second person" in own.json()["detail"]
    cap = client.get(f"/api/v1/alert-versions/{vid}/cap", headers=h["pak"])
    assert cap.headers["x-content-sha256"] == sha
    ok = client.post(
        f"/api/v1/alert-versions/{vid}/approve", json={"sha256": sha}, headers=h["pak"]
    )
    assert ok.status_code == 200 and ok.json()["state"] == "issued"
    alert_id = v.json()["alert_id"]
    public = client.get(f"/alerts/{alert_id}.cap")
    assert public.status_code == 200 and public.headers["content-type"].startswith(
        "application/cap+xml"
    )
    feed = client.get("/feed/cap.atom")
    assert feed.status_code == 200 and f"/alerts/{alert_id}.cap" in feed.text
    cancel = client.post(
        f"/api/v1/alerts/{alert_id}/cancel", json={"reason": "Found safe"}, headers=h["ri"]
    )
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled"
    assert "<msgType>Cancel</msgType>" in client.get(f"/alerts/{alert_id}.cap").text
    # The feed keeps the cancelled alert, now by its Cancel, for a day: an aggregator or a
    # subscribing bolo that polls after the cancel must see the Cancel to take the alert down.
    feed = client.get("/feed/cap.atom")
    assert f"/alerts/{alert_id}.cap" in feed.text and "Cancelled: " in feed.text
    again = client.post(f"/api/v1/alerts/{alert_id}/cancel", json={"reason": "x"}, headers=h["ri"])
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_bad_input_gets_a_clear_4xx(client: TestClient, db_engine: Engine) -> None:
    h = _tokens(db_engine)
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
    body = _case_body()
    body["last_known"]["lat"] = 123
    bad = client.post("/api/v1/cases", json=body, headers=h["ri"])
    assert bad.status_code == 422 and "lat" in bad.text
    extra = {**_case_body(), "shoe_size": 3}
    assert client.post("/api/v1/cases", json=extra, headers=h["ri"]).status_code == 422
    viewer = client.post("/api/v1/cases", json=_case_body(), headers=h["viewer"])
    assert viewer.status_code == 403
    assert client.get("/api/v1/cases/nope", headers=h["ri"]).status_code == 404
    assert client.get("/alerts/nope.cap").status_code == 404
