"""Coordinator console: sign-in, the case list, opening a case, the case page and its map."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile as StarletteUploadFile

from bolo.alerts.model import Alert, AlertState, AlertVersion, VersionState, in_force_at
from bolo.auth.deps import DB
from bolo.auth.model import Role, User
from bolo.auth.policy import REDACTED, can_see_personal, case_view
from bolo.cases.model import Case, CaseState, Outcome
from bolo.cases.photos import attach_child_photo
from bolo.cases.schemas import CaseCreate
from bolo.cases.service import CLOSERS, EDITORS, get_case, list_cases, open_case, require_picture
from bolo.clock import now
from bolo.errors import InvalidInput
from bolo.i18n import zones
from bolo.network import default_network
from bolo.posts.service import list_posts
from bolo.reports.service import list_reports
from bolo.web import mapdata
from bolo.web.auth import Coordinators, Csrf, PageUser, csrf_token
from bolo.web.forms import FormFields, case_form_data, checked_form
from bolo.web.pictures import (
    cached,
    cells_of,
    evidence_of,
    layer_key,
    network_of,
    picture_network,
    picture_time,
    region_features,
)
from bolo.web.templating import page, page_language
from bolo.web.timeline import case_timeline

router = APIRouter(prefix="/console", include_in_schema=False)
CASE_OPENERS = EDITORS
CASE_MANAGERS = CLOSERS


def base_context(request: Request, user: Any, **extra: Any) -> dict[str, Any]:
    """What every console template needs: the user, the CSRF token, the current time."""
    return {"user": user, "csrf": csrf_token(request), "now": now(), **extra}


@router.get("", response_class=HTMLResponse)
def home(request: Request, db: DB, user: PageUser) -> Response:
    """Open cases, alerts waiting for approval and live alerts."""
    alerts = list(
        db.scalars(
            select(Alert)
            .where(
                Alert.state.in_([AlertState.PENDING_APPROVAL, AlertState.ACTIVE, AlertState.DRAFT])
            )
            .order_by(Alert.created_at.desc())
        )
    )
    cases = {c.id: c for c in list_cases(db, reader=user)}
    returned = list(
        db.scalars(
            select(AlertVersion).where(
                AlertVersion.state == VersionState.DRAFT, AlertVersion.rejection_reason.is_not(None)
            )
        )
    )
    return page(
        request,
        "console/home.html",
        base_context(
            request,
            user,
            cases=list(cases.values()),
            alerts=alerts,
            case_of=cases,
            returned=returned,
            alert_of={a.id: a for a in alerts},
        ),
    )


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, user: PageUser) -> Response:
    """The form to open a case."""
    start = now().replace(second=0, microsecond=0)
    values = {
        "time_earliest": zones.form_value(start - timedelta(hours=3)),
        "time_latest": zones.form_value(start - timedelta(hours=1)),
        "network": default_network(),
    }
    return page(
        request, "console/case_new.html", base_context(request, user, values=values, errors=[])
    )


@router.post("/cases", dependencies=[Coordinators, Csrf])
def create_case(request: Request, db: DB, user: PageUser, values: FormFields) -> Response:
    """Open a case from the form; the form again with the problems when it is incomplete."""
    try:
        data = CaseCreate.model_validate(case_form_data(values))
        case = open_case(db, data=data, actor=user)
    except (ValidationError, InvalidInput) as exc:
        errors = (
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            if isinstance(exc, ValidationError)
            else [exc.message]
        )
        return page(
            request,
            "console/case_new.html",
            base_context(request, user, values=values, errors=errors),
            422,
        )
    db.commit()
    return RedirectResponse(f"/console/cases/{case.id}", status_code=303)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """A case: details, photos, its alerts, the map and one timeline of everything."""
    return render_case_page(case_id, request, db, user)


def render_case_page(
    case_id: str,
    request: Request,
    db: DB,
    user: User,
    errors: list[str] | None = None,
    status: int = 422,
    values: dict[str, str] | None = None,
) -> Response:
    """The case page; with ``errors`` (answered with ``status``) when one of its forms was
    refused, the form's ``values`` kept."""
    case = get_case(db, case_id=case_id, reader=user)
    alerts = list(
        db.scalars(select(Alert).where(Alert.case_id == case.id).order_by(Alert.created_at))
    )
    network = network_of(db, case)
    people = people_view(case, user)
    return page(
        request,
        "console/case.html",
        base_context(
            request,
            user,
            case=case,
            alerts=alerts,
            people=people,
            timeline=case_timeline(db, case, people["hints"]),
            attribution=network.attribution,
            open=case.state == CaseState.OPEN,
            may_edit=user.role in (*CASE_OPENERS, Role.ADMIN),
            may_manage=user.role in (*CASE_MANAGERS, Role.ADMIN),
            outcomes=list(Outcome),
            errors=errors or [],
            values=values or {},
            seen_default=zones.form_value(now()),
            picture_at=picture_time(case),
            purged=case.state == CaseState.PURGED,
        ),
        status if errors else 200,
    )


