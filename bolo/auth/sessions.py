"""Server-side web sessions and their CSRF tokens.

The browser's cookie holds a random secret (the *session id* below); the database keeps only its
SHA-256, so a copy of the database cannot be replayed as a cookie. The CSRF token is an HMAC of
a fixed label keyed by the session id: it needs no server secret, changes with every session and
cannot be turned back into the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.model import Credential, User, WebSession
from bolo.clock import now
from bolo.errors import Forbidden, Unauthorized

COOKIE_NAME = "bolo_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
REAUTH_WINDOW = timedelta(minutes=5)
# A session's last-used time is written at most this often (one short write, never held
# while a page renders).
TOUCH_EVERY = timedelta(seconds=60)
_CSRF_LABEL = b"bolo-csrf-v1"


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def create_session(db: Session, *, user_id: str) -> str:
    """Start a session for ``user_id`` (already authenticated) and return the session id to put
    in the cookie. The id is 256 random bits; only its hash is stored. The session remembers who
    set the password it was opened with (the two-person rule)."""
    session_id = secrets.token_urlsafe(32)
    at = now()
    user = db.get(User, user_id)
    db.add(
        WebSession(
            id=_key(session_id),
            user_id=user_id,
            created_at=at,
            last_seen_at=at,
            reauth_at=at,
            credential_by=user.password_set_by if user else None,
        )
    )
    db.flush()
    record(db, actor_id=user_id, action="session.started", entity="user", entity_id=user_id)
    return session_id


def _live_row(db: Session, session_id: str) -> WebSession:
    row = db.get(WebSession, _key(session_id)) if session_id else None
    at = now()
    if (
        row is None
        or row.ended_at is not None
        or at - row.last_seen_at > IDLE_TIMEOUT
        or at - row.created_at > ABSOLUTE_TIMEOUT
    ):
        raise Unauthorized("not logged in, or the session has expired")
    return row


def session_user(db: Session, *, session_id: str) -> User:
    """The active user of a live session, or Unauthorized. A session dies after 30 minutes idle
    or 12 hours in all. Marks the session as used (at most once a minute) and commits that at
    once, so no request holds a write transaction while it works: call it first."""
    row = _live_row(db, session_id)
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the session's user is not active")
    db.info["credential"] = Credential("session", row.id, row.credential_by)
    at = now()
    if at - row.last_seen_at >= TOUCH_EVERY:
        db.execute(
            update(WebSession)
            .where(WebSession.id == row.id)
            .values(last_seen_at=at)
            .execution_options(synchronize_session=False)
        )
        row.last_seen_at = at
    db.commit()
    return user


def session_is_live(db: Session, *, session_id: str) -> bool:
    """True while the session can still be used (not ended, not expired, its user active);
    reads only."""
    try:
        row = _live_row(db, session_id)
    except Unauthorized:
        return False
    user = db.get(User, row.user_id)
    return user is not None and user.active


def ended_since(db: Session, since: datetime) -> set[str]:
    """The keys (hashed ids) of the sessions ended at or after ``since``."""
    return set(db.execute(select(WebSession.id).where(WebSession.ended_at >= since)).scalars())


def session_key(session_id: str) -> str:
    """The stored key of a session id (its SHA-256): what ``ended_since`` returns."""
    return _key(session_id)


def end_session(db: Session, *, session_id: str) -> None:
    """End a session (logout). Ending an unknown or ended session does nothing."""
    row = db.get(WebSession, _key(session_id)) if session_id else None
    if row is not None and row.ended_at is None:
        row.ended_at = now()
        record(
            db, actor_id=row.user_id, action="session.ended", entity="user", entity_id=row.user_id
        )


def end_user_sessions(db: Session, *, user_id: str) -> None:
    """End every session of a user (password change, deactivation)."""
    db.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now())
    )


def mark_reauthenticated(db: Session, *, session_id: str) -> None:
    """Note that the user has just typed the password (and TOTP) again in this session."""
    _live_row(db, session_id).reauth_at = now()


def require_recent_reauth(db: Session, *, session_id: str) -> None:
    """Forbidden unless the session re-authenticated in the last 5 minutes (approvals)."""
    if now() - _live_row(db, session_id).reauth_at > REAUTH_WINDOW:
        raise Forbidden("re-enter your password (and code) to approve")


def csrf_token_for(session_id: str) -> str:
    """The CSRF token of a session: put it in forms (hidden field ``csrf_token``) or send it as
    the ``X-CSRF-Token`` header."""
    return hmac.new(session_id.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def check_csrf(session_id: str, token: str | None) -> None:
    """Forbidden unless ``token`` is the CSRF token of ``session_id`` (constant-time compare)."""
    if not session_id or not token or not hmac.compare_digest(csrf_token_for(session_id), token):
        raise Forbidden("missing or wrong CSRF token")


def purge_dead_sessions(db: Session) -> int:
    """Delete sessions ended or expired more than a day ago; return how many went."""
    cutoff = now() - timedelta(days=1)
    result = db.execute(
        delete(WebSession).where(
            or_(
                WebSession.ended_at < cutoff,
                WebSession.last_seen_at < cutoff - IDLE_TIMEOUT,
                WebSession.created_at < cutoff - ABSOLUTE_TIMEOUT,
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live_sessions(db: Session, *, user_id: str) -> list[WebSession]:
    """The sessions of a user that have not been ended (expired ones included)."""
    return list(
        db.execute(
            select(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        ).scalars()
    )
