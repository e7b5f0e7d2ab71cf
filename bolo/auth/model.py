"""Users, API tokens, web sessions and login attempts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolo.clock import now
from bolo.store.db import Base
from bolo.store.types import UtcDateTime, new_id

# What a username may be: 1-64 letters, digits, '_', '.' or '-'.
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# What a post id may be (as bolo.posts.schemas.PostIn says).
POST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Role(StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    APPROVER = "approver"
    SUPERVISOR = "supervisor"
    POST_OFFICER = "post_officer"
    VIEWER = "viewer"


class Scope(StrEnum):
    """What an API token may do, on top of (never beyond) its user's role.

    ``FULL`` acts with the whole role of the user (the tokens of staff and services);
    ``POST`` acts only for the token's post: read the alerts addressed to it, acknowledge them and
    report sightings or searches for it.
    """

    FULL = "full"
    POST = "post"


@dataclass(frozen=True)
class Credential:
    """What authenticated the current unit of work: ``kind`` "token" or "session", the row's
    id, and who issued it (the token's issuer, or who set the password the session was opened
    with; None: the user themself or the local operator). Kept in ``Session.info["credential"]``
    by the request's authentication, read by the two-person rule."""

    kind: str
    id: str
    issued_by: str | None


class User(Base):
    """A person who works in bolo (staff, not a person of a case)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    # argon2id encoded hash; None = this user cannot log in with a password (token only).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    # base32 TOTP secret; None = no second factor enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    # The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    # Who created the account and who last set its password (None: the local operator at the
    # server's command line, or the user themself): the two-person rule refuses an approval
    # whose approver, or whose credential, comes from the alert's author.
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True, default=None)
    password_set_by: Mapped[str | None] = mapped_column(String(36), nullable=True, default=None)
    # The language the user reads the pages in ("ko", "en"); None: the browser's choice.
    language: Mapped[str | None] = mapped_column(String(35), nullable=True, default=None)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    scope: Mapped[str] = mapped_column(
        String(16), default=Scope.FULL.value, server_default=Scope.FULL.value
    )
    # For a POST-scoped token: the only post it may act for.
    post_id: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, default=None)
    # The user who issued the token (None: the local operator at the server's command line).
    issued_by: Mapped[str | None] = mapped_column(String(36), nullable=True, default=None)


class WebSession(Base):
    """A server-side browser session. The cookie holds a random secret; only its SHA-256 is here."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    # When the user last typed the password (and TOTP): approval needs a recent one.
    reauth_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, default=None)
    # Who set the password this session was opened with (``User.password_set_by`` at login).
    credential_by: Mapped[str | None] = mapped_column(String(36), nullable=True, default=None)


class LoginThrottle(Base):
    """Sign-in attempts of one key (a client address, or a signed-in user's step-ups) in the
    current window. Counted before the password is checked, so concurrent attempts cannot
    overtake the limit; a success gives its attempt back."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # No attempt of this key is checked before this time (the progressive delay).
    next_at: Mapped[datetime] = mapped_column(UtcDateTime())