def people_view(case: Case, user: User) -> dict[str, Any]:
    """The case's personal fields as ``user`` may see them (``case_view``), and its hints,
    whose free text (a tipster's words, a destination) is kept from the same roles."""
    view = case_view(
        {
            "children": case.children,
            "suspects": case.suspects,
            "vehicles": case.vehicles,
            "narrative": case.narrative,
        },
        user,
    )
    hidden = not can_see_personal(user)
    view["hints"] = [
        {**h, "text": REDACTED if hidden and h.get("text") else h.get("text", "")}
        for h in case.hints
    ]
    return view


@router.post("/cases/{case_id}/photo", dependencies=[Coordinators, Csrf])
async def upload_photo(case_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Attach the uploaded photo to a child of the case, then show the case again."""
    form = await checked_form(request)
    upload, index = form.get("photo"), str(form.get("child_index", ""))
    if not isinstance(upload, StarletteUploadFile) or not (index.isascii() and index.isdigit()):
        raise InvalidInput("choose a photo file and the child it shows")
    attach_child_photo(
        db, case_id=case_id, child_index=int(index), raw=await upload.read(), actor=user
    )
    db.commit()
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.get("/cases/{case_id}/map.json")
def case_map(case_id: str, request: Request, db: DB, user: PageUser) -> JSONResponse:
    """Every map layer of a case as GeoJSON (outline, network, posts, heat, the 90% and 50%
    regions, isochrones, reports; labels and the posts' and reports' words in the reader's
    language)."""
    case = get_case(db, case_id=case_id, reader=user)
    require_picture(case)
    lang = page_language(request, user)
    network, version = picture_network(db, case)
    evidence = evidence_of(db, case)
    at = picture_time(case)
    live = [
        a.id for a in db.scalars(select(Alert).where(Alert.case_id == case.id, in_force_at(now())))
    ]
    targeted, acked = _targets_and_acks(db, live)
    cells = cells_of(db, case)
    layers = {
        "outline": mapdata.outline(case.network),
        "network": cached(
            ("net", network.name, network.source_sha256), lambda: mapdata.network_lines(network)
        ),
        "posts": mapdata.post_points(
            list_posts(db), targeted=targeted, acknowledged=acked, lang=lang
        ),
        "heat": cached(
            layer_key(case, "heat", evidence, version),
            lambda: mapdata.heat_cells(cells.probability),
        ),
        "regions": region_features(cells),
        "isochrones": cached(
            layer_key(case, f"iso-{lang}", evidence, version),
            lambda: mapdata.isochrones(case, network, at=at, lang=lang),
        ),
        "reports": mapdata.report_points(
            list_reports(db, case_id=case.id, limit=500, reader=user), lang=lang
        ),
        "last_known": {
            "lat": case.last_known_lat,
            "lon": case.last_known_lon,
            "place": case.last_known_place,
        },
        "attribution": network.attribution,
        "at": at.isoformat(),
    }
    return JSONResponse(layers)


def _targets_and_acks(db: DB, alert_ids: list[str]) -> tuple[set[str], set[str]]:
    from bolo.alerts.service import latest_issued, targets_of
    from bolo.dispatch.model import Acknowledgement

    targeted: set[str] = set()
    for alert_id in alert_ids:
        version = latest_issued(db, alert_id=alert_id)
        if version is not None:
            targeted.update(targets_of(db, version_id=version.id))
    acked = (
        set(
            db.scalars(
                select(Acknowledgement.post_id).where(Acknowledgement.alert_id.in_(alert_ids))
            )
        )
        if alert_ids
        else set()
    )
    return targeted, acked
