"""Password (+TOTP) login with a rate limit on failures, per username and per client."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.model import LoginAttempt, User
from bolo.auth.passwords import hash_password, needs_rehash, verify_password
from bolo.auth.totp import matching_step
from bolo.clock import now
from bolo.errors import BoloError, Unauthorized

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_CLIENT = 20
BAD_LOGIN = "invalid username, password or code"


class TooManyAttempts(BoloError):
    """Too many failed logins in the window: wait, then try again (HTTP 429)."""

    status = 429


def _failures(session: Session, *, username: str, client: str) -> tuple[int, int]:
    since = now() - WINDOW
    by_name = session.execute(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.at >= since)
    ).scalar_one()
    by_client = 0
    if client:
        by_client = session.execute(
            select(func.count()).select_from(LoginAttempt)
            .where(LoginAttempt.client == client, LoginAttempt.at >= since)
        ).scalar_one()
    return int(by_name), int(by_client)


def _note_failure(session: Session, *, username: str, client: str) -> None:
    # The caller's transaction is rolled back when we raise, so the failure is written in its
    # own transaction: otherwise the rate limit would never see it.
    attempt = LoginAttempt(username=username[:64], client=client[:64], at=now())
    bind = session.get_bind()
    if isinstance(bind, Engine):
        with Session(bind=bind) as side:
            side.add(attempt)
            side.commit()
    else:
        session.add(attempt)
        session.flush()


def authenticate(
    session: Session, *, username: str, password: str, totp_code: str | None = None,
    client: str = "",
) -> User:
    """The active user with this username and password (and a fresh TOTP code when the user has
    enrolled one), or Unauthorized with one message for every cause. ``client`` (the caller's
    address) adds a per-client limit. More than 5 failures for a username, or 20 for a client, in
    15 minutes refuse further attempts with TooManyAttempts (429) until the window slides."""
    by_name, by_client = _failures(session, username=username, client=client)
    if by_name >= MAX_FAILURES_PER_USERNAME or by_client >= MAX_FAILURES_PER_CLIENT:
        raise TooManyAttempts("too many failed logins; wait 15 minutes and try again")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.active or not _second_factor_ok(user, totp_code):
        _note_failure(session, username=username, client=client)
        raise Unauthorized(BAD_LOGIN)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record(session, actor_id=user.id, action="user.login", entity="user", entity_id=user.id)
    return user


def _second_factor_ok(user: User, totp_code: str | None) -> bool:
    if user.totp_secret is None:
        return True
    if not totp_code:
        return False
    step = matching_step(user.totp_secret, totp_code.strip(), after_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def check_reauth(session: Session, *, user: User, password: str,
                 totp_code: str | None = None) -> None:
    """Re-authentication of a logged-in user (before an approval): the password and, when
    enrolled, a fresh TOTP code; rate limited like a login. Raises Unauthorized on failure."""
    authenticate(session, username=user.username, password=password, totp_code=totp_code)


def forget_old_attempts(session: Session) -> int:
    """Delete failed-login rows older than the window; return how many went."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < now() - WINDOW))
    return int(getattr(result, "rowcount", 0) or 0)


def require_second_factor(session: Session, *, user: User, totp_code: str | None) -> None:
    """Before an approval by API token: a user who enrolled TOTP must send a fresh code (a stolen
    token alone cannot approve); users without TOTP pass. Failures count toward the login
    rate limit; Unauthorized or TooManyAttempts otherwise."""
    if user.totp_secret is None:
        return
    by_name, _ = _failures(session, username=user.username, client="")
    if by_name >= MAX_FAILURES_PER_USERNAME:
        raise TooManyAttempts("too many failed attempts; wait 15 minutes and try again")
    if not _second_factor_ok(user, totp_code):
        _note_failure(session, username=user.username, client="")
        raise Unauthorized("approving needs a fresh one-time code (header X-Bolo-TOTP)")
