"""The generated access matrix: every route of ``create_app()`` x every role (plus anonymous,
revoked and post-scoped tokens), swapped ids (IDOR), and posts seeing only their own alerts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bolo.api import create_app
from bolo.auth.model import ApiToken, Role
from bolo.auth.scopes import post_token_routes
from bolo.auth.service import issue_token, revoke_token
from bolo.store.db import session_scope
from tests.security.access_spec import (
    API,
    PUBLIC,
    STATE_403,
    WEB_OPEN,
    WEB_PREFIXES,
    request_for,
)
from tests.security.factories import CHILD, SUSPECTS, World, build_world

SKIP_METHODS = {"HEAD", "OPTIONS"}


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app answers, included routers walked."""

    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            if hasattr(route, "effective_candidates"):
                yield from walk(route.effective_candidates())
            else:
                yield route

    found = {
        (m, r.path)
        for r in walk(list(app.routes))
        for m in (getattr(r, "methods", None) or set())
        if m not in SKIP_METHODS
    }
    return sorted(found)


@pytest.fixture()
def world(sqlite_engine: Engine) -> tuple[TestClient, World, dict[str, str]]:
    with session_scope(sqlite_engine) as db:
        w = build_world(db)
        spare_user = w.users["viewer"]
        spare = issue_token(db, user_id=spare_user.id, label="spare", actor=None)
        revoked = issue_token(db, user_id=w.users["admin"].id, label="revoked", actor=None)
        token_ids = {t.label: t.id for t in db.execute(select(ApiToken)).scalars()}
        revoke_token(db, token_id=token_ids["revoked"], actor=None)
        w.tokens["revoked"] = revoked
        del spare
    ids = {
        "case_id": w.case_id,
        "alert_id": w.alert_id,
        "version_id": w.version_id,
        "post_id": w.posts[0],
        "user_id": w.users["viewer"].id,
        "token_id": token_ids["spare"],
        "report_id": w.report_ids[0],
        "child_index": "0",
        "external_id": "no-such-external-alert",
    }
    return TestClient(create_app(timers=False)), w, ids


def _call(
    client: TestClient,
    method: str,
    path: str,
    ids: dict[str, str],
    token: str | None,
    seq: int,
    body_ids: dict[str, str] | None = None,
) -> int:
    url, params, body = request_for(method, path, ids, seq=seq)
    if body_ids is not None:
        _url, params, body = request_for(method, path, body_ids, seq=seq)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.request(
        method, url, params=params, json=body, headers=headers, follow_redirects=False
    )
    return response.status_code


def test_every_route_has_a_policy() -> None:
    unknown = [
        r
        for r in app_routes(create_app(timers=False))
        if r not in API and r not in PUBLIC and not r[1].startswith(WEB_PREFIXES)
    ]
    assert unknown == [], f"routes without an access rule in access_spec.py: {unknown}"


def test_matrix(world: tuple[TestClient, World, dict[str, str]]) -> None:
    client, w, ids = world
    seq = itertools.count()
    failures = []
    routes = [r for r in app_routes(create_app(timers=False)) if r in API]
    assert len(routes) >= 30
    for method, path in routes:
        allowed = API[(method, path)]
        for caller in (None, "revoked"):
            status = _call(
                client, method, path, ids, w.tokens[caller] if caller else None, next(seq)
            )
            if status != 401:
                failures.append(f"{method} {path} as {caller or 'anonymous'}: {status} != 401")
        # Refusals first, so that the allowed calls' side effects cannot mask a refusal.
        for role in sorted(Role, key=lambda r: r in allowed):
            status = _call(client, method, path, ids, w.tokens[role.value], next(seq))
            state_refusal = status == 403 and (method, path) in STATE_403
            if role in allowed and ((status in (401, 403) and not state_refusal) or status >= 500):
                failures.append(f"{method} {path} as {role}: {status}, expected access")
            if role not in allowed and status != 403:
                failures.append(f"{method} {path} as {role}: {status}, expected 403")
    assert failures == [], "\n".join(failures)


