"""Case routes under /api/v1/cases (staff only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bolo.auth.deps import DB, CurrentUser, allow
from bolo.auth.model import Role, User
from bolo.auth.policy import STAFF_READERS, case_view
from bolo.auth.service import user_for_token
from bolo.auth.sessions import COOKIE_NAME, session_user
from bolo.cases import photos, service
from bolo.cases.model import Case, CaseState
from bolo.cases.picture import picture_answer
from bolo.cases.schemas import CaseCreate, CaseOut, CaseResolve, Hint
from bolo.errors import Unauthorized
from bolo.paging import Paging

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
media_router = APIRouter(tags=["public"])
STAFF = STAFF_READERS


class PhotoOut(BaseModel):
    """Where an uploaded photo is served, and the SHA-256 of the stored (cleaned) bytes."""

    photo_url: str
    sha256: str


class EvidenceOut(BaseModel):
    """A piece of evidence or case hint that moved a post's probability, as data
    (``bolo.search.explain.EvidenceRef``)."""

    kind: str = Field(
        description="sighting, vehicle_found, search, heading, destination, or named (known "
        "by its label alone)."
    )
    label: str = Field(description="The caller's own name for it ('' when none).")
    time: datetime | None = Field(description="When seen (sightings, found vehicles).")
    post_id: str | None = Field(description="The post that searched (search reports).")
    bearing_deg: float = Field(description="Heading tip: degrees clockwise from north.")
    lat: float = Field(description="Destination tip: latitude (WGS84 degrees).")
    lon: float = Field(description="Destination tip: longitude (WGS84 degrees).")
    weight: float = Field(description="Hints: how much it is believed (0-1).")
    change: float = Field(description="How much it moved the post's probability.")


class WhyOut(BaseModel):
    """Why the post has its rank, as a code and its numbers (``bolo.search.explain.Why``;
    probabilities 0-1, durations in seconds): what ``reason`` says in English, for a reader
    in another language."""

    code: str = Field(
        description="covers (placed by the passes it newly covers), ahead (by passes further "
        "ahead), radius or reachability (the baselines' rule)."
    )
    rank: int
    window_s: float = Field(description="The alert window (seconds).")
    new: float = Field(description="Passes within the window no post above catches.")
    alert_probability: float
    above: float = Field(description="How much of alert_probability the posts above catch.")
    hedge: float = Field(description="The reachability frontier's share of the gain.")
    gain: float
    later: float = Field(description="Delay-discounted passes further ahead.")
    horizon_s: float
    probability: float
    eta: datetime | None
    moved_by: list[tuple[str, float]] = Field(
        description="The evidence that moved it most: [English label, change] pairs."
    )
    radius_km: float
    evidence: list[EvidenceOut] = Field(
        default_factory=list, description="The same evidence as data, in the same order."
    )


class RankedPost(BaseModel):
    """One post the picture ranks: the chance the suspects pass it soon, when, and why."""

    post_id: str
    probability: float = Field(
        description="Chance the suspects pass the post within the picture's horizon (2 h)."
    )
    eta: datetime | None = Field(description="Expected time of the pass (null when unknown).")
    reason: str
    alert_probability: float | None = Field(
        default=None,
        description="Chance the suspects pass the post while it is alerted (the alert window).",
    )
    gain: float | None = Field(
        default=None,
        description="What the post adds to the chance of a catch over the posts ranked above "
        "it (never growing down the list; a later post may show a higher `probability`, most "
        "of it caught above).",
    )
    why: WhyOut | None = Field(
        default=None,
        description="The reason as a code and its numbers, for a reader in another language.",
    )


class PictureOut(BaseModel):
    """The case's search picture as the console shows it."""

    at: datetime = Field(description="The time the picture is drawn for.")
    posts: list[RankedPost] = Field(description="The posts to alert first, best first.")
    area: dict[str, Any] = Field(
        description="GeoJSON Feature (Polygon, lon/lat): where the "
        "suspects can be by `at` on the network."
    )
    regions: dict[str, Any] = Field(
        description="GeoJSON FeatureCollection: the 90% and 50% highest-probability regions "
        "of the picture (h3 resolution-7 cells merged into a MultiPolygon, lon/lat), widest "
        "first, each with `level`, `probability`, `cells` and `area_km2`."
    )


MAX_PICTURE_BUDGET = 1000


def _out(case: Case, user: User) -> CaseOut:
    """The case with its personal fields redacted for roles that may not see them."""
    return CaseOut.model_validate(case_view(CaseOut.model_validate(case).model_dump(), user))


@router.post("", response_model=CaseOut, status_code=201, dependencies=[allow(*service.EDITORS)])
def open_case(body: CaseCreate, db: DB, user: CurrentUser) -> CaseOut:
    """Open a case from a report."""
    case = service.open_case(db, data=body, actor=user)
    db.commit()
    return CaseOut.model_validate(case)


