"""The admins' users page and everyone's account page (one-time codes with a QR code)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bolo.api import create_app
from bolo.auth.model import ApiToken, Role, User
from bolo.auth.service import create_user
from bolo.auth.sessions import COOKIE_NAME, CSRF_HEADER, create_session, csrf_token_for
from bolo.auth.totp import code_at
from bolo.store.db import session_scope

PASSWORD = "a long enough pass phrase"
HTML = {"Accept": "text/html"}


def _signed_in(sid: str) -> TestClient:
    return TestClient(
        create_app(timers=False),
        cookies={COOKIE_NAME: sid},
        headers={**HTML, CSRF_HEADER: csrf_token_for(sid)},
    )


def _login(client: TestClient, username: str, password: str, code: str = "") -> int:
    return client.post(
        "/login",
        data={"username": username, "password": password, "code": code},
        follow_redirects=False,
    ).status_code


def test_admin_adds_resets_issues_and_disables(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        admin = create_user(db, username="root", role=Role.ADMIN, actor=None)
        sid = create_session(db, user_id=admin.id)
    client = _signed_in(sid)
    assert "root" in client.get("/console/users").text
    added = client.post(
        "/console/users",
        data={"username": "ana", "role": "approver", "password": PASSWORD, "token": "1"},
    )
    assert added.status_code == 200, added.text
    token = re.search(r'<code id="new-token">(bolo_[^<]+)</code>', added.text)
    assert token is not None
    with session_scope(sqlite_engine) as db:
        ana = db.execute(select(User).where(User.username == "ana")).scalar_one()
        assert ana.created_by == admin.id and ana.password_set_by == admin.id
        assert db.execute(select(ApiToken)).scalar_one().issued_by == admin.id
    bad = client.post("/console/users", data={"username": "x y", "role": "viewer"})
    assert bad.status_code == 422 and "username" in bad.text
    # ana signs in with the password the admin gave, then the admin resets and disables.
    browser = TestClient(create_app(timers=False), headers=HTML)
    assert _login(browser, "ana", PASSWORD) == 303
    assert browser.get("/console", follow_redirects=False).status_code == 200
    reset = client.post(f"/console/users/{ana.id}/password", data={"password": PASSWORD + "2"})
    assert reset.status_code == 200 and "sessions ended" in reset.text
    assert browser.get("/console", follow_redirects=False).status_code == 303
    assert _login(browser, "ana", PASSWORD + "2") == 303
    assert client.post(f"/console/users/{ana.id}/disable").status_code == 200
    assert browser.get("/console", follow_redirects=False).status_code == 303
    api = TestClient(create_app(timers=False))
    assert (
        api.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code
        == 401
    )
    assert client.post(f"/console/users/{admin.id}/disable").status_code == 409


def test_one_time_codes_enrolled_from_the_account_page(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="pak", role=Role.APPROVER, password=PASSWORD, actor=None)
        sid = create_session(db, user_id=user.id)
    client = _signed_in(sid)
    form = client.get("/account/totp")
    assert form.status_code == 200 and "<svg" in form.text and "<script" not in form.text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', form.text)
    assert secret is not None
    wrong = client.post(
        "/account/totp", data={"secret": secret.group(1), "code": "000000", "password": PASSWORD}
    )
    assert wrong.status_code == 422
    for damaged in ("é" * 20, "01890189018901890189", "short"):
        answer = client.post(
            "/account/totp", data={"secret": damaged, "code": "123456", "password": PASSWORD}
        )
        assert answer.status_code == 422 and "damaged" in answer.text
    stranger = client.post(
        "/account/totp",
        data={
            "secret": secret.group(1),
            "code": code_at(secret.group(1)),
            "password": "not my password",
        },
    )
    assert stranger.status_code == 422
    # The very code typed at enrolment is reused below: recomputing it could land in the next
    # 30-second step on a slow run and give a fresh, unspent code.
    enrolment_code = code_at(secret.group(1))
    done = client.post(
        "/account/totp",
        data={"secret": secret.group(1), "code": enrolment_code, "password": PASSWORD},
    )
    assert done.status_code == 200 and "One-time codes are on" in done.text
    browser = TestClient(create_app(timers=False), headers=HTML)
    assert _login(browser, "pak", PASSWORD) == 401
    # The code typed at enrolment is spent; the next one works.
    assert _login(browser, "pak", PASSWORD, enrolment_code) == 401
    assert _login(browser, "pak", PASSWORD, code_at(secret.group(1), step_offset=1)) == 303
