"""Managing accounts after they exist: list, disable and enable, end sessions, TOTP enrolment.

Creating users, setting passwords and issuing tokens are in ``bolo.auth.service``. Each
function takes the acting user and checks its role itself (an admin, or the user themself where
that is said; None: the local operator at the server's command line); every change is audited
with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.model import ApiToken, User, WebSession
from bolo.auth.service import get_user, require_account_admin, require_self_or_admin
from bolo.auth.sessions import end_user_sessions
from bolo.auth.totp import matching_step, new_secret
from bolo.clock import now
from bolo.errors import Conflict, InvalidInput

_BASE32_SECRET = re.compile(r"^[A-Z2-7]{16,64}$")


@dataclass(frozen=True)
class UserSummary:
    """What the user list shows of one account (never a hash, secret or token)."""

    id: str
    username: str
    role: str
    post_id: str | None
    active: bool
    has_password: bool
    totp: bool
    created_at: datetime
    live_tokens: int

    def as_json(self) -> dict[str, object]:
        """The summary as JSON-ready values (times in ISO 8601, UTC)."""
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "post_id": self.post_id,
            "active": self.active,
            "has_password": self.has_password,
            "totp": self.totp,
            "created_at": self.created_at.isoformat(),
            "live_tokens": self.live_tokens,
        }


def list_users(db: Session, *, actor: User | None) -> list[UserSummary]:
    """Every account, by username, with its number of live (unrevoked, unexpired) tokens.
    ``actor``: an admin (or None, the local operator)."""
    require_account_admin(actor)
    at = now()
    live = (
        select(ApiToken.user_id, func.count().label("n"))
        .where(
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > at),
        )
        .group_by(ApiToken.user_id)
        .subquery()
    )
    rows = db.execute(
        select(User, live.c.n).outerjoin(live, live.c.user_id == User.id).order_by(User.username)
    ).all()
    return [
        UserSummary(
            id=u.id,
            username=u.username,
            role=u.role,
            post_id=u.post_id,
            active=u.active,
            has_password=u.password_hash is not None,
            totp=u.totp_secret is not None,
            created_at=u.created_at,
            live_tokens=int(n or 0),
        )
        for u, n in rows
    ]


def end_sessions(db: Session, *, user_id: str, actor: User | None) -> int:
    """End every web session of a user at once; returns how many were live. ``actor``: the
    user themself, an admin, or None (the local operator)."""
    require_self_or_admin(actor, user_id)
    live = db.execute(
        select(func.count())
        .select_from(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    ).scalar_one()
    end_user_sessions(db, user_id=user_id)
    record(
        db,
        actor_id=actor.id if actor else None,
        action="user.sessions_ended",
        entity="user",
        entity_id=user_id,
        data={"sessions": int(live)},
    )
    return int(live)


def _revoke_user_tokens(db: Session, *, user_id: str) -> int:
    """Revoke every live API token of a user at once; returns how many."""
    result = db.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def disable_user(db: Session, *, user_id: str, actor: User | None) -> None:
    """Disable an account: it can no longer sign in, and its sessions and tokens end now.
    ``actor``: an admin (or None, the local operator). Nobody disables their own account (an
    admin could lock every admin out)."""
    require_account_admin(actor)
    actor_id = actor.id if actor else None
    user = get_user(db, user_id=user_id)
    if actor_id is not None and actor_id == user.id:
        raise Conflict("you cannot disable your own account")
    if not user.active:
        raise Conflict(f"user {user.username!r} is already disabled")
    user.active = False
    end_user_sessions(db, user_id=user.id)
    tokens = _revoke_user_tokens(db, user_id=user.id)
    record(
        db,
        actor_id=actor_id,
        action="user.disabled",
        entity="user",
        entity_id=user.id,
        data={"tokens_revoked": tokens},
    )


def enable_user(db: Session, *, user_id: str, actor: User | None) -> None:
    """Let a disabled account sign in again (its old tokens stay revoked). ``actor``: an admin
    (or None, the local operator)."""
    require_account_admin(actor)
    user = get_user(db, user_id=user_id)
    if user.active:
        raise Conflict(f"user {user.username!r} is already active")
    user.active = True
    record(
        db,
        actor_id=actor.id if actor else None,
        action="user.enabled",
        entity="user",
        entity_id=user.id,
    )


def new_totp_secret() -> str:
    """A fresh TOTP secret to show (as a QR code) before the user confirms it with a code."""
    return new_secret()


def is_totp_secret(secret: str) -> bool:
    """True when ``secret`` is a base32 TOTP secret of 16-64 characters (as ``new_totp_secret``
    makes them)."""
    return _BASE32_SECRET.fullmatch(secret.strip().upper()) is not None


def confirm_totp(db: Session, *, user: User, secret: str, code: str) -> None:
    """Enrol ``secret`` as the second factor of ``user``, the signed-in user enrolling
    themself, once they typed a code of it (so an authenticator app that did not read the QR
    code cannot lock them out). The code is used: it is not accepted again at the next
    sign-in. Admins enrol other users with ``bolo.auth.service.enroll_totp``."""
    secret = secret.strip().upper()
    if not is_totp_secret(secret):
        raise InvalidInput("the enrolment form is damaged: start again")
    step = matching_step(secret, code.strip(), after_step=None)
    if step is None:
        raise InvalidInput("that code does not match: check the phone's clock and try again")
    user.totp_secret = secret
    user.totp_last_step = step
    record(db, actor_id=user.id, action="user.totp_enrolled", entity="user", entity_id=user.id)


def remove_totp(db: Session, *, user_id: str, actor: User | None) -> None:
    """Remove a user's second factor (a lost phone); the user enrols again afterwards.
    ``actor``: an admin (or None, the local operator); a user cannot drop their own second
    factor without one."""
    require_account_admin(actor)
    user = get_user(db, user_id=user_id)
    if user.totp_secret is None:
        raise Conflict(f"user {user.username!r} has no one-time codes enrolled")
    user.totp_secret = None
    user.totp_last_step = None
    record(
        db,
        actor_id=actor.id if actor else None,
        action="user.totp_removed",
        entity="user",
        entity_id=user.id,
    )
