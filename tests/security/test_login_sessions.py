"""Passwords, login rate limit, TOTP, web sessions and CSRF, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from bolo.auth.login import forget_old_attempts
from bolo.auth.model import LoginThrottle, Role, WebSession
from bolo.auth.passwords import hash_password, verify_password
from bolo.auth.service import TooManyAttempts, authenticate, create_user, enroll_totp
from bolo.auth.sessions import (
    check_csrf,
    create_session,
    csrf_token_for,
    end_session,
    require_recent_reauth,
    session_user,
)
from bolo.auth.totp import code_at
from bolo.clock import FakeClock, use_clock
from bolo.errors import Forbidden, InvalidInput, Unauthorized
from bolo.store.db import session_scope

PASSWORD = "correct horse battery"


def test_hash_round_trip_and_salting() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("$argon2id$")
    assert verify_password(PASSWORD, first)
    assert not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, None)
    assert not verify_password(PASSWORD, "not a hash")


def test_login_and_rate_limit(db_engine: Engine) -> None:
    clock = FakeClock(datetime(2026, 5, 1, 12, tzinfo=UTC))
    with use_clock(clock):
        with session_scope(db_engine) as db:
            user = create_user(
                db, username="ana", role=Role.COORDINATOR, password=PASSWORD, actor=None
            )
            with pytest.raises(InvalidInput):
                create_user(db, username="short", role=Role.VIEWER, password="short", actor=None)
        with session_scope(db_engine) as db:
            assert authenticate(db, username="ana", password=PASSWORD).id == user.id
        for _ in range(3):
            with pytest.raises(Unauthorized), session_scope(db_engine) as db:
                authenticate(db, username="ana", password="wrong password!", client="10.9.9.9")
        # The failures survived their transactions' rollback: that client now waits, even
        # with the right password, and the wait grows.
        with pytest.raises(TooManyAttempts), session_scope(db_engine) as db:
            authenticate(db, username="ana", password=PASSWORD, client="10.9.9.9")
        clock.advance(seconds=2)
        with session_scope(db_engine) as db:
            assert (
                authenticate(db, username="ana", password=PASSWORD, client="10.9.9.9").id == user.id
            )
        clock.advance(minutes=16)
        with session_scope(db_engine) as db:
            assert forget_old_attempts(db) >= 1
            assert db.execute(select(func.count()).select_from(LoginThrottle)).scalar_one() == 0


def test_unknown_user_is_the_same_refusal(db_engine: Engine) -> None:
    with pytest.raises(Unauthorized) as unknown, session_scope(db_engine) as db:
        authenticate(db, username="nobody", password=PASSWORD)
    with session_scope(db_engine) as db:
        create_user(db, username="bo", role=Role.VIEWER, password=PASSWORD, actor=None)
    with pytest.raises(Unauthorized) as wrong, session_scope(db_engine) as db:
        authenticate(db, username="bo", password="not the password")
    assert unknown.value.message == wrong.value.message


def test_totp_required_and_not_replayable(db_engine: Engine) -> None:
    clock = FakeClock(datetime(2026, 5, 1, 12, 0, 5, tzinfo=UTC))
    with use_clock(clock):
        with session_scope(db_engine) as db:
            user = create_user(
                db, username="appr", role=Role.APPROVER, password=PASSWORD, actor=None
            )
            secret = enroll_totp(db, user_id=user.id, actor=None)
        with pytest.raises(Unauthorized), session_scope(db_engine) as db:
            authenticate(db, username="appr", password=PASSWORD)
        code = code_at(secret)
        with session_scope(db_engine) as db:
            authenticate(db, username="appr", password=PASSWORD, totp_code=code)
        with pytest.raises(Unauthorized), session_scope(db_engine) as db:
            authenticate(db, username="appr", password=PASSWORD, totp_code=code)
        clock.advance(seconds=30)
        with session_scope(db_engine) as db:
            authenticate(db, username="appr", password=PASSWORD, totp_code=code_at(secret))


def test_sessions_expire_end_and_are_hashed(db_engine: Engine) -> None:
    clock = FakeClock(datetime(2026, 5, 1, 12, tzinfo=UTC))
    with use_clock(clock):
        with session_scope(db_engine) as db:
            user = create_user(
                db, username="cy", role=Role.COORDINATOR, password=PASSWORD, actor=None
            )
            sid = create_session(db, user_id=user.id)
            stored = db.execute(select(WebSession.id)).scalars().all()
            assert sid not in stored  # only the hash is kept
        with session_scope(db_engine) as db:
            assert session_user(db, session_id=sid).id == user.id
            require_recent_reauth(db, session_id=sid)
        clock.advance(minutes=6)
        with pytest.raises(Forbidden), session_scope(db_engine) as db:
            require_recent_reauth(db, session_id=sid)
        with session_scope(db_engine) as db:
            session_user(db, session_id=sid)
        clock.advance(minutes=29)  # 29 min idle since last use: still alive
        with session_scope(db_engine) as db:
            session_user(db, session_id=sid)
        clock.advance(minutes=31)
        with pytest.raises(Unauthorized), session_scope(db_engine) as db:
            session_user(db, session_id=sid)
        with session_scope(db_engine) as db:
            other = create_session(db, user_id=user.id)
            end_session(db, session_id=other)
        with pytest.raises(Unauthorized), session_scope(db_engine) as db:
            session_user(db, session_id=other)
        with pytest.raises(Unauthorized), session_scope(db_engine) as db:
            session_user(db, session_id="")


def test_csrf_token_is_bound_to_the_session() -> None:
    token = csrf_token_for("session-a")
    check_csrf("session-a", token)
    for sid, tok in (
        ("session-b", token),
        ("session-a", None),
        ("", token),
        ("session-a", token[:-1] + "0"),
    ):
        with pytest.raises(Forbidden):
            check_csrf(sid, tok)


def test_using_a_session_holds_no_write_lock(sqlite_engine: Engine) -> None:
    clock = FakeClock(datetime(2026, 5, 1, 12, tzinfo=UTC))
    with use_clock(clock):
        with session_scope(sqlite_engine) as db:
            user = create_user(db, username="dee", role=Role.VIEWER, actor=None)
            sid = create_session(db, user_id=user.id)
        clock.advance(minutes=5)  # the last-used time is due for a refresh
        with session_scope(sqlite_engine) as db:
            assert session_user(db, session_id=sid).id == user.id
            # The page renders: it reads (which would flush a pending refresh) and takes time.
            db.execute(select(func.count()).select_from(WebSession)).scalar_one()
            other = sqlite3.connect(str(sqlite_engine.url.database), timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")  # another writer is not kept waiting
                other.rollback()
            finally:
                other.close()
        with session_scope(sqlite_engine) as db:
            row = db.execute(select(WebSession)).scalar_one()
            assert row.last_seen_at == clock()
