"""FastAPI dependencies: a database session per request, the calling user (API token or web
session), the strict input check of every route, and CSRF protection for web forms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Header, HTTPException, Request, Response
from sqlalchemy.orm import Session

from bolo.auth.model import Credential, Role, User
from bolo.auth.scopes import check_token_route
from bolo.auth.service import require_role, token_for_secret, user_for_token
from bolo.auth.sessions import (
    ABSOLUTE_TIMEOUT,
    COOKIE_NAME,
    CSRF_FIELD,
    CSRF_HEADER,
    check_csrf,
    session_user,
)
from bolo.errors import Forbidden, Unauthorized
from bolo.security.strictjson import body_annotation, check_request
from bolo.settings import get_settings
from bolo.store.db import session_scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def db_session() -> Iterator[Session]:
    """A session for one request; routes that write call ``commit()`` before answering."""
    with session_scope() as session:
        yield session


DB = Annotated[Session, Depends(db_session)]


def current_user(
    request: Request, db: DB, authorization: Annotated[str | None, Header()] = None
) -> User:
    """The user of the ``Authorization: Bearer <token>`` header, or 401. A post-scoped token is
    refused (403) on every route not opened to post tokens (default deny)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send an API token: 'Authorization: Bearer <token>'")
    secret = authorization.split(" ", 1)[1].strip()
    user = user_for_token(db, token=secret)
    token = token_for_secret(db, token=secret)
    db.info["credential"] = Credential("token", token.id, token.issued_by)
    check_token_route(token, request)
    request.state.token_post_id = token.post_id
    # FastAPI has read the body before resolving dependencies; Starlette keeps it on _body.
    check_request(request, getattr(request, "_body", None))
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def needs_token(route: Any) -> bool:
    """True when the route (or one of its dependencies) resolves the bearer-token user."""
    pending = [getattr(route, "dependant", None)]
    while pending:
        current = pending.pop()
        if current is None:
            continue
        if getattr(current, "call", None) is current_user:
            return True
        pending.extend(getattr(current, "dependencies", []))
    return False


async def strict_json_body(request: Request) -> None:
    """App-wide dependency: the strict input check (``bolo.security.strictjson``) for routes
    that need no token; the others are checked by ``current_user`` once the caller is known."""
    route = request.scope.get("route")
    if needs_token(route):
        return
    body = await request.body() if body_annotation(route) else None
    check_request(request, body)


def web_session_id(request: Request) -> str:
    """The session id from the cookie ('' when there is none)."""
    return request.cookies.get(COOKIE_NAME, "")


WebSessionId = Annotated[str, Depends(web_session_id)]


def wants_html(request: Request) -> bool:
    """True when the client's ``Accept`` header names ``text/html`` (a browser navigating).

    The one test of the header: ``bolo.web.errors.wants_page`` builds on it (web imports auth,
    never the reverse), adding that API, feed and file paths always keep their machine answers.
    """
    return "text/html" in request.headers.get("accept", "")


def web_user(request: Request, db: DB, session_id: WebSessionId) -> User:
    """The user of the session cookie. Without a live session: a browser asking for HTML is sent
    to ``/login?next=<path>`` (303); any other caller gets 401. The user's language is kept on
    ``request.state.user_language`` for an error page answering the request."""
    try:
        user = session_user(db, session_id=session_id)
    except Unauthorized:
        if wants_html(request):
            target = quote(request.url.path, safe="/")
            raise HTTPException(
                status_code=303,
                detail="log in first",
                headers={"Location": f"/login?next={target}"},
            ) from None
        raise
    # An error page answering this request is in the user's language (bolo.web.errors).
    request.state.user_language = user.language
    return user


WebUser = Annotated[User, Depends(web_user)]


def same_origin(request: Request) -> bool:
    """False when the request's ``Origin`` (or ``Referer``) names another site than the
    ``Host`` it was sent to; True when it names ours or neither is sent."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        # Browsers send Origin on every cross-site POST; its absence means an old browser on a
        # same-site form, or a non-browser client: the CSRF token still has to match.
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def require_csrf(request: Request) -> None:
    """For unsafe methods (POST, PUT, PATCH, DELETE): the request must come from our own origin
    and carry the session's CSRF token in the ``X-CSRF-Token`` header or the ``csrf_token`` form
    field; otherwise 403. Safe methods pass."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        raise Forbidden("cross-origin request refused")
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    check_csrf(request.cookies.get(COOKIE_NAME, ""), token)


CsrfChecked = Depends(require_csrf)


def set_session_cookie(response: Response, session_id: str) -> None:
    """Put the session id in an HttpOnly, SameSite=Lax cookie (Secure when bolo is served over
    https, as ``BOLO_PUBLIC_BASE_URL`` says)."""
    secure = get_settings().public_base_url.startswith("https://")
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    """Remove the session cookie from the browser (logout)."""
    response.delete_cookie(COOKIE_NAME, path="/")


def allow(*roles: Role) -> Any:
    """A route dependency (``dependencies=[allow(Role.COORDINATOR)]``): the bearer token's user
    must have one of ``roles`` (admins pass). It runs before the body is validated, so a caller
    without the role learns nothing about the route's input."""

    def _check(user: CurrentUser) -> None:
        require_role(user, *roles)

    _check.__name__ = "allow_" + "_".join(r.value for r in roles)
    return Depends(_check)
