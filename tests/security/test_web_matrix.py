"""The web pages x every role, with real cookie sessions and CSRF tokens: default deny."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.sessions import COOKIE_NAME, CSRF_HEADER, create_session, csrf_token_for
from bolo.store.db import session_scope
from tests.security.access_spec import STREAMS, WEB, WEB_OPEN, WEB_PREFIXES
from tests.security.factories import World, build_world
from tests.security.test_access_matrix import app_routes

# The form a browser would send where an empty one is not handled yet (reported to the web
# owner: an empty triage form answers 500).
FORMS = {("POST", "/console/triage/{report_id}"): {"state": "credible", "reason": "checked"}}


@pytest.fixture()
def web_world(sqlite_engine: Engine) -> tuple[World, dict[str, str], dict[str, str]]:
    with session_scope(sqlite_engine) as db:
        w = build_world(db)
        sessions = {role.value: create_session(db, user_id=w.users[role.value].id) for role in Role}
    ids = {
        "case_id": w.case_id,
        "alert_id": w.alert_id,
        "report_id": w.report_ids[0],
        "user_id": w.users["second_coordinator"].id,
        "post_id": w.posts[0],
        "external_id": "no-such-external-alert",
    }
    return w, ids, sessions


def test_every_web_page_has_a_rule() -> None:
    pages = [
        r
        for r in app_routes(create_app(timers=False))
        if r[1].startswith(WEB_PREFIXES) and r not in WEB_OPEN
    ]
    assert [r for r in pages if r not in WEB] == []


def test_web_matrix(web_world: tuple[World, dict[str, str], dict[str, str]]) -> None:
    _w, ids, sessions = web_world
    failures = []
    app = create_app(timers=False)
    client = TestClient(app)
    # Logging out ends the session the other pages are tried with: it goes last.
    pages = sorted((r for r in app_routes(app) if r in WEB), key=lambda r: r[1] == "/logout")
    for method, path in pages:
        url = path.format(**{k: v for k, v in ids.items() if "{" + k + "}" in path})
        allowed = WEB[(method, path)]
        # Refusals first: an allowed action (a cancel) must not change what a refusal sees.
        for role in sorted(Role, key=lambda r: r in allowed):
            if (method, path) in STREAMS:
                continue  # an open event stream never ends in a test client (see the docs)
            sid = sessions[role.value]
            response = client.request(
                method,
                url,
                follow_redirects=False,
                data=FORMS.get((method, path)),
                headers={CSRF_HEADER: csrf_token_for(sid), "Cookie": f"{COOKIE_NAME}={sid}"},
            )
            status = response.status_code
            if role in allowed and (status in (401, 403) or status >= 500):
                failures.append(f"{method} {path} as {role}: {status}, expected access")
            if role not in allowed and status != 403:
                failures.append(f"{method} {path} as {role}: {status}, expected 403")
    assert failures == [], "\n".join(failures)


def test_forms_need_the_csrf_token(web_world: tuple[World, dict[str, str], dict[str, str]]) -> None:
    _w, ids, sessions = web_world
    sid = sessions["admin"]
    client = TestClient(create_app(timers=False), cookies={COOKIE_NAME: sid})
    for _method, path in (r for r in WEB if r[0] == "POST"):
        url = path.format(**{k: v for k, v in ids.items() if "{" + k + "}" in path})
        assert client.post(url, follow_redirects=False).status_code == 403, path
        wrong = client.post(
            url, headers={CSRF_HEADER: csrf_token_for("another")}, follow_redirects=False
        )
        assert wrong.status_code == 403, path
        foreign = client.post(
            url,
            headers={CSRF_HEADER: csrf_token_for(sid), "Origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert foreign.status_code == 403, path
