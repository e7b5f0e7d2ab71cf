"""Password (+TOTP) sign-in and step-up, throttled per client and per signed-in user.

Each attempt is counted *before* the password is checked, by one conditional UPDATE per key
(``bolo.auth.throttle``), committed at once on the request's own connection: concurrent attempts
cannot overtake a limit, and nothing is held while argon2 runs. A success gives its attempt back.
A stranger's failures count against the stranger's address, never against the account, so
nobody can lock another person out; a signed-in user's step-ups (re-authentication before an
approval) count against that user alone.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.model import USERNAME_RE, User
from bolo.auth.passwords import hash_password, needs_rehash, verify_password
from bolo.auth.throttle import (
    WINDOW,
    Limit,
    TooManyAttempts,
    forget_old_attempts,
    give_back,
    reserve,
)
from bolo.auth.totp import matching_step
from bolo.errors import Unauthorized
from bolo.i18n import N_

__all__ = [
    "BAD_LOGIN",
    "WINDOW",
    "TooManyAttempts",
    "authenticate",
    "check_reauth",
    "client_key",
    "forget_old_attempts",
    "login_slot",
    "require_second_factor",
]

BAD_LOGIN = N_("invalid username, password or code")
# One address may try one username 10 times in the window, with growing waits after the 3rd
# failure, and 30 times in all (password spraying); successes do not count.
PER_ACCOUNT_FROM_CLIENT = Limit(attempts=10, free=3)
PER_CLIENT = Limit(attempts=30, free=30)
# A signed-in user's own step-ups (password again, or a one-time code to approve).
PER_STEP_UP_USER = Limit(attempts=10, free=3)
# Password checks at once in this process: argon2 takes ~19 MiB and ~0.16 s of a core each, and
# a login must never wait for a database connection. Beyond this, 429 at once.
LOGIN_SLOTS = max(2, os.cpu_count() or 2)
_slots = threading.BoundedSemaphore(LOGIN_SLOTS)


@contextmanager
def login_slot() -> Iterator[None]:
    """One of the process's ``LOGIN_SLOTS`` password checks, or TooManyAttempts (429) at once
    when all are busy: a flood of logins is refused, it never queues for the database pool."""
    if not _slots.acquire(blocking=False):
        raise TooManyAttempts(
            N_("too many sign-ins at this moment; try again in a few seconds"), retry_after_s=2
        )
    try:
        yield
    finally:
        _slots.release()


def client_key(address: str) -> str:
    """The throttle key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber
    holds a whole /64), anything else (a test client, a unix socket) verbatim."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None = None,
    client: str = "",
) -> User:
    """The active user with this username and password (and a fresh TOTP code when the user has
    enrolled one), or Unauthorized with one message for every cause. ``client`` is the caller's
    address: one address gets 10 attempts per username and 30 in all per 15 minutes, waiting
    1, 2, 4 ... 60 s between attempts after the 3rd failure at one username; beyond, or too
    early, TooManyAttempts (429, with the seconds to wait). Commits ``session`` (the counted
    attempt, then the sign-in's own writes): call it before anything else in the transaction."""
    where = client_key(client)
    name = username if USERNAME_RE.fullmatch(username) else "(not a username)"
    keys = [(f"acct:{where}|{name}", PER_ACCOUNT_FROM_CLIENT), (f"client:{where}", PER_CLIENT)]
    return _check(session, keys, username=username, password=password, totp_code=totp_code)


def check_reauth(
    session: Session, *, user: User, password: str, totp_code: str | None = None
) -> None:
    """Re-authentication of a signed-in user (before an approval): the password and, when
    enrolled, a fresh TOTP code. Throttled per user (10 per 15 minutes, growing waits after
    3 failures), so strangers' failed logins never block it. Raises Unauthorized or
    TooManyAttempts; commits ``session`` like ``authenticate``."""
    _check(
        session,
        [(f"user:{user.id}", PER_STEP_UP_USER)],
        username=user.username,
        password=password,
        totp_code=totp_code,
    )


def _check(
    session: Session,
    keys: list[tuple[str, Limit]],
    *,
    username: str,
    password: str,
    totp_code: str | None,
) -> User:
    reserve(session, keys)
    # A name no account can have is not looked up (PostgreSQL refuses NUL characters).
    user = (
        session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if USERNAME_RE.fullmatch(username)
        else None
    )
    session.commit()  # no connection is held while argon2 runs
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.active or not claim_code(session, user, totp_code):
        session.commit()
        raise Unauthorized(BAD_LOGIN)
    give_back(session, keys)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record(session, actor_id=user.id, action="user.login", entity="user", entity_id=user.id)
    session.commit()
    return user


def claim_code(session: Session, user: User, totp_code: str | None) -> bool:
    """True when ``user`` has no TOTP, or ``totp_code`` is a code of theirs newer than the last
    one accepted; the code's step is then stored by one conditional UPDATE, so of concurrent
    requests with the same code exactly one wins (on SQLite and PostgreSQL)."""
    if user.totp_secret is None:
        return True
    if not totp_code:
        return False
    step = matching_step(user.totp_secret, totp_code.strip(), after_step=user.totp_last_step)
    if step is None:
        return False
    won = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(won, "rowcount", 0) or 0) != 1:
        return False
    user.totp_last_step = step
    session.info["second_factor"] = user.id
    return True


def require_second_factor(session: Session, *, user: User, totp_code: str | None) -> None:
    """Before an approval by API token: a user who enrolled TOTP must send a fresh code (a stolen
    token alone cannot approve); users without TOTP pass. Throttled per user like a step-up;
    Unauthorized or TooManyAttempts otherwise. Commits ``session``."""
    if user.totp_secret is None:
        return
    keys = [(f"user:{user.id}", PER_STEP_UP_USER)]
    reserve(session, keys)
    if not claim_code(session, user, totp_code):
        session.commit()
        raise Unauthorized("approving needs a fresh one-time code (header X-Bolo-TOTP)")
    give_back(session, keys)
    session.commit()
