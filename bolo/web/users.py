"""The admins' users page: list accounts; add, disable, enable, reset a password, end sessions,
issue a token, remove one-time codes.

Every action goes through ``bolo.auth`` with the signed-in admin as the actor, so the audit log
and the two-person rule know who created an account, set a password or issued a token. A new
token is shown once, in the answer to the form that issued it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from bolo.auth import accounts
from bolo.auth.deps import DB
from bolo.auth.model import Role, User
from bolo.auth.service import create_user, get_user, issue_token, set_password
from bolo.errors import BoloError, InvalidInput
from bolo.web.auth import Csrf, PageUser, csrf_token, web_allow
from bolo.web.forms import FormFields
from bolo.web.templating import page

router = APIRouter(prefix="/console/users", include_in_schema=False)
Admins = web_allow(Role.ADMIN)
ADMIN_ONLY = [Admins]
ADMIN_FORM = [Admins, Csrf]


def _render(
    request: Request,
    db: Session,
    user: User,
    *,
    done: str = "",
    error: str = "",
    token: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "console/users.html",
        {
            "user": user,
            "csrf": csrf_token(request),
            "users": accounts.list_users(db, actor=user),
            "roles": [r.value for r in Role],
            "done": done,
            "error": error,
            "token": token,
            "values": values or {},
        },
        status,
    )


@router.get("", response_class=HTMLResponse, dependencies=ADMIN_ONLY)
def users_page(request: Request, db: DB, user: PageUser) -> Response:
    """Every account with its role, post, state, one-time codes and live tokens."""
    return _render(request, db, user)


def _act(
    request: Request,
    db: Session,
    user: User,
    action: Callable[[], str],
    values: dict[str, str] | None = None,
    issued: dict[str, str] | None = None,
) -> Response:
    """Run one admin action; its message (or the refusal) is shown on the users page, with the
    token it issued (``issued["token"]``), once."""
    try:
        message = action()
    except BoloError as exc:
        db.rollback()
        return _render(request, db, user, error=exc.message, values=values, status=exc.status)
    db.commit()
    return _render(request, db, user, done=message, token=(issued or {}).get("token", ""))


@router.post("", dependencies=ADMIN_FORM)
def add_user(request: Request, db: DB, user: PageUser, form: FormFields) -> Response:
    """Create an account (with a password, when one is given; a token when asked)."""
    values = {k: form.get(k, "").strip() for k in ("username", "role", "post_id")}
    issued: dict[str, str] = {}

    def add() -> str:
        if values["role"] not in {r.value for r in Role}:
            raise InvalidInput(f"unknown role {values['role']!r}")
        made = create_user(
            db,
            username=values["username"],
            role=Role(values["role"]),
            post_id=values["post_id"] or None,
            password=form.get("password") or None,
            actor=user,
        )
        if form.get("token"):
            issued["token"] = issue_token(
                db, user_id=made.id, label=f"issued by {user.id}", actor=user
            )
        return f"{made.username} ({made.role}) created"

    return _act(request, db, user, add, values, issued)


@router.post("/{user_id}/disable", dependencies=ADMIN_FORM)
def disable(user_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Disable an account: its sessions and tokens end at once."""

    def act() -> str:
        accounts.disable_user(db, user_id=user_id, actor=user)
        return f"{get_user(db, user_id=user_id).username} disabled; sessions and tokens ended"

    return _act(request, db, user, act)


@router.post("/{user_id}/enable", dependencies=ADMIN_FORM)
def enable(user_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Let a disabled account sign in again."""

    def act() -> str:
        accounts.enable_user(db, user_id=user_id, actor=user)
        return f"{get_user(db, user_id=user_id).username} enabled"

    return _act(request, db, user, act)


@router.post("/{user_id}/password", dependencies=ADMIN_FORM)
def reset_password(
    user_id: str, request: Request, db: DB, user: PageUser, form: FormFields
) -> Response:
    """Set a new password (the user's sessions end); tell the user, who should change it."""

    def act() -> str:
        set_password(db, user_id=user_id, password=form.get("password", ""), actor=user)
        return f"password of {get_user(db, user_id=user_id).username} set; sessions ended"

    return _act(request, db, user, act)


@router.post("/{user_id}/sessions/end", dependencies=ADMIN_FORM)
def end_sessions(user_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Sign the user out everywhere now."""

    def act() -> str:
        ended = accounts.end_sessions(db, user_id=user_id, actor=user)
        return f"{ended} session(s) of {get_user(db, user_id=user_id).username} ended"

    return _act(request, db, user, act)


@router.post("/{user_id}/totp/remove", dependencies=ADMIN_FORM)
def remove_totp(user_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Remove a user's one-time codes (a lost phone); they enrol again from their account."""

    def act() -> str:
        accounts.remove_totp(db, user_id=user_id, actor=user)
        return f"one-time codes of {get_user(db, user_id=user_id).username} removed"

    return _act(request, db, user, act)


@router.post("/{user_id}/tokens", dependencies=ADMIN_FORM)
def add_token(user_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Issue an API token for the user; it is shown once, on the answer to this form."""
    issued: dict[str, str] = {}

    def act() -> str:
        issued["token"] = issue_token(db, user_id=user_id, label=f"issued by {user.id}", actor=user)
        return f"token issued for {get_user(db, user_id=user_id).username}"

    return _act(request, db, user, act, issued=issued)
