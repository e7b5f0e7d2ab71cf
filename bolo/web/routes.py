"""Every web page's routes in one router for bolo.api to include, and the static assets.

Include it AFTER bolo.alerts.public_routes: ``/alerts/{id}.cap`` must match before the HTML
page ``/alerts/{id}``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from bolo.errors import NotFound
from bolo.web import (
    account,
    alerting,
    auth,
    boards,
    casework,
    console,
    console_posts,
    events,
    external,
    language,
    post_page,
    poster,
    public,
    reviews,
    updating,
    users,
)
from bolo.web.templating import STATIC_DIR

router = APIRouter(include_in_schema=False)
for _part in (
    auth.router,
    console.router,
    alerting.router,
    updating.router,
    reviews.router,
    casework.router,
    boards.router,
    external.router,
    console_posts.router,
    post_page.router,
    poster.router,
    public.router,
    events.router,
    users.router,
    account.router,
    language.router,
):
    router.include_router(_part)


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    """A packaged static asset (CSS, JavaScript, vendored Leaflet); never outside the folder."""
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        raise NotFound(f"no static file {path}")
    return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.ico")
def favicon() -> Response:
    """The icon browsers ask for on every site (a 32x32 PNG, which they all accept here)."""
    return FileResponse(
        STATIC_DIR / "img" / "favicon.png",
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/")
def root() -> Response:
    """The front page is the public list of alerts."""
    return RedirectResponse("/alerts", status_code=307)
