"""The printable poster of a live alert: ``/alerts/{id}/poster`` (HTML, A4 print stylesheet)
and ``/alerts/{id}/poster.pdf`` (the same page printed by headless Chromium).

What the public may see, and only that: the newest issued CAP message of an ``Actual`` alert
while it is active (headline, photo, description, what to do, area, contact) with QR codes to
the public page and to the tip form, in the chosen language (``?lang=``, ``Accept-Language``).
Anything else is a 404.
"""

from __future__ import annotations

import base64
import os
import threading
from functools import lru_cache

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bolo.alerts import service
from bolo.alerts.model import Alert, CapStatus
from bolo.auth.deps import DB
from bolo.cap import model as cap
from bolo.cases.photos import photo_to_show
from bolo.errors import BoloError, NotFound
from bolo.i18n import N_
from bolo.settings import get_settings
from bolo.web.public import PublicAlert, public_alert
from bolo.web.templating import page, page_language
from bolo.web.words import interface_languages

router = APIRouter(include_in_schema=False)
CHROMIUM = os.environ.get("BOLO_CHROMIUM", "/usr/bin/chromium")
_MEDIA = "/media/case-photos/"
_PRINTING = threading.BoundedSemaphore(2)  # Chromium instances at once; more wait


class PrintUnavailable(BoloError):
    """Headless Chromium (or Playwright) is not installed here: the PDF cannot be printed."""

    status = 503


def _live(db: DB, alert_id: str) -> PublicAlert:
    alert = db.get(Alert, alert_id)
    if alert is not None and alert.cap_status == CapStatus.ACTUAL:
        service.require_unpurged(db, alert)
    shown = public_alert(db, alert) if alert and alert.cap_status == CapStatus.ACTUAL else None
    if shown is None or shown.ended:
        raise NotFound(N_("there is no poster for this alert: it is not a live public alert"))
    return shown


def qr_svg(url: str) -> str:
    """An inline SVG QR code (error correction M) of ``url``."""
    return str(segno.make(url, error="m").svg_inline(scale=4, border=2, title=url))


def _photo_data(db: DB, resource: cap.Resource) -> str | None:
    # As a data: URI, so the printed page needs no request back to the server.
    uri = resource.uri or ""
    if _MEDIA not in uri:
        return None
    try:
        photo = photo_to_show(db, name=uri[uri.index(_MEDIA) + len(_MEDIA) :], staff=False)
    except BoloError:
        return None
    return f"data:{photo.mime_type};base64,{base64.b64encode(photo.data).decode()}"


def _context(db: DB, shown: PublicAlert, lang: str) -> dict[str, object]:
    info = shown.info(lang)
    base = get_settings().public_base_url.rstrip("/")
    public_url = f"{base}/alerts/{shown.alert.id}?lang={lang}"
    tip_url = f"{base}/tips/new?case={shown.alert.case_id}&lang={lang}"
    photos = [
        p
        for r in info.resources
        if (r.mime_type or "").startswith("image/")
        if (p := _photo_data(db, r))
    ]
    return {
        "p": shown,
        "info": info,
        "photos": photos,
        "public_url": public_url,
        "tip_url": tip_url,
        "public_qr": qr_svg(public_url),
        "tip_qr": qr_svg(tip_url),
        "interface_languages": interface_languages(),
    }


@router.get("/alerts/{alert_id}/poster", response_class=HTMLResponse)
def poster(alert_id: str, request: Request, db: DB) -> Response:
    """The poster as a page (print it from the browser: A4, no margins to set)."""
    shown = _live(db, alert_id)
    lang = page_language(request)
    return page(request, "public/poster.html", _context(db, shown, lang), lang=lang)


@router.get("/alerts/{alert_id}/poster.pdf")
def poster_pdf(alert_id: str, request: Request, db: DB) -> Response:
    """The poster as an A4 PDF, printed by headless Chromium (cached per message and language)."""
    shown = _live(db, alert_id)
    lang = page_language(request)
    html = page(request, "public/poster.html", _context(db, shown, lang), lang=lang).body
    pdf = _print(bytes(html))
    name = f"bolo-poster-{alert_id[:8]}-{lang}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Content-Language": lang,
            "Cache-Control": "no-store",
        },
    )


@lru_cache(maxsize=32)
def _print(html: bytes) -> bytes:
    """``html`` printed to an A4 PDF by headless Chromium; PrintUnavailable without it."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        raise PrintUnavailable("printing needs Playwright (pip install playwright)") from exc
    if not os.path.exists(CHROMIUM):
        raise PrintUnavailable(f"printing needs Chromium at {CHROMIUM} (apt install chromium)")
    with _PRINTING, sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
        except Error as exc:
            raise PrintUnavailable(f"Chromium did not start: {exc}") from exc
        try:
            page_ = browser.new_page()
            # Nothing leaves the machine: the page is self-contained (inline CSS, QR, photo).
            page_.route("**/*", lambda route: route.abort())
            page_.set_content(html.decode("utf-8"), wait_until="load")
            return bytes(page_.pdf(format="A4", print_background=True, prefer_css_page_size=True))
        finally:
            browser.close()
