"""HTTP plumbing of the public tip intake: client address, limited body, forms, pages, errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from bolo import i18n
from bolo.cases.model import Case
from bolo.clock import now
from bolo.i18n import N_, zones
from bolo.problems import problem_response, validation_response
from bolo.reports import csrf
from bolo.reports.config import tip_settings
from bolo.reports.intake import explain
from bolo.reports.mapimage import pixel_to_lonlat
from bolo.reports.photo import MAX_PHOTO_BYTES, PhotoError
from bolo.store.db import session_scope

_TEMPLATES = i18n.install_jinja(
    Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
)
# The form's labels, to name a field in the list of problems.
FIELD_LABELS = {
    "what": N_("What did you see?"),
    "place": N_("Where?"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "seen_at": N_("When?"),
    "photo": N_("Photo"),
    "contact": N_("How can we reach you?"),
    "form": N_("Form"),
    "body": N_("Form"),
}
_FORM_FIELDS = 16
_CASE_TTL_S = 10.0
_cases: dict[str, tuple[str | None, float]] = {}


class BodyTooLarge(ValueError):
    """The request body is larger than allowed (413)."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")


def client_of(request: Request) -> str:
    """The client address: the peer, or the last untrusted X-Forwarded-For hop when the peer is
    a trusted proxy (the bolo server behind nginx on the same machine)."""
    # From the ASGI scope directly: asked on every public request, before the rate limit.
    client = request.scope.get("client")
    peer = str(client[0]) if client else "unknown"
    proxies = tip_settings().proxies()
    if peer not in proxies:
        return peer
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    forwarded = next((v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"), "")
    if not forwarded:
        return peer
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if hop not in proxies:
            return hop[:64]
    return peer


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (BodyTooLarge) as soon as more than ``limit`` bytes arrive."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette re-reads the cached body when parsing the form
    return body


async def parse_form(request: Request, body: bytes) -> tuple[dict[str, Any], bytes | None]:
    """Form fields as strings, with the map click turned into lat/lon and the ``tz`` choice
    appended to a zone-less ``seen_at``; plus the raw photo bytes, if one was sent."""
    del body  # already cached on the request by read_limited
    form = await request.form(max_files=1, max_fields=_FORM_FIELDS)
    values: dict[str, Any] = {}
    photo: bytes | None = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "photo":
                values[key] = "(file)"
                continue
            photo = await value.read(MAX_PHOTO_BYTES + 1) or None
            if photo is not None and len(photo) > MAX_PHOTO_BYTES:
                raise PhotoError(N_("photo is larger than 5 MiB"), 413)
        else:
            values[key] = value
    _map_click(values)
    zone = str(values.pop("tz", "") or "")
    seen = str(values.get("seen_at", "") or "")
    if zone and len(seen) == 16:
        values["seen_at"] = f"{seen}:00{zone}"
    elif zone and len(seen) == 19:
        values["seen_at"] = f"{seen}{zone}"
    return values, photo


def _map_click(values: dict[str, Any]) -> None:
    x, y = values.pop("map.x", None), values.pop("map.y", None)
    if x is None or y is None:
        return
    try:
        lon, lat = pixel_to_lonlat(float(x), float(y))
    except ValueError as exc:
        raise PhotoError(str(exc)) from exc
    values["lat"], values["lon"] = f"{lat:.5f}", f"{lon:.5f}"


def cached_case(case_id: str | None) -> bool | None:
    """Whether ``case_id`` names a case, from the few-seconds cache (None: not cached)."""
    if case_id is None:
        return True
    cached = _cases.get(case_id)
    if cached is not None and time.monotonic() - cached[1] < _CASE_TTL_S:
        return cached[0] is not None
    return None


def case_network(case_id: str | None) -> str | None:
    """The network of a case seen by ``known_case`` recently (None when unknown)."""
    cached = _cases.get(case_id) if case_id else None
    return cached[0] if cached else None


def known_case(case_id: str | None) -> bool:
    """True when ``case_id`` is None or names a case (asks the database, then caches the
    case's network for a few seconds)."""
    cached = cached_case(case_id)
    if cached is not None or case_id is None:
        return cached is not False
    with session_scope() as session:
        network = session.execute(select(Case.network).where(Case.id == case_id)).scalar()
    if len(_cases) > 10_000:
        _cases.clear()
    _cases[case_id] = (network, time.monotonic())
    return network is not None


def too_many(
    wait: float,
    *,
    html: bool = False,
    lang: str = i18n.DEFAULT,
) -> HTMLResponse | JSONResponse:
    """429 with Retry-After (seconds); the page in ``lang``."""
    headers = {"Retry-After": str(int(wait))}
    if html:
        with i18n.use(lang):
            page = _TEMPLATES.get_template("tip_busy.html").render(wait=int(wait))
        return HTMLResponse(page, 429, headers={**headers, "Content-Language": lang})
    message = f"too many tips right now: try again in {int(wait)} s"
    return problem_response(429, message, headers=headers)


def language(request: Request) -> str:
    """The language of the tip pages: ``?lang=``, then the browser's ``Accept-Language``."""
    return i18n.choose(
        request.query_params.get("lang"), accept_language=request.headers.get("accept-language")
    )


def json_error(
    status: int, message: str, extra: ValidationError | str | None = None
) -> JSONResponse:
    """A 4xx problem answer saying ``message``; for a ValidationError also the field
    ``errors`` and ``problems`` (``[{"field", "problem"}]``, worded for a tipster), for a
    duplicate tip the first one's ``receipt``."""
    if isinstance(extra, ValidationError):
        return validation_response(
            extra.errors(include_url=False), part="body", detail=message, problems=explain(extra)
        )
    if isinstance(extra, str):
        return problem_response(status, message, receipt=extra)
    return problem_response(status, message)


def form_page(
    values: dict[str, Any], errors: list[dict[str, str]], status: int, lang: str = i18n.DEFAULT
) -> HTMLResponse:
    """The tip form in ``lang`` (values re-filled, escaped) with a fresh CSRF token and
    cookie; the time zone of ``BOLO_TIMEZONE`` offered first."""
    token, nonce = csrf.issue()
    here = zones.offset_text(zones.local(now()))
    with i18n.use(lang):
        html = _TEMPLATES.get_template("tip_form.html").render(
            values=values,
            errors=errors,
            csrf_token=token,
            labels=FIELD_LABELS,
            zone_name=zones.zone().key,
            zone_offset=here,
            lang=lang,
        )
    response = HTMLResponse(html, status, headers={"Content-Language": lang})
    response.set_cookie(
        csrf.COOKIE, nonce, max_age=csrf.MAX_AGE_S, httponly=True, samesite="strict", path="/tips"
    )
    return response


def receipt_page(row: dict[str, Any], lang: str = i18n.DEFAULT) -> HTMLResponse:
    """The thank-you page with the receipt number (201), in ``lang``."""
    with i18n.use(lang):
        html = _TEMPLATES.get_template("tip_receipt.html").render(
            receipt=row["receipt"],
            what=row["text"],
            where=row["place_resolved"],
            case_id=row["case_id"],
            lang=lang,
        )
    return HTMLResponse(html, 201, headers={"Content-Language": lang})
