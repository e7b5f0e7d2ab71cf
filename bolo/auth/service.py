"""Users and API tokens: create, look up, check roles, log in, revoke."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.audit.service import record
from bolo.auth.login import TooManyAttempts, authenticate, check_reauth
from bolo.auth.model import POST_ID_RE, USERNAME_RE, ApiToken, Role, Scope, User
from bolo.auth.passwords import check_password_policy, hash_password
from bolo.auth.sessions import end_user_sessions
from bolo.auth.totp import new_secret
from bolo.clock import now
from bolo.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from bolo.posts.model import Post
from bolo.settings import get_settings

TOKEN_PREFIX = "bolo_"
_ID_RE = re.compile(r"^[0-9a-f-]{36}$")
# Who manages accounts: creates users, sets other users' passwords and one-time codes, issues
# and revokes API tokens, disables and enables accounts.
ACCOUNT_ADMINS = (Role.ADMIN,)
# The token scopes each role may grant when it issues a token (the local operator: all).
GRANTABLE_SCOPES: dict[str, frozenset[Scope]] = {Role.ADMIN.value: frozenset(Scope)}

__all__ = [
    "ACCOUNT_ADMINS",
    "GRANTABLE_SCOPES",
    "TOKEN_PREFIX",
    "TooManyAttempts",
    "authenticate",
    "check_reauth",
    "create_user",
    "enroll_totp",
    "get_user",
    "issue_token",
    "require_account_admin",
    "require_actor_role",
    "require_role",
    "require_self_or_admin",
    "revoke_token",
    "set_password",
    "token_for_secret",
    "user_by_name",
    "user_for_token",
]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    role: Role,
    post_id: str | None = None,
    password: str | None = None,
    actor: User | None,
) -> User:
    """Create a user with a role (and a password, when given); usernames are unique, 1-64 of
    letters, digits, ``_ . -``. A post officer belongs to exactly one post (``post_id``); no
    other role names one. ``actor`` is the admin who creates it (None: the local operator at
    the server's command line); Forbidden for any other role. It is kept on the account and in
    the audit."""
    require_account_admin(actor)
    actor_id = _id(actor)
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput("a username has 1-64 letters, digits, '_', '.' or '-'")
    role = Role(role)
    if role == Role.POST_OFFICER and not post_id:
        raise InvalidInput("a post officer needs the post they belong to (--post POST_ID)")
    if role != Role.POST_OFFICER and post_id:
        raise InvalidInput("only a post officer belongs to a post")
    if post_id and (not POST_ID_RE.fullmatch(post_id) or session.get(Post, post_id) is None):
        raise InvalidInput(f"no post {post_id!r}: import or add the posts first")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=role.value, post_id=post_id, created_by=actor_id)
    if password is not None:
        user.password_hash = _checked_hash(password)
        user.password_set_by = actor_id
    session.add(user)
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action="user.created",
        entity="user",
        entity_id=user.id,
        data={"role": user.role, "post_id": post_id},
    )
    return user


def _checked_hash(password: str) -> str:
    try:
        check_password_policy(password)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return hash_password(password)


def set_password(session: Session, *, user_id: str, password: str, actor: User | None) -> None:
    """Set a user's password (argon2id hash) and end all the user's web sessions. ``actor``
    is who sets it: the user themself, an admin (Forbidden for anyone else), or None (the
    local operator); a password set by someone else is that person's credential for the
    two-person rule."""
    require_self_or_admin(actor, user_id)
    actor_id = _id(actor)
    user = get_user(session, user_id=user_id)
    user.password_hash = _checked_hash(password)
    user.password_set_by = actor_id if actor_id != user.id else None
    end_user_sessions(session, user_id=user.id)
    record(
        session,
        actor_id=actor_id or user.id,
        action="user.password_set",
        entity="user",
        entity_id=user.id,
    )


def enroll_totp(session: Session, *, user_id: str, actor: User | None) -> str:
    """Give a user a new TOTP secret and return it (show it once, as a QR code of
    ``bolo.auth.totp.provisioning_uri``); from now on the user's logins need a code.
    ``actor``: the user themself, an admin (Forbidden for anyone else) or None (the local
    operator)."""
    require_self_or_admin(actor, user_id)
    actor_id = _id(actor)
    user = get_user(session, user_id=user_id)
    user.totp_secret = new_secret()
    user.totp_last_step = None
    record(
        session,
        actor_id=actor_id or user.id,
        action="user.totp_enrolled",
        entity="user",
        entity_id=user.id,
    )
    return user.totp_secret


def default_token_expiry() -> datetime | None:
    """When a token issued now expires by default: ``BOLO_TOKEN_DAYS`` (90) days from now;
    None when that setting is 0 (never)."""
    days = get_settings().token_days
    return now() + timedelta(days=days) if days else None


def issue_token(
    session: Session,
    *,
    user_id: str,
    label: str = "",
    scope: Scope = Scope.FULL,
    post_id: str | None = None,
    expires_at: datetime | None = None,
    actor: User | None,
) -> str:
    """Create an API token for a user and return it; only its hash is stored. A POST-scoped
    token names the one post it acts for; its user must be a post officer of that post.
    ``actor`` issues it: Forbidden unless its role may grant ``scope`` (GRANTABLE_SCOPES; None:
    the local operator, who grants any). Without ``expires_at`` it expires after
    ``BOLO_TOKEN_DAYS``."""
    scope = Scope(scope)
    require_grant(actor, scope)
    actor_id = _id(actor)
    user = get_user(session, user_id=user_id)
    if not user.active:
        raise Conflict(f"user {user.username!r} is disabled")
    if scope == Scope.POST:
        if post_id is None:
            raise InvalidInput("a post token needs the post it acts for")
        if user.role != Role.POST_OFFICER or user.post_id != post_id:
            raise InvalidInput("a post token belongs to a post officer of that same post")
    elif post_id is not None:
        raise InvalidInput("only post tokens name a post")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        token_sha256=_sha256(token),
        label=label[:128],
        scope=scope.value,
        post_id=post_id,
        expires_at=expires_at or default_token_expiry(),
        issued_by=actor_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action="token.issued",
        entity="api_token",
        entity_id=row.id,
        data={"scope": scope.value, "post_id": post_id, "user_id": user_id},
    )
    return token


def revoke_token(session: Session, *, token_id: str, actor: User | None) -> None:
    """Revoke a token at once; revoking twice is a Conflict. ``actor``: an admin, the token's
    own user, or None (the local operator); Forbidden for anyone else."""
    row = session.get(ApiToken, token_id) if _ID_RE.fullmatch(token_id) else None
    if row is None:
        raise NotFound(f"no token {token_id}")
    require_self_or_admin(actor, row.user_id)
    actor_id = _id(actor)
    if row.revoked_at is not None:
        raise Conflict("token already revoked")
    row.revoked_at = now()
    record(session, actor_id=actor_id, action="token.revoked", entity="api_token", entity_id=row.id)


def token_for_secret(session: Session, *, token: str) -> ApiToken:
    """The live (not revoked, not expired) token row of a bearer secret, or Unauthorized."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_sha256 == _sha256(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("invalid or revoked API token")
    if row.expires_at is not None and row.expires_at <= now():
        raise Unauthorized("expired API token")
    return row


def user_for_token(session: Session, *, token: str) -> User:
    """The active user a live bearer token belongs to, or Unauthorized."""
    row = token_for_secret(session, token=token)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the token's user is not active")
    return user


def get_user(session: Session, *, user_id: str) -> User:
    """The user with this id, or NotFound (also for a string no id can be)."""
    user = session.get(User, user_id) if _ID_RE.fullmatch(user_id) else None
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def user_by_name(session: Session, *, username: str) -> User:
    """The user with this username, or NotFound."""
    user = (
        session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if USERNAME_RE.fullmatch(username)
        else None
    )
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def _id(actor: User | None) -> str | None:
    return actor.id if actor is not None else None


def require_account_admin(actor: User | None) -> None:
    """Forbidden unless ``actor`` may manage accounts (ACCOUNT_ADMINS; None: the local
    operator)."""
    require_actor_role(actor, *ACCOUNT_ADMINS)


def require_self_or_admin(actor: User | None, user_id: str) -> None:
    """Forbidden unless ``actor`` is the user ``user_id`` themself, may manage accounts, or is
    None (the local operator)."""
    if actor is not None and actor.id != user_id:
        require_account_admin(actor)


def require_grant(actor: User | None, scope: Scope) -> None:
    """Forbidden unless ``actor``'s role may grant a token of ``scope`` (GRANTABLE_SCOPES;
    None, the local operator, grants any)."""
    if actor is None:
        return
    if Scope(scope) not in GRANTABLE_SCOPES.get(actor.role, frozenset()):
        raise Forbidden(f"role {actor.role!r} may not issue a {Scope(scope).value!r} token")


def require_actor_role(actor: User | None, *roles: Role) -> None:
    """``require_role`` for a service's acting user, where None is the local operator at the
    server's command line (the CLI, the replay), who holds the database anyway."""
    if actor is not None:
        require_role(actor, *roles)


def require_role(user: User, *roles: Role) -> None:
    """Raise Forbidden unless the user has one of ``roles`` (admins pass everywhere)."""
    if user.role == Role.ADMIN or user.role in {r.value for r in roles}:
        return
    allowed = ", ".join(r.value for r in roles)
    raise Forbidden(f"role {user.role!r} may not do this (needs one of: {allowed})")