@router.get("", response_model=list[CaseOut], dependencies=[allow(*STAFF)])
def list_cases(
    db: DB,
    user: CurrentUser,
    page: Paging,
    request: Request,
    response: Response,
    state: CaseState | None = None,
) -> list[CaseOut]:
    """Cases, newest report first, a page at a time (``Link: <...>; rel="next"``)."""
    rows = service.list_cases(db, state=state, page=page, reader=user)
    return [_out(c, user) for c in service.CASE_ORDER.page(rows, page, request, response)]


@router.get("/{case_id}", response_model=CaseOut, dependencies=[allow(*STAFF)])
def get_case(case_id: str, db: DB, user: CurrentUser) -> CaseOut:
    """One case by id or reference."""
    return _out(service.get_case(db, case_id=case_id, reader=user), user)


@router.get("/{case_id}/picture", response_model=PictureOut, dependencies=[allow(*STAFF)])
def picture(
    case_id: str,
    db: DB,
    user: CurrentUser,
    budget: Annotated[
        int, Query(ge=1, le=MAX_PICTURE_BUDGET, description="How many posts to rank.")
    ] = 10,
) -> PictureOut:
    """The search picture now (at the resolution for a resolved case): the ``budget`` posts to
    alert first, with probability, expected time and reason, and the area the suspects can be
    in; the same picture the console shows. 410 Gone once the case was purged."""
    case = service.get_case(db, case_id=case_id, reader=user)
    service.require_picture(case)
    return PictureOut.model_validate(picture_answer(db, case, budget=budget))


@router.post("/{case_id}/hints", response_model=CaseOut, dependencies=[allow(*service.EDITORS)])
def add_hint(case_id: str, body: Hint, db: DB, user: CurrentUser) -> CaseOut:
    """Add a heading or destination hint."""
    case = service.add_hint(db, case_id=case_id, hint=body, actor=user)
    db.commit()
    return CaseOut.model_validate(case)


@router.post(
    "/{case_id}/resolve",
    response_model=CaseOut,
    dependencies=[allow(*service.CLOSERS)],
)
def resolve(case_id: str, body: CaseResolve, db: DB, user: CurrentUser) -> CaseOut:
    """Record the outcome (every alert must be down first)."""
    case = service.resolve_case(db, case_id=case_id, data=body, actor=user)
    db.commit()
    return CaseOut.model_validate(case)


@router.post(
    "/{case_id}/close",
    response_model=CaseOut,
    dependencies=[allow(*service.CLOSERS)],
)
def close(case_id: str, db: DB, user: CurrentUser) -> CaseOut:
    """Close a resolved case; the retention period starts."""
    case = service.close_case(db, case_id=case_id, actor=user)
    db.commit()
    return CaseOut.model_validate(case)


@router.post(
    "/{case_id}/children/{child_index}/photo",
    response_model=PhotoOut,
    status_code=201,
    dependencies=[allow(*service.EDITORS)],
)
def upload_child_photo(
    case_id: str, child_index: int, photo: UploadFile, db: DB, user: CurrentUser
) -> PhotoOut:
    """Upload a photo of a child of an open case (multipart field ``photo``: JPEG, PNG or WebP,
    at most 5 MiB); it is stored without metadata and becomes the child's ``photo_url``."""
    stored = photos.attach_child_photo(
        db, case_id=case_id, child_index=child_index, raw=photo.file.read(), actor=user
    )
    db.commit()
    return PhotoOut(photo_url=photos.photo_url(stored), sha256=stored.sha256)


def _reader_role(request: Request, db: DB) -> Role | None:
    """The role of the live token or web session the request carries, if any (no error
    otherwise: the media route answers everyone, signed-in users just see more)."""
    authorization = request.headers.get("authorization", "")
    try:
        if authorization.lower().startswith("bearer "):
            user = user_for_token(db, token=authorization.split(" ", 1)[1].strip())
        elif request.cookies.get(COOKIE_NAME):
            user = session_user(db, session_id=request.cookies[COOKIE_NAME])
        else:
            return None
    except Unauthorized:
        return None
    return Role(user.role)


@media_router.get(photos.MEDIA_PATH + "/{name}")
def case_photo(name: str, request: Request, db: DB) -> Response:
    """A child's photo: public while one of the case's Actual alerts is active, to post
    officers while any of its alerts is, to staff always."""
    role = _reader_role(request, db)
    photo = photos.photo_to_show(
        db, name=name, staff=role in (*STAFF, Role.ADMIN), post_officer=role == Role.POST_OFFICER
    )
    db.commit()  # a web session's last-used time
    return Response(photo.data, media_type=photo.mime_type)
