"""Users and API tokens: create, look up, check roles."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.model import ApiToken, Role, User
from bolo.errors import Conflict, Forbidden, NotFound, Unauthorized

TOKEN_PREFIX = "bolo_"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create_user(
    session: Session, *, username: str, role: Role, post_id: str | None = None,
    actor_id: str | None = None,
) -> User:
    """Create a user with a role; usernames are unique."""
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=Role(role).value, post_id=post_id)
    session.add(user)
    session.flush()
    record(session, actor_id=actor_id, action="user.created", entity="user", entity_id=user.id,
           data={"role": user.role})
    return user


def issue_token(session: Session, *, user_id: str, label: str = "") -> str:
    """Create an API token for a user and return it; only its hash is stored."""
    if session.get(User, user_id) is None:
        raise NotFound(f"no user {user_id}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user_id, token_sha256=_sha256(token), label=label))
    session.flush()
    record(session, actor_id=user_id, action="token.issued", entity="user", entity_id=user_id)
    return token


def user_for_token(session: Session, *, token: str) -> User:
    """The active user a bearer token belongs to, or Unauthorized."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_sha256 == _sha256(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("invalid or revoked API token")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the token's user is not active")
    return user


def get_user(session: Session, *, user_id: str) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def user_by_name(session: Session, *, username: str) -> User:
    """The user with this username, or NotFound."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def require_role(user: User, *roles: Role) -> None:
    """Raise Forbidden unless the user has one of ``roles`` (admins pass everywhere)."""
    if user.role == Role.ADMIN or user.role in {r.value for r in roles}:
        return
    allowed = ", ".join(r.value for r in roles)
    raise Forbidden(f"role {user.role!r} may not do this (needs one of: {allowed})")
