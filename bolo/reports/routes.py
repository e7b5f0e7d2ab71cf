"""Report routes under /api/v1 (staff and posts, authenticated) and the public tip intake.

``router`` needs a bearer token; ``public_router`` (the tip form and the public JSON endpoint,
defined in ``bolo.reports.public``) needs none.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from bolo.auth.deps import DB, CurrentUser, allow
from bolo.auth.model import Role, User
from bolo.auth.policy import STAFF_READERS
from bolo.cases.schemas import CaseFilter
from bolo.dispatch.keys import signing_keys
from bolo.dispatch.model import PostKey
from bolo.dispatch.signing import WebhookVerificationError, verify
from bolo.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from bolo.paging import Paging, link_next
from bolo.reports import service
from bolo.reports.decisions import DECIDERS, REPORT_ORDER
from bolo.reports.geocode import default_gazetteer
from bolo.reports.intake import ReportKind, ReportState, SearchReportIn, SightingIn, summary
from bolo.reports.intake import explain as explain_errors
from bolo.reports.model import Report
from bolo.reports.public import public_router
from bolo.reports.schemas import PlaceOut, QueueOut, ReportOut, TriageIn
from bolo.security.jsonparse import load_json

router = APIRouter(prefix="/api/v1", tags=["reports"])
REPORTERS = (Role.POST_OFFICER, Role.SUPERVISOR, Role.COORDINATOR)
STAFF = [allow(*STAFF_READERS)]

__all__ = ["public_router", "router"]


def _own_post(user: User, post_id: str) -> None:
    if user.role == Role.POST_OFFICER and user.post_id != post_id:
        raise Forbidden(f"you report for post {user.post_id!r}, not {post_id!r}")


@router.get("/reports", response_model=list[ReportOut], dependencies=STAFF)
def list_reports(
    db: DB,
    user: CurrentUser,
    page: Paging,
    request: Request,
    response: Response,
    case_id: CaseFilter = None,
    state: ReportState | None = None,
    kind: ReportKind | None = None,
) -> list[ReportOut]:
    """Reports, newest first, a page at a time (``Link: <...>; rel="next"``)."""
    rows = service.list_reports(db, case_id=case_id, state=state, kind=kind, page=page, reader=user)
    return [ReportOut.model_validate(r) for r in REPORT_ORDER.page(rows, page, request, response)]


@router.get("/reports/queue", response_model=list[QueueOut], dependencies=STAFF)
def queue(
    request: Request,
    response: Response,
    db: DB,
    user: CurrentUser,
    page: Paging,
    case_id: CaseFilter = None,
    after: Annotated[
        str | None,
        Query(max_length=200, description="Where the page starts, as `X-Next-After` gives it."),
    ] = None,
) -> list[QueueOut]:
    """The triage queue: new reports, de-duplicated into clusters, most credible first, a page
    at a time (``Link: <...>; rel="next"``; the same position is in ``X-Next-After``, for
    ``?after=``)."""
    token = page.cursor or after
    found = service.triage_page(
        db,
        case_id=case_id,
        reader=user,
        limit=page.limit,
        after=service.Cursor.decode(token) if token else None,
    )
    if found.next_after is not None:
        cursor = found.next_after.encode()
        response.headers["X-Next-After"] = cursor
        link_next(request, response, page.limit, cursor, drop=("after",))
    return [
        QueueOut(report=ReportOut.model_validate(e.report), cluster_size=e.cluster_size)
        for e in found.entries
    ]


@router.get("/reports/evidence", response_model=list[dict[str, Any]], dependencies=STAFF)
def evidence(db: DB, user: CurrentUser, case_id: str) -> list[dict[str, Any]]:
    """Search-picture evidence of a case from its credible and confirmed reports."""
    return service.evidence_for_case(db, case_id=case_id)


@router.get("/reports/{report_id}", response_model=ReportOut, dependencies=STAFF)
def get_report(report_id: str, db: DB, user: CurrentUser) -> ReportOut:
    """One report, by id or receipt number."""
    return ReportOut.model_validate(service.get_report(db, report_id=report_id, reader=user))


@router.post(
    "/reports/{report_id}/triage", response_model=ReportOut, dependencies=[allow(*DECIDERS)]
)
def triage(report_id: str, body: TriageIn, db: DB, user: CurrentUser) -> ReportOut:
    """Decide on a report: credible, dismissed or confirmed, with the reason."""
    report = service.triage_report(
        db, report_id=report_id, state=body.state, reason=body.reason, actor=user
    )
    db.commit()
    return ReportOut.model_validate(report)


@router.post(
    "/reports/sightings",
    response_model=ReportOut,
    status_code=201,
    dependencies=[allow(*REPORTERS)],
)
def post_sighting(body: SightingIn, db: DB, user: CurrentUser) -> ReportOut:
    """A post reports a sighting or interception (enters as credible)."""
    _own_post(user, body.post_id)
    report = service.submit_sighting(db, **body.model_dump(), actor_id=user.id, via="api")
    db.commit()
    return ReportOut.model_validate(report)


@router.post(
    "/reports/searches", response_model=ReportOut, status_code=201, dependencies=[allow(*REPORTERS)]
)
def post_search(body: SearchReportIn, db: DB, user: CurrentUser) -> ReportOut:
    """A post reports what it searched, when, and the result (negative evidence)."""
    _own_post(user, body.post_id)
    report = service.submit_search_report(db, **body.model_dump(), actor_id=user.id, via="api")
    db.commit()
    return ReportOut.model_validate(report)


@router.post("/reports/webhook-reply/{post_id}", response_model=ReportOut, status_code=201)
async def webhook_reply(post_id: str, request: Request, db: DB) -> ReportOut:
    """A post's reply to an alert webhook, signed like our webhooks (Standard Webhooks, the
    post's secret): ``{"kind": "sighting", ...SightingIn}`` or ``{"kind": "search", ...}``."""
    body = await request.body()
    if len(body) > 64 * 1024:
        raise InvalidInput("the reply is larger than 64 KiB")
    keys = signing_keys(db.get(PostKey, post_id))
    if not keys:
        raise NotFound(f"no post {post_id!r} with a webhook secret")
    try:
        verify(body, request.headers, keys)
    except WebhookVerificationError as exc:
        raise Unauthorized(f"webhook signature: {exc}") from exc
    return _reply_report(db, post_id, body)


