"""The Jinja2 environment of the web pages, its filters, and the static files mount."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bolo.clock import now

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if value is None:
        return "-"
    return value.astimezone().strftime(fmt) if value.tzinfo is None else value.strftime(fmt)


def _ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = (now() - value).total_seconds()
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"


def _media_path(url: str) -> str:
    # Our own media as a path, so the console shows it whatever address it is reached at.
    marker = "/media/case-photos/"
    return url[url.index(marker):] if marker in url else url


templates.env.filters["when"] = _when
templates.env.filters["media_path"] = _media_path
templates.env.filters["ago"] = _ago


def static_files() -> StaticFiles:
    """The package's static assets (CSS, JavaScript, vendored Leaflet), to mount at /static."""
    return StaticFiles(directory=str(STATIC_DIR))


# With "no-referrer" (the app-wide default) Chromium sends "Origin: null" on form posts, which
# the CSRF origin check must refuse; "same-origin" sends our own origin and nothing elsewhere.
PAGE_HEADERS = {"Referrer-Policy": "same-origin"}


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render the template ``name`` with ``context``; the request is passed to the template."""
    return templates.TemplateResponse(request, name, context, status_code=status,
                                      headers=PAGE_HEADERS)
