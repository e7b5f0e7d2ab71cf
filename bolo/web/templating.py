"""The Jinja2 environment of the web pages, its filters, and the static files mount."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bolo import i18n
from bolo.clock import now
from bolo.i18n import _, zones
from bolo.web.rank_words import iso_when, rank_reason
from bolo.web.words import interface_languages, word

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
i18n.install_jinja(templates.env)


def _ago(value: datetime | None) -> str:
    if value is None:
        return _("never")
    seconds = (now() - value).total_seconds()
    if seconds < 0:
        return _("in the future")
    if seconds >= 86400:
        return _("%(n)d d ago") % {"n": seconds // 86400}
    if seconds >= 3600:
        return _("%(n)d h ago") % {"n": seconds // 3600}
    if seconds >= 60:
        return _("%(n)d min ago") % {"n": seconds // 60}
    return _("%(n)d s ago") % {"n": seconds}


def _media_path(url: str) -> str:
    # Our own media as a path, so the console shows it whatever address it is reached at.
    marker = "/media/case-photos/"
    return url[url.index(marker) :] if marker in url else url


templates.env.filters["when"] = zones.show
templates.env.filters["word"] = word
templates.env.globals["languages"] = interface_languages
templates.env.globals["time_zone"] = lambda: zones.zone().key  # the forms' zone, for labels
templates.env.filters["local_input"] = zones.form_value
templates.env.filters["media_path"] = _media_path
templates.env.filters["ago"] = _ago
templates.env.filters["rank_reason"] = rank_reason
templates.env.filters["iso_when"] = iso_when


def static_files() -> StaticFiles:
    """The package's static assets (CSS, JavaScript, vendored Leaflet), to mount at /static."""
    return StaticFiles(directory=str(STATIC_DIR))


# With "no-referrer" (the app-wide default) Chromium sends "Origin: null" on form posts, which
# the CSRF origin check must refuse; "same-origin" sends our own origin and nothing elsewhere.
PAGE_HEADERS = {"Referrer-Policy": "same-origin"}


def page_language(request: Request, user: Any = None, *more: str | None) -> str:
    """The language of a page: the signed-in user's setting, then ``more`` (a post's language),
    then ``?lang=``, then the browser's ``Accept-Language``."""
    return i18n.choose(
        getattr(user, "language", None),
        *more,
        request.query_params.get("lang"),
        accept_language=request.headers.get("accept-language"),
    )


def page(
    request: Request, name: str, context: dict[str, Any], status: int = 200, lang: str | None = None
) -> HTMLResponse:
    """Render the template ``name`` with ``context`` in ``lang`` (by default the language
    ``page_language`` picks for the context's ``user``); the request is passed to the template."""
    chosen = lang or page_language(request, context.get("user"))
    with i18n.use(chosen):
        response = templates.TemplateResponse(
            request,
            name,
            context,
            status_code=status,
            headers={**PAGE_HEADERS, "Content-Language": chosen},
        )
    response.headers.append("Vary", "Accept-Language")
    return response