def _reply_report(db: DB, post_id: str, body: bytes) -> ReportOut:
    try:
        data = load_json(body)
    except ValueError as exc:
        raise InvalidInput(f"the reply is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput("the reply must be a JSON object")
    kind = data.pop("kind", None)
    data["post_id"] = post_id
    report: Report
    try:
        if kind == ReportKind.SIGHTING:
            sighting = SightingIn.model_validate(data)
            report = service.submit_sighting(db, **sighting.model_dump(), via="webhook")
        elif kind == ReportKind.SEARCH:
            search = SearchReportIn.model_validate(data)
            report = service.submit_search_report(db, **search.model_dump(), via="webhook")
        else:
            raise InvalidInput("kind: must be 'sighting' or 'search'")
    except ValidationError as exc:
        raise InvalidInput(summary(explain_errors(exc))) from exc
    db.commit()
    return ReportOut.model_validate(report)


@router.get(
    "/geocode", response_model=PlaceOut, dependencies=[allow(*STAFF_READERS, Role.POST_OFFICER)]
)
def geocode(user: CurrentUser, q: Annotated[str, Query(min_length=1, max_length=200)]) -> PlaceOut:
    """A place name (any romanisation, or Hangul) to coordinates, offline."""
    match = default_gazetteer().geocode(q)
    if match is None:
        raise NotFound(f"no place matches {q!r}")
    p = match.place
    return PlaceOut(
        name=p.name,
        lat=p.lat,
        lon=p.lon,
        radius_m=p.radius_m,
        how=match.how,
        alternatives=[a.name for a in match.alternatives],
    )


@router.get(
    "/geocode/reverse",
    response_model=PlaceOut,
    dependencies=[allow(*STAFF_READERS, Role.POST_OFFICER)],
)
def reverse(
    user: CurrentUser,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> PlaceOut:
    """The nearest known place to a point, described as 'N km <direction> of <place>'."""
    near = default_gazetteer().reverse(lat, lon)
    if near is None:
        raise NotFound("the gazetteer is empty")
    p = near.place
    return PlaceOut(
        name=p.name,
        lat=p.lat,
        lon=p.lon,
        radius_m=near.distance_m,
        how="reverse",
        description=near.describe(),
    )
