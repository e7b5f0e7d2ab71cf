"""Your own account, for every signed-in user: change the password, enrol one-time codes.

Enrolment shows the secret as an inline SVG QR code (made here with segno: no script, nothing
loaded from elsewhere) and takes effect only once the user typed a code from the phone, with the
current password (and the current code when re-enrolling), so a borrowed session cannot
silently take over the second factor.
"""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from bolo.auth import accounts
from bolo.auth.deps import DB, WebUser, clear_session_cookie
from bolo.auth.login import check_reauth
from bolo.auth.model import Role, User
from bolo.auth.service import set_password
from bolo.auth.totp import provisioning_uri
from bolo.errors import BoloError, InvalidInput, Unauthorized
from bolo.web.auth import Csrf, csrf_token
from bolo.web.forms import FormFields
from bolo.web.templating import page

router = APIRouter(prefix="/account", include_in_schema=False)


def qr_svg(text: str) -> Markup:
    """``text`` as an inline SVG QR code (black on white, 5 px modules)."""
    svg = segno.make(text, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title="QR code for your authenticator app"
    )
    return Markup(svg)


def _refused(request: Request, user: User, exc: BoloError, secret: str = "") -> Response:
    # A wrong current password is a mistake in the form, not a lost session: 422, not 401.
    status = 422 if isinstance(exc, Unauthorized) else exc.status
    return _render(request, user, error=exc.message, secret=secret, status=status)


def _render(
    request: Request,
    user: User,
    *,
    error: str = "",
    done: str = "",
    secret: str = "",
    status: int = 200,
) -> Response:
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "error": error,
        "done": done,
        "home": "/post" if user.role == Role.POST_OFFICER else "/console",
        "secret": secret,
        "qr": None,
    }
    if secret:
        context["qr"] = qr_svg(provisioning_uri(secret, username=user.username))
    return page(request, "account.html", context, status)


@router.get("", response_class=HTMLResponse)
def account(request: Request, user: WebUser) -> Response:
    """The account page: password and one-time codes."""
    return _render(request, user)


@router.post("/password", dependencies=[Csrf])
def change_password(request: Request, db: DB, user: WebUser, form: FormFields) -> Response:
    """Change your own password (the current one first); every session ends, so sign in again."""
    try:
        if form.get("new_password", "") != form.get("repeat", ""):
            raise InvalidInput("the two new passwords differ")
        check_reauth(
            db,
            user=user,
            password=form.get("password", ""),
            totp_code=form.get("code", "").strip() or None,
        )
        set_password(db, user_id=user.id, password=form.get("new_password", ""), actor=user)
    except BoloError as exc:
        db.rollback()
        return _refused(request, user, exc)
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/totp", response_class=HTMLResponse)
def totp_form(request: Request, user: WebUser) -> Response:
    """A new secret as a QR code, and the form that confirms it with a code from the phone."""
    return _render(request, user, secret=accounts.new_totp_secret())


@router.post("/totp", dependencies=[Csrf])
def totp_confirm(request: Request, db: DB, user: WebUser, form: FormFields) -> Response:
    """Enrol the shown secret once a code of it and the current password check out."""
    # A damaged form gets a fresh secret to scan, never its own text back in the QR code.
    secret = form.get("secret", "")
    if not accounts.is_totp_secret(secret):
        secret = accounts.new_totp_secret()
    try:
        _confirm(db, user, form)
    except BoloError as exc:
        db.rollback()
        return _refused(request, user, exc, secret)
    db.commit()
    return _render(
        request,
        user,
        done="One-time codes are on: sign-ins and approvals now ask for a code from your phone.",
    )


def _confirm(db: Session, user: User, form: dict[str, str]) -> None:
    check_reauth(
        db,
        user=user,
        password=form.get("password", ""),
        totp_code=form.get("current_code", "").strip() or None,
    )
    accounts.confirm_totp(db, user=user, secret=form.get("secret", ""), code=form.get("code", ""))
