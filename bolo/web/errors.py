"""Errors on the web pages answer an HTML page a person can read, not the API's JSON.

The API, the feeds, CAP files and static files keep their machine-readable answers. A browser
asking for a page (``Accept: text/html``) gets the page; so does any refusal under the console,
the post page and the account pages unless the client asks for JSON by name (a form post sent
with ``Accept: */*`` or no Accept at all is still a person at a browser). The page is in the
signed-in user's language when the refusal came after the session was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import Request
from fastapi.responses import HTMLResponse

from bolo.auth.deps import wants_html
from bolo.i18n import N_
from bolo.web.templating import page, page_language

MACHINE_PREFIXES = ("/api/", "/static/", "/feed/", "/docs", "/redoc", "/openapi", "/healthz")
MACHINE_SUFFIXES = (".cap", ".json", ".atom", ".rss", ".xml", ".geojson", ".png")
# The pages people use: a refusal here is an HTML page unless the client asks for JSON.
PAGE_PREFIXES = ("/console", "/post", "/account", "/login", "/logout")
_TITLES = {
    400: N_("This request cannot be read"),
    401: N_("Please sign in"),
    403: N_("You may not do this"),
    404: N_("There is nothing here"),
    405: N_("This page cannot be used that way"),
    409: N_("This cannot be done now"),
    410: N_("This is gone"),
    413: N_("This is too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many requests: please wait a moment"),
}


def wants_page(request: Request) -> bool:
    """True when a browser asked for one of the HTML pages (not the API or a feed)."""
    path = request.url.path
    if path.startswith(MACHINE_PREFIXES) or path.endswith(MACHINE_SUFFIXES):
        return False
    if wants_html(request):
        return True
    on_pages = any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)
    return on_pages and "json" not in request.headers.get("accept", "").lower()


def _home_of(path: str) -> tuple[str, str]:
    if path.startswith("/console"):
        return "/console", N_("Back to the console")
    if path.startswith("/post"):
        return "/post", N_("Back to the post page")
    return "/alerts", N_("See the active alerts")


def error_page(
    request: Request, *, status: int, message: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """The error page for ``status`` with ``message`` (shown escaped) and a way back."""
    home, home_label = _home_of(request.url.path)
    title = _TITLES.get(status) or HTTPStatus(status).phrase
    response = page(
        request,
        "error.html",
        {
            "status": status,
            "title": title,
            "message": message,
            "home": home,
            "home_label": home_label,
        },
        status,
        lang=page_language(request, None, getattr(request.state, "user_language", None)),
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
