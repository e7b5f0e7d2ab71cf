"""Signing in to the web pages: the login page, logout, and the page dependencies.

Sessions, passwords, TOTP and CSRF are bolo.auth's (server-side sessions, argon2id, rate-limited
login). This module only puts forms in front of them. Console pages need a staff role; the post
page needs a user that belongs to a post.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bolo.auth.deps import (
    DB,
    CsrfChecked,
    WebUser,
    clear_session_cookie,
    same_origin,
    set_session_cookie,
    web_session_id,
)
from bolo.auth.login import TooManyAttempts, authenticate, login_slot
from bolo.auth.model import Role, User
from bolo.auth.policy import STAFF_READERS
from bolo.auth.service import require_role
from bolo.auth.sessions import create_session, csrf_token_for, end_session
from bolo.errors import BoloError, Forbidden
from bolo.web.forms import FormFields
from bolo.web.templating import page

router = APIRouter(include_in_schema=False)
STAFF = STAFF_READERS
Csrf = CsrfChecked


def _safe_next(target: str, user: User) -> str:
    # Only a path on this site: not "//host" nor "/\\host" (browsers read both as another host).
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return "/post" if user.role == Role.POST_OFFICER else "/console"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    """The sign-in page (username, password, and the one-time code when enrolled)."""
    return page(request, "login.html", {"next": next, "error": None})


@router.post("/login")
def login(request: Request, db: DB, form: FormFields) -> Response:
    """Check the credentials, start a server-side session and go where the user was heading.
    A form posted from another site is refused (login CSRF: it would sign the victim in to
    the attacker's account); so is a sign-in while all password checks are busy (429)."""
    client = request.client.host if request.client else ""
    next = form.get("next", "")
    if not same_origin(request):
        raise Forbidden("sign in from bolo's own sign-in page")
    try:
        with login_slot():
            user = authenticate(
                db,
                username=form.get("username", "").strip(),
                password=form.get("password", ""),
                totp_code=form.get("code", "").strip() or None,
                client=client,
            )
    except BoloError as exc:
        db.rollback()
        answer = page(request, "login.html", {"next": next, "error": exc.message}, exc.status)
        if isinstance(exc, TooManyAttempts):
            answer.headers["Retry-After"] = str(exc.retry_after_s)
        return answer
    session_id = create_session(db, user_id=user.id)
    db.commit()
    response = RedirectResponse(_safe_next(next, user), status_code=303)
    set_session_cookie(response, session_id)
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, db: DB) -> Response:
    """End the session and forget the cookie."""
    end_session(db, session_id=web_session_id(request))
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


def staff_user(user: WebUser) -> User:
    """The signed-in user, who must have a staff role (coordinator, approver, supervisor,
    viewer; admins pass) to use the console."""
    require_role(user, *STAFF)
    return user


PageUser = Annotated[User, Depends(staff_user)]


def post_officer(user: WebUser) -> User:
    """The signed-in user, who must be a post officer: the post page acts for one post."""
    if user.role != Role.POST_OFFICER:
        raise Forbidden("the post page is for post officers; staff use the console")
    return user


PostUser = Annotated[User, Depends(post_officer)]


def web_allow(*roles: Role) -> Any:
    """A console route dependency: the signed-in user must have one of ``roles`` (admins pass),
    checked before the form is read, exactly as the API's ``allow`` does for tokens."""

    def _check(user: WebUser) -> None:
        require_role(user, *roles)

    _check.__name__ = "web_allow_" + "_".join(r.value for r in roles)
    return Depends(_check)


def csrf_token(request: Request) -> str:
    """The CSRF token the forms of this signed-in browser send back (``csrf_token`` field)."""
    return csrf_token_for(web_session_id(request))


# Who may take each console action: the same roles the API and the services allow.
Coordinators = web_allow(Role.COORDINATOR)
Approvers = web_allow(Role.APPROVER, Role.COORDINATOR, Role.SUPERVISOR)
Managers = web_allow(Role.COORDINATOR, Role.SUPERVISOR)
