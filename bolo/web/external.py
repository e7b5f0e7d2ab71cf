"""Console: other agencies' CAP alerts in force (list and map, each marked with its sender), and
linking one to a case in one step."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bolo.alerts.external import ExternalAlert, active_external_alerts, link_to_case
from bolo.auth.deps import DB
from bolo.cap import model as cap
from bolo.cap.codec import decode
from bolo.cap.errors import CapRefused
from bolo.cases.model import CaseState
from bolo.cases.service import list_cases
from bolo.web.auth import Coordinators, Csrf, PageUser
from bolo.web.console import base_context
from bolo.web.forms import FormFields
from bolo.web.templating import page, page_language
from bolo.web.words import info_for, infos_first

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/external", response_class=HTMLResponse)
def external_alerts(request: Request, db: DB, user: PageUser) -> Response:
    """Imported alerts in force, newest first, with the open cases to link them to."""
    rows = active_external_alerts()
    cases = {c.id: c for c in list_cases(db, reader=user)}
    open_cases = [c for c in cases.values() if c.state == CaseState.OPEN]
    lang = page_language(request, user)
    headlines = {row.id: headline(row, lang) for row in rows}
    return page(
        request,
        "console/external.html",
        base_context(
            request, user, rows=rows, headlines=headlines, cases=cases, open_cases=open_cases
        ),
    )


def _message(row: ExternalAlert) -> cap.Alert | None:
    """The stored CAP message of an imported alert (None when it no longer decodes)."""
    try:
        return decode(row.xml.encode("utf-8"))
    except CapRefused:
        return None


def _headline(row: ExternalAlert, message: cap.Alert | None, lang: str | None) -> str:
    if message is not None and message.infos:
        info = info_for(message.infos, lang)
        if info.headline or info.event:
            return info.headline or info.event
    return row.headline or row.event


def headline(row: ExternalAlert, lang: str | None) -> str:
    """What an imported alert says, in language ``lang`` when the message has an ``info`` in
    it (primary tag match: "ko" finds "ko-KR"), else its first ``info``'s: headline, else
    event."""
    return _headline(row, _message(row), lang)


def features(row: ExternalAlert, lang: str | None = None) -> list[dict[str, Any]]:
    """GeoJSON features (lon, lat order) of one imported alert's polygons and circle centres
    (radius in metres), each naming the alert and its sender: the areas of every ``info``
    block, each shape once (named as the ``info`` in ``lang`` names it, else the first)."""
    message = _message(row)
    if message is None:
        return []
    props = {
        "id": row.id,
        "sender": row.shown_sender,
        "headline": _headline(row, message, lang),
        "child_abduction": row.child_abduction,
    }
    out: list[dict[str, Any]] = []
    seen: set[object] = set()
    for info in infos_first(message.infos, lang):
        for area in info.areas:
            for ring in area.polygons:
                shape = tuple(ring)
                if len(ring) >= 4 and shape not in seen:
                    seen.add(shape)
                    coords = [[lon, lat] for lat, lon in ring]
                    out.append(
                        {
                            "type": "Feature",
                            "properties": {**props, "area": area.description},
                            "geometry": {"type": "Polygon", "coordinates": [coords]},
                        }
                    )
            for circle in area.circles:
                if (key := (circle.lat, circle.lon, circle.radius_km)) in seen:
                    continue
                seen.add(key)
                out.append(
                    {
                        "type": "Feature",
                        "properties": {
                            **props,
                            "area": area.description,
                            "radius_m": circle.radius_km * 1000,
                        },
                        "geometry": {"type": "Point", "coordinates": [circle.lon, circle.lat]},
                    }
                )
    return out


@router.get("/external/map.json")
def external_map(request: Request, user: PageUser) -> JSONResponse:
    """The areas of the imported alerts in force, as one GeoJSON FeatureCollection (texts in
    the reader's language when a message has it)."""
    lang = page_language(request, user)
    found = [f for row in active_external_alerts() for f in features(row, lang)]
    return JSONResponse({"type": "FeatureCollection", "features": found})


@router.post("/external/{external_id}/link", dependencies=[Coordinators, Csrf])
def link(external_id: str, db: DB, user: PageUser, form: FormFields) -> Response:
    """Link an imported alert to a case (an empty case unlinks it)."""
    case_id = form.get("case_id", "").strip() or None
    link_to_case(db, external_id=external_id, case_id=case_id, actor_id=user.id)
    db.commit()
    return RedirectResponse("/console/external", status_code=303)
