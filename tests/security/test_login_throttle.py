"""Sign-in limits: per client, atomic under concurrency, no lockout by strangers, one-time codes
used once even by concurrent requests, no sign-in from another site, bounded password checks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.login import LOGIN_SLOTS, TooManyAttempts, check_reauth, client_key, login_slot
from bolo.auth.model import Role
from bolo.auth.service import authenticate, create_user, enroll_totp, issue_token
from bolo.auth.totp import code_at
from bolo.clock import FakeClock, use_clock
from bolo.errors import Unauthorized
from bolo.store.db import session_scope

PASSWORD = "correct horse battery"


def _attempt(
    engine: Engine, username: str, password: str, client: str, code: str | None = None
) -> str:
    try:
        with session_scope(engine) as db:
            authenticate(db, username=username, password=password, client=client, totp_code=code)
    except TooManyAttempts:
        return "429"
    except Unauthorized:
        return "401"
    return "ok"


def test_strangers_cannot_lock_an_account(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        user = create_user(db, username="ana", role=Role.APPROVER, password=PASSWORD, actor=None)
    # Fifty wrong passwords from ten addresses.
    for i in range(50):
        _attempt(db_engine, "ana", "wrong password!", f"203.0.113.{i % 10}")
    assert _attempt(db_engine, "ana", PASSWORD, "198.51.100.7") == "ok"
    # The signed-in user's step-up (before an approval) is not theirs to block either.
    with session_scope(db_engine) as db:
        check_reauth(db, user=user, password=PASSWORD)


def test_one_client_waits_longer_and_longer_then_stops(sqlite_engine: Engine) -> None:
    clock = FakeClock(datetime(2026, 5, 1, 12, tzinfo=UTC))
    with use_clock(clock):
        with session_scope(sqlite_engine) as db:
            create_user(db, username="ana", role=Role.COORDINATOR, password=PASSWORD, actor=None)
        results = []
        for _ in range(12):
            results.append(_attempt(sqlite_engine, "ana", "wrong password!", "203.0.113.5"))
            if results[-1] == "429":
                clock.advance(seconds=61)
                results.append(_attempt(sqlite_engine, "ana", "wrong password!", "203.0.113.5"))
        assert results[:3] == ["401"] * 3 and results[3] == "429"
        assert results.count("401") == 10  # then the window's limit
        assert _attempt(sqlite_engine, "ana", PASSWORD, "203.0.113.5") == "429"
        clock.advance(minutes=16)
        assert _attempt(sqlite_engine, "ana", PASSWORD, "203.0.113.5") == "ok"


def test_concurrent_failures_cannot_overtake_the_limit(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        create_user(db, username="ana", role=Role.COORDINATOR, password=PASSWORD, actor=None)
    # The clock stands still: on a loaded machine a thread could otherwise start after the first
    # wait (1 s) has passed and be checked rightly, which is not what this test is about.
    with use_clock(FakeClock(datetime.now(UTC))), ThreadPoolExecutor(max_workers=15) as pool:
        results = list(
            pool.map(
                lambda _: _attempt(db_engine, "ana", "wrong password!", "203.0.113.9"), range(15)
            )
        )
    # Three are checked before the first wait starts; every other one is refused unchecked.
    assert results.count("401") == 3 and results.count("429") == 12, results


def test_a_one_time_code_works_once_even_concurrently(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        user = create_user(db, username="appr", role=Role.APPROVER, password=PASSWORD, actor=None)
        secret = enroll_totp(db, user_id=user.id, actor=None)
    code = code_at(secret)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(
            pool.map(lambda i: _attempt(db_engine, "appr", PASSWORD, f"10.0.0.{i}", code), range(3))
        )
    assert sorted(results) == ["401", "401", "ok"], results


def test_ipv6_clients_are_counted_per_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"


def test_login_from_another_site_is_refused(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        create_user(db, username="ana", role=Role.COORDINATOR, password=PASSWORD, actor=None)
    client = TestClient(create_app(timers=False))
    form = {"username": "ana", "password": PASSWORD}
    foreign = client.post(
        "/login", data=form, headers={"Origin": "https://evil.example"}, follow_redirects=False
    )
    assert foreign.status_code == 403 and "bolo_session" not in foreign.cookies
    own = client.post(
        "/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert own.status_code == 303 and own.cookies.get("bolo_session")


def test_a_flood_of_logins_gets_429_not_a_queue(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        create_user(db, username="ana", role=Role.COORDINATOR, password=PASSWORD, actor=None)
    client = TestClient(create_app(timers=False))
    held = [login_slot() for _ in range(LOGIN_SLOTS)]
    for slot in held:
        slot.__enter__()
    try:
        busy = client.post("/login", data={"username": "ana", "password": PASSWORD})
        assert busy.status_code == 429 and busy.headers.get("retry-after")
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    assert (
        client.post(
            "/login", data={"username": "ana", "password": PASSWORD}, follow_redirects=False
        ).status_code
        == 303
    )


def test_names_no_account_can_have_are_refused_not_crashed(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        admin = create_user(db, username="root", role=Role.ADMIN, actor=None)
        token = issue_token(db, user_id=admin.id, actor=None)
    client = TestClient(create_app(timers=False))
    assert (
        client.post("/login", data={"username": "a\x00b", "password": PASSWORD}).status_code == 422
    )  # refused before any route (security middleware)
    for name in ("x" * 5000, "ana\u200b", "", "../root"):
        answer = client.post("/login", data={"username": name, "password": PASSWORD})
        assert answer.status_code in (401, 429), (name[:10], answer.status_code)
    bearer = {"Authorization": f"Bearer {token}"}
    for user_id in ("0" * 36, "x" * 300, "a b"):
        answer = client.post(f"/api/v1/users/{user_id}/tokens", headers=bearer)
        assert answer.status_code == 404, (user_id[:10], answer.status_code)
    answer = client.delete("/api/v1/tokens/" + "x" * 300, headers=bearer)
    assert answer.status_code == 404
