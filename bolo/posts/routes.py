"""Post routes under /api/v1/posts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Row, select

from bolo.alerts.model import Alert, AlertTarget, AlertVersion
from bolo.auth.deps import DB, CurrentUser, allow
from bolo.auth.model import Role, User
from bolo.auth.policy import STAFF_READERS, require_post_access
from bolo.errors import InvalidInput
from bolo.paging import Keyset, Paging
from bolo.posts import service
from bolo.posts.model import Post
from bolo.posts.schemas import PostIn, PostOut
from bolo.problems import problem_response

router = APIRouter(prefix="/api/v1/posts", tags=["posts"])
READERS = STAFF_READERS
MANAGERS = service.MANAGERS


def _out(post: Post, user: User) -> PostOut:
    """A post without its channels' secrets; channel URLs (which may embed tokens) only for the
    roles that manage posts."""
    manager = user.role in {Role.ADMIN, *MANAGERS}
    channels = [
        {
            "kind": c.get("kind"),
            "url": c.get("url") if manager else "[restricted]",
            "has_secret": bool(c.get("secret")),
        }
        for c in post.channels
    ]
    out = PostOut.model_validate(post)
    return out.model_copy(update={"channels": channels})


@router.get("", response_model=list[PostOut], dependencies=[allow(*READERS)])
def list_posts(
    db: DB, user: CurrentUser, page: Paging, request: Request, response: Response
) -> list[PostOut]:
    """Every active post, by id, a page at a time (``Link: <...>; rel="next"``)."""
    rows = service.list_posts(db, page=page)
    return [_out(p, user) for p in service.POST_ORDER.page(rows, page, request, response)]


class ImportOut(BaseModel):
    """What an import stored."""

    network: str
    format: str
    posts: int = Field(description="Posts in the file.")
    created: int
    updated: int


IMPORT_TYPES = {
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "application/x-jsonlines": "jsonl",
}


@router.post(
    "/import",
    response_model=ImportOut,
    dependencies=[allow(*service.IMPORTERS)],
    responses={
        422: {
            "description": "Problems of the file, each with its line, "
            'column and why: `{"detail", "problems": [{"line", '
            '"column", "why"}]}`; nothing was imported.'
        }
    },
)
def import_posts(
    request: Request,
    db: DB,
    user: CurrentUser,
    body: Annotated[
        bytes,
        Body(
            media_type="text/csv",
            description=(
                "The posts file as `bolo post import` reads it: CSV (Content-Type text/csv) "
                "or JSON lines (application/x-ndjson), UTF-8."
            ),
        ),
    ],
    network: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_.-]+$",
            description="Network to snap the posts to.",
        ),
    ],
    file_format: Annotated[
        Literal["csv", "jsonl"] | None,
        Query(alias="format", description="Default: from the Content-Type, else the content."),
    ] = None,
) -> ImportOut | Response:
    """Import the organisation's posts (admins): each snapped to the nearest node of its mode
    on ``network`` within 2 km; all or nothing."""
    from bolo.network import NetworkNotFound, load
    from bolo.posts.files import PostImportError, detect_format, read_posts

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the file is not UTF-8 text (byte {exc.start})") from None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = file_format or IMPORT_TYPES.get(content_type) or detect_format("", text)
    try:
        net = load(network)
    except NetworkNotFound as exc:
        raise InvalidInput(str(exc)) from None
    try:
        rows, problems = read_posts(text, net, source="the file", fmt=fmt)
        counts = service.import_posts(
            db,
            rows=rows,
            network=network,
            source="the file",
            problems=problems,
            actor=user,
            word="column" if fmt == "csv" else "field",
        )
    except PostImportError as exc:
        db.rollback()
        return problem_response(422, exc.message, problems=[p.as_dict() for p in exc.problems])
    db.commit()
    return ImportOut(network=network, format=fmt, **counts)


@router.get("/{post_id}", response_model=PostOut, dependencies=[allow(*READERS)])
def get_post(post_id: str, db: DB, user: CurrentUser) -> PostOut:
    """One post."""
    return _out(service.get_post(db, post_id=post_id), user)


@router.put("/{post_id}", response_model=PostOut, dependencies=[allow(*MANAGERS)])
def put_post(post_id: str, body: PostIn, db: DB, user: CurrentUser) -> PostOut:
    """Create or update a post (its id in the path and body must agree)."""
    if body.id != post_id:
        raise InvalidInput(f"the body's id {body.id!r} differs from the path's {post_id!r}")
    post = service.upsert_post(db, data=body, actor=user)
    db.commit()
    return _out(post, user)


class PostAlertOut(BaseModel):
    """An issued alert version addressed to a post (what the post must act on)."""

    alert_id: str
    version_id: str
    identifier: str
    msg_type: str
    alert_state: str
    sent: datetime
    issued_at: datetime | None
    sha256: str


# A post's issued versions, newest issue first.
ISSUED_ORDER = Keyset((AlertVersion.issued_at, AlertVersion.id))


def _issued_key(row: Row[AlertVersion, Alert]) -> tuple[datetime, str]:
    version = row[0]
    assert version.issued_at is not None  # only issued versions are listed
    return version.issued_at, version.id


@router.get(
    "/{post_id}/alerts",
    response_model=list[PostAlertOut],
    dependencies=[allow(Role.POST_OFFICER, *MANAGERS)],
)
def post_alerts(
    post_id: str, db: DB, user: CurrentUser, page: Paging, request: Request, response: Response
) -> list[PostAlertOut]:
    """The issued versions addressed to this post, newest first, a page at a time (``Link:
    <...>; rel="next"``): a post officer sees only those of their own post; the public fields
    only."""
    require_post_access(user, post_id)
    service.get_post(db, post_id=post_id)
    stmt = (
        select(AlertVersion, Alert)
        .join(AlertTarget, AlertTarget.version_id == AlertVersion.id)
        .join(Alert, Alert.id == AlertVersion.alert_id)
        .where(AlertTarget.post_id == post_id, AlertVersion.issued_at.is_not(None))
    )
    rows = ISSUED_ORDER.page(
        db.execute(ISSUED_ORDER.apply(stmt, page)).all(), page, request, response, key=_issued_key
    )
    return [
        PostAlertOut(
            alert_id=a.id,
            version_id=v.id,
            identifier=v.identifier,
            msg_type=v.msg_type,
            alert_state=a.state,
            sent=v.sent,
            issued_at=v.issued_at,
            sha256=v.sha256,
        )
        for v, a in rows
    ]
