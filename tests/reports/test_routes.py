"""Authenticated report routes: post reports, triage, queue, evidence, geocoding, webhook reply."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.clock import now
from bolo.dispatch.keys import set_post_secret
from bolo.dispatch.signing import key_from_string, new_secret, sign_headers
from bolo.reports import service
from bolo.reports.intake import TipIn
from bolo.reports.worker import cluster_all
from bolo.store.db import session_scope
from tests.reports.factories import KILJU, coordinator, post, songchon_case


def _setup() -> dict[str, Any]:
    with session_scope() as s:
        coord = coordinator(s)
        case = songchon_case(s, coord, hours_ago=20)
        guard = post(s, "kilju-guard", *KILJU)
        officer = create_user(
            s, username="officer", role=Role.POST_OFFICER, post_id=guard, actor=None
        )
        secret = new_secret()
        set_post_secret(s, post_id=guard, secret=secret)
        return {
            "case": case.id,
            "post": guard,
            "secret": secret,
            "coord": {"Authorization": f"Bearer {issue_token(s, user_id=coord.id, actor=None)}"},
            "officer": {
                "Authorization": f"Bearer {issue_token(s, user_id=officer.id, actor=None)}"
            },
        }


def test_post_reports_triage_and_evidence_over_http(client: TestClient) -> None:
    ids = _setup()
    start = now() - timedelta(hours=6)
    search = {
        "case_id": ids["case"],
        "post_id": ids["post"],
        "from": start.isoformat(),
        "to": (start + timedelta(hours=4)).isoformat(),
        "searched": "all passengers travelling with children",
        "result": "nothing_found",
    }
    assert client.post("/api/v1/reports/searches", json=search).status_code == 401
    r = client.post(
        "/api/v1/reports/searches", json={**search, "result": "maybe"}, headers=ids["officer"]
    )
    assert r.status_code == 422 and "result" in r.text  # unknown enum
    r = client.post(
        "/api/v1/reports/searches", json={**search, "post_id": "elsewhere"}, headers=ids["officer"]
    )
    assert r.status_code == 403  # not the officer's post
    r = client.post("/api/v1/reports/searches", json=search, headers=ids["officer"])
    assert r.status_code == 201 and r.json()["state"] == "credible"
    tip = client.post(
        "/api/v1/public/tips",
        json={
            "case_id": ids["case"],
            "what": "couple with a boy in an army truck",
            "place": "Kimchaek",
            "seen_at": (now() - timedelta(hours=2)).isoformat(),
        },
    ).json()
    queue = client.get(f"/api/v1/reports/queue?case_id={ids['case']}", headers=ids["coord"])
    assert [e["report"]["receipt"] for e in queue.json()] == [tip["receipt"]]
    r = client.post(
        f"/api/v1/reports/{tip['receipt']}/triage",
        json={"state": "approved", "reason": "x"},
        headers=ids["coord"],
    )
    assert r.status_code == 422  # unknown enum
    r = client.post(
        f"/api/v1/reports/{tip['id']}/triage",
        json={"state": "credible", "reason": "fits the corridor"},
        headers=ids["officer"],
    )
    assert r.status_code == 403  # officers do not triage
    r = client.post(
        f"/api/v1/reports/{tip['id']}/triage",
        json={"state": "credible", "reason": "fits the corridor"},
        headers=ids["coord"],
    )
    assert r.status_code == 200 and r.json()["decided_by"] is not None
    evidence = client.get(
        f"/api/v1/reports/evidence?case_id={ids['case']}", headers=ids["coord"]
    ).json()
    assert [e["kind"] for e in evidence] == ["search", "sighting"]


def test_signed_webhook_reply_and_geocoding(client: TestClient) -> None:
    ids = _setup()
    body = json.dumps(
        {
            "kind": "sighting",
            "case_id": ids["case"],
            "seen_at": now().isoformat(),
            "intercepted": True,
            "text": "couple with the boy stopped at the guard post",
        }
    ).encode()
    headers = sign_headers(
        msg_id="msg_1",
        timestamp=int(now().timestamp()),
        body=body,
        keys=[key_from_string(ids["secret"])],
    )
    url = f"/api/v1/reports/webhook-reply/{ids['post']}"
    forged = {**headers, "webhook-signature": "v1,AAAA"}
    assert client.post(url, content=body, headers=forged).status_code == 401
    r = client.post(url, content=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["intercepted"] is True and r.json()["via"] == "webhook"
    assert client.post(url, content=body, headers=headers).status_code == 409  # duplicate
    bad = json.dumps({"kind": "gossip"}).encode()
    bad_headers = sign_headers(
        msg_id="msg_2",
        timestamp=int(now().timestamp()),
        body=bad,
        keys=[key_from_string(ids["secret"])],
    )
    assert client.post(url, content=bad, headers=bad_headers).status_code == 422
    _geocode_routes(client, ids)


def _geocode_routes(client: TestClient, ids: dict[str, Any]) -> None:
    r = client.get("/api/v1/geocode", params={"q": "Gilju"}, headers=ids["coord"])
    assert r.status_code == 200 and r.json()["name"].startswith("Kilju")
    assert (
        client.get("/api/v1/geocode", params={"q": "Atlantis"}, headers=ids["coord"]).status_code
        == 404
    )
    r = client.get(
        "/api/v1/geocode/reverse", params={"lat": 40.99, "lon": 129.36}, headers=ids["officer"]
    )
    assert r.status_code == 200 and "NE of Kilju" in r.json()["description"]
    assert (
        client.get(
            "/api/v1/geocode/reverse", params={"lat": 99, "lon": 1}, headers=ids["coord"]
        ).status_code
        == 422
    )


def test_queue_pages_follow_the_link_header_and_the_older_after(client: TestClient) -> None:
    ids = _setup()
    with session_scope() as s:
        for i in range(7):
            service.submit_tip(
                s,
                tip=TipIn(
                    case_id=ids["case"],
                    what=f"tip number {i}: {'a boy in a grey truck ' * (i % 3)}",
                    lat=KILJU[0] + 0.2 * i,
                    lon=KILJU[1],
                    seen_at=now() - timedelta(hours=1, minutes=i),
                ),
            )
    cluster_all()
    whole = client.get(f"/api/v1/reports/queue?case_id={ids['case']}", headers=ids["coord"])
    expected = [e["report"]["id"] for e in whole.json()]
    assert len(expected) == 7 and "link" not in whole.headers
    # Through the shared cursor paging: follow Link until there is none.
    seen: list[str] = []
    url: str | None = f"/api/v1/reports/queue?case_id={ids['case']}&limit=3"
    while url is not None:
        answer = client.get(url, headers=ids["coord"])
        assert answer.status_code == 200
        seen += [e["report"]["id"] for e in answer.json()]
        link = answer.headers.get("link")
        url = link.split(">")[0].lstrip("<") if link else None
        if url is not None:
            assert f"case_id={ids['case']}" in url and "limit=3" in url
    assert seen == expected
    # The older ?after= with X-Next-After reads the same pages.
    first = client.get(f"/api/v1/reports/queue?case_id={ids['case']}&limit=4", headers=ids["coord"])
    rest = client.get(
        f"/api/v1/reports/queue?case_id={ids['case']}&limit=4"
        f"&after={first.headers['x-next-after']}",
        headers=ids["coord"],
    )
    assert [e["report"]["id"] for e in first.json() + rest.json()] == expected
    # Another list's cursor is not a queue position.
    other = client.get("/api/v1/reports?limit=1", headers=ids["coord"]).headers["link"]
    foreign = other.split("cursor=")[1].split(">")[0]
    refused = client.get(
        f"/api/v1/reports/queue?case_id={ids['case']}&cursor={foreign}", headers=ids["coord"]
    )
    assert refused.status_code == 422