def test_post_tokens_are_default_deny(world: tuple[TestClient, World, dict[str, str]]) -> None:
    client, w, ids = world
    failures = []
    open_routes = post_token_routes()
    for n, (method, path) in enumerate(r for r in app_routes(create_app(timers=False)) if r in API):
        status = _call(client, method, path, ids, w.tokens["post_token"], n)
        may = (method, path) in open_routes and Role.POST_OFFICER in API[(method, path)]
        if may and status in (401, 403):
            failures.append(f"{method} {path}: {status}, a post token should pass")
        if not may and status != 403:
            failures.append(f"{method} {path}: {status}, a post token must get 403")
    assert failures == [], "\n".join(failures)


def test_web_pages_need_a_session(world: tuple[TestClient, World, dict[str, str]]) -> None:
    client, _w, ids = world
    web = [
        r
        for r in app_routes(create_app(timers=False))
        if r[1].startswith(WEB_PREFIXES) and r not in WEB_OPEN
    ]
    for n, (method, path) in enumerate(web):
        url = path.replace("{path:path}", "x")
        status = _call(client, method, url, {**ids, "version_id": ids["version_id"]}, None, n)
        assert not 200 <= status < 300, f"{method} {path} answered {status} without a login"


SWAPS = ("case_id", "alert_id", "version_id", "post_id", "user_id", "token_id", "report_id")


def test_swapped_ids_never_succeed(world: tuple[TestClient, World, dict[str, str]]) -> None:
    """IDOR: each id parameter given an id of another kind of object, with the all-powerful
    admin token, never reaches a different object (no 2xx)."""
    client, w, ids = world
    failures = []
    seq = itertools.count()
    for method, path in (r for r in app_routes(create_app(timers=False)) if r in API):
        for param in (p for p in SWAPS if "{" + p + "}" in path):
            for other in (p for p in SWAPS if p != param):
                swapped = {**ids, param: ids[other]}
                # Only the path is swapped: the body still names the real objects.
                status = _call(
                    client, method, path, swapped, w.tokens["admin"], next(seq), body_ids=ids
                )
                if 200 <= status < 300:
                    failures.append(f"{method} {path} with {param}={other}: {status}")
    assert failures == [], "\n".join(failures)


def test_post_officers_act_only_for_their_post(
    world: tuple[TestClient, World, dict[str, str]],
) -> None:
    client, w, ids = world
    mine, other = w.posts
    for token in (w.tokens["post_officer"], w.tokens["post_token"]):
        auth = {"Authorization": f"Bearer {token}"}
        own = client.get(f"/api/v1/posts/{mine}/alerts", headers=auth)
        assert own.status_code == 200 and [a["alert_id"] for a in own.json()] == [w.alert_id]
        assert client.get(f"/api/v1/posts/{other}/alerts", headers=auth).status_code == 403
        _url, _q, body = request_for(
            "POST", "/api/v1/reports/sightings", {**ids, "post_id": other}, seq=900
        )
        refused = client.post("/api/v1/reports/sightings", json=body, headers=auth)
        assert refused.status_code == 403
    # Officer B sees nothing: the alert was addressed to post A only.
    auth_b = {"Authorization": f"Bearer {w.tokens['officer_b']}"}
    assert client.get(f"/api/v1/posts/{other}/alerts", headers=auth_b).json() == []


def test_personal_fields_gated_by_role(world: tuple[TestClient, World, dict[str, str]]) -> None:
    client, w, ids = world
    names = (CHILD, *SUSPECTS)
    for role in Role:
        response = client.get(
            f"/api/v1/cases/{ids['case_id']}",
            headers={"Authorization": f"Bearer {w.tokens[role.value]}"},
        )
        if response.status_code != 200:
            continue
        shown = any(n in response.text for n in names)
        assert shown == (role != Role.VIEWER), f"{role}: personal fields shown={shown}"
        assert response.headers["cache-control"] == "no-store"
