"""The public tip intake: an HTML form that works without JavaScript, and a JSON endpoint.

No login. Each request passes the rate limits (per client and overall; 429 with Retry-After)
before its body is read; bodies and photos are size-limited (413); the JSON endpoint takes only
``application/json`` (415) and the form only with a valid CSRF token (403). Tips are committed in
batches by ``TipWriter``; a 2xx answer means the tip is stored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import weakref
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from bolo.auth.login import client_key
from bolo.errors import BoloError, InvalidInput
from bolo.reports import csrf
from bolo.reports.config import tip_settings
from bolo.reports.direct_route import DirectRoute
from bolo.reports.geocode import built_gazetteer
from bolo.reports.intake import TipApiIn, TipIn, explain, form_to_dict
from bolo.reports.mapimage import map_png
from bolo.reports.photo import CleanPhoto, PhotoError, clean_photo_bounded
from bolo.reports.pipeline import TipWriter
from bolo.reports.publichttp import (
    BodyTooLarge,
    cached_case,
    case_network,
    client_of,
    form_page,
    json_error,
    known_case,
    language,
    parse_form,
    read_limited,
    receipt_page,
    too_many,
)
from bolo.reports.ratelimit import RateLimiter
from bolo.reports.service import save_photo, tip_row

public_router = APIRouter(tags=["public tips"])
_state: dict[str, Any] = {}


def limiter() -> RateLimiter:
    """The process-wide tip rate limiter, built from ``TipSettings`` on first use."""
    if "limiter" not in _state:
        s = tip_settings()
        _state["limiter"] = RateLimiter(
            per_client_rate=s.per_client_per_minute / 60.0,
            per_client_burst=s.per_client_burst,
            overall_rate=s.overall_per_second,
            overall_burst=s.overall_burst,
        )
    result: RateLimiter = _state["limiter"]
    return result


def writer() -> TipWriter:
    """The batching tip writer of the running event loop (one per loop: its futures and
    flusher task belong to that loop)."""
    loop = asyncio.get_running_loop()
    last: tuple[asyncio.AbstractEventLoop, TipWriter] | None = _state.get("last_writer")
    if last is not None and last[0] is loop:
        return last[1]
    writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TipWriter] = _state.setdefault(
        "writers", weakref.WeakKeyDictionary()
    )
    if loop not in writers:
        writers[loop] = TipWriter(batch_max=tip_settings().batch_max)
    _state["last_writer"] = (loop, writers[loop])
    return writers[loop]


def reset_public_state() -> None:
    """Forget the limiter and writer (tests change settings and engines)."""
    _state.clear()
    tip_settings.cache_clear()
    csrf.reset_secret()


async def _store(tip: TipIn, photo: CleanPhoto | None, via: str) -> dict[str, Any]:
    known = cached_case(tip.case_id)
    if known is None:
        known = await run_in_threadpool(known_case, tip.case_id)
    if not known:
        raise InvalidInput(f"case_id: no case {tip.case_id!r}")
    network = case_network(tip.case_id)
    gazetteer = built_gazetteer(network)
    if gazetteer is None or (tip.place and not gazetteer.quick(tip.place)):
        # Loading a country's gazetteer or searching it for near spellings takes milliseconds:
        # never on the event loop, which serves every other tip meanwhile.
        row = await run_in_threadpool(tip_row, tip, photo=photo, via=via, network=network)
    else:
        row = tip_row(tip, photo=photo, via=via, network=network)
    if row["lat"] is None and not tip.place:
        raise InvalidInput("say where: the photo holds no position; give a place or lat and lon")
    if photo is not None:
        row["photo_path"] = await run_in_threadpool(save_photo, photo)
    await writer().submit(row, tip.contact)
    return row


_TIP_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": TipApiIn.model_json_schema(ref_template="#/$defs/{model}")
            }
        },
    }
}


async def post_tip_json(request: Request) -> Response:
    """Receive a tip as JSON (no login). 201 with the receipt number when stored."""
    wait = limiter().acquire(client_key(client_of(request)))
    if wait:
        return too_many(wait)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        return json_error(415, "send the tip as application/json")
    try:
        body = await read_limited(request, tip_settings().max_upload_bytes)
        # Only a photo may make a tip big: refuse a large body without one before parsing it.
        if len(body) > tip_settings().max_json_bytes and b'"photo_base64"' not in body:
            raise BodyTooLarge(tip_settings().max_json_bytes)
        tip = TipApiIn.model_validate_json(body, strict=True)
        photo = await _decode_photo(tip.photo_base64)
        row = await _store(tip, photo, "api")
    except ValidationError as exc:
        return json_error(422, "the tip is not valid", exc)
    except (BodyTooLarge, PhotoError, BoloError) as exc:
        return json_error(exc.status, str(exc), getattr(exc, "receipt", None))
    # pydantic_core's encoder: the same JSON as JSONResponse, for a fraction of its CPU.
    return Response(
        to_json(
            {
                "receipt": row["receipt"],
                "id": row["id"],
                "state": row["state"].value,
                "place": row["place_resolved"] or None,
                "lat": row["lat"],
                "lon": row["lon"],
                "radius_m": row["radius_m"],
            }
        ),
        201,
        media_type="application/json",
    )


# The surge path: DirectRoute calls the endpoint without FastAPI's parameter machinery.
public_router.add_api_route(
    "/api/v1/public/tips",
    post_tip_json,
    methods=["POST"],
    status_code=201,
    openapi_extra=_TIP_SCHEMA,
    route_class_override=DirectRoute,
    responses={201: {"description": "Stored; the body has the receipt."}},
)


async def _decode_photo(data: str | None) -> CleanPhoto | None:
    if data is None:
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PhotoError("photo_base64 is not valid base64") from exc
    return await clean_photo_bounded(raw)


@public_router.get("/tips/new", response_class=HTMLResponse, include_in_schema=False)
async def tip_form(request: Request, case: str | None = None) -> Response:
    """The tip form (plain HTML, no JavaScript needed), with a fresh CSRF token."""
    return form_page({"case_id": case} if case else {}, [], 200, language(request))


@public_router.get("/tips/map.png", include_in_schema=False)
async def tip_map() -> Response:
    """The clickable map of the form."""
    return Response(
        map_png(), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )


@public_router.post("/tips/new", response_class=HTMLResponse, include_in_schema=False)
async def post_tip_form(request: Request) -> Response:
    """Receive the form (urlencoded or multipart). A receipt page, or the form again with
    every problem listed (4xx)."""
    lang = language(request)
    wait = limiter().acquire(client_key(client_of(request)))
    if wait:
        return too_many(wait, html=True, lang=lang)
    values: dict[str, Any] = {}
    try:
        body = await read_limited(request, tip_settings().max_upload_bytes)
        values, photo_raw = await parse_form(request, body)
        csrf.check(values.pop(csrf.FIELD, None), request.cookies.get(csrf.COOKIE))
        tip = TipIn.model_validate(form_to_dict(values), context={"photo": bool(photo_raw)})
        photo = await clean_photo_bounded(photo_raw) if photo_raw else None
        row = await _store(tip, photo, "web")
    except csrf.CsrfError as exc:
        return form_page(values, [{"field": "form", "problem": str(exc)}], 403, lang)
    except ValidationError as exc:
        return form_page(values, explain(exc), 422, lang)
    except (BodyTooLarge, PhotoError, BoloError) as exc:
        return form_page(values, [{"field": "form", "problem": str(exc)}], exc.status, lang)
    return receipt_page(row, lang)
