"""Dispatch routes under /api/v1/dispatch: acknowledgements, heartbeats, delivery status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select

from bolo.alerts.service import get_version
from bolo.auth.deps import DB, CurrentUser, allow
from bolo.auth.model import Role
from bolo.auth.policy import STAFF_READERS, require_post_access
from bolo.dispatch.acks import AckVia, acknowledge, acknowledge_by_link
from bolo.dispatch.heartbeat import heartbeat_board, record_heartbeat
from bolo.dispatch.model import Delivery
from bolo.errors import InvalidInput
from bolo.paging import Keyset, Paging
from bolo.posts.model import Post
from bolo.security.jsonparse import load_json
from bolo.web.templating import page, page_language

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])
POST_ROLES = (Role.POST_OFFICER, Role.COORDINATOR, Role.SUPERVISOR)


class AckOut(BaseModel):
    """An accepted acknowledgement."""

    ack_id: str
    version_id: str
    post_id: str
    by: str
    at: datetime


@router.get("/ack/{delivery_id}", response_class=HTMLResponse)
def ack_form(
    delivery_id: str, request: Request, db: DB, t: Annotated[str, Query(max_length=64)]
) -> Response:
    """The page behind the ack link, in the post's language: asks who is acknowledging
    (nothing is recorded yet). The form sends the token in its body, so the acknowledging
    request's URL does not carry it."""
    delivery = db.get(Delivery, delivery_id[:64])
    post = db.get(Post, delivery.post_id) if delivery else None
    lang = page_language(request, None, post.language if post else None)
    return page(request, "public/ack.html", {"delivery_id": delivery_id, "token": t}, lang=lang)


async def _ack_fields(request: Request) -> dict[str, Any]:
    """The form fields or JSON object of an ack POST; InvalidInput (422) when the body cannot
    be read (malformed JSON, not an object)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = load_json(await request.body())
        except ValueError:
            raise InvalidInput("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidInput('the body must be a JSON object: {"by": "<your name>"}')
        return data
    return dict(await request.form())


@router.post("/ack/{delivery_id}", response_model=AckOut)
async def ack_by_link(
    delivery_id: str,
    db: DB,
    request: Request,
    t: Annotated[str | None, Query(max_length=64)] = None,
) -> AckOut:
    """Acknowledge through the signed link of a delivery, by a named person (form field
    ``by``, or JSON ``{"by": ...}``); the link's token ``t`` in the query or the body."""
    # The body is read here rather than declared, so the app-wide strict-JSON check does not
    # consume the form first.
    fields = await _ack_fields(request)
    by, token = fields.get("by", ""), t if t is not None else fields.get("t", "")
    if (
        not isinstance(by, str)
        or not isinstance(token, str)
        or len(token) > 64
        or "\x00" in by + token
    ):
        raise InvalidInput(
            "'by' (the name) and 't' (the link's token) must be short strings "
            "without NUL characters"
        )
    ack = acknowledge_by_link(db, delivery_id=delivery_id, token=token, by=by[:200])
    db.commit()
    return AckOut(
        ack_id=ack.id, version_id=ack.version_id, post_id=ack.post_id, by=ack.by_name, at=ack.at
    )


@router.post(
    "/versions/{version_id}/posts/{post_id}/ack",
    response_model=AckOut,
    dependencies=[allow(*POST_ROLES)],
)
def ack_by_api(version_id: str, post_id: str, db: DB, user: CurrentUser) -> AckOut:
    """Acknowledge for a post as the logged-in user (a post officer only for their post)."""
    require_post_access(user, post_id)
    ack = acknowledge(db, version_id=version_id, post_id=post_id, by=user.username, via=AckVia.API)
    db.commit()
    return AckOut(ack_id=ack.id, version_id=version_id, post_id=post_id, by=ack.by_name, at=ack.at)


@router.post("/posts/{post_id}/heartbeat", dependencies=[allow(*POST_ROLES)])
def heartbeat(post_id: str, db: DB, user: CurrentUser) -> dict[str, str]:
    """A post checks in."""
    require_post_access(user, post_id)
    at = record_heartbeat(db, post_id=post_id)
    db.commit()
    return {"post_id": post_id, "at": at.isoformat()}


@router.get("/heartbeats", dependencies=[allow(*STAFF_READERS)])
def heartbeats(db: DB) -> list[dict[str, Any]]:
    """Every active post's heartbeat state (ok / slow / expired), worst first."""
    return [
        {
            "post_id": b.post_id,
            "name": b.name,
            "state": b.state,
            "last": b.last.isoformat() if b.last else None,
        }
        for b in heartbeat_board(db)
    ]


# A version's deliveries by post and channel (unique per version).
DELIVERY_ORDER = Keyset((Delivery.post_id, Delivery.channel_index), descending=False)


@router.get("/versions/{version_id}/deliveries", dependencies=[allow(*STAFF_READERS)])
def deliveries(
    version_id: str, db: DB, paging: Paging, request: Request, response: Response
) -> list[dict[str, Any]]:
    """Each delivery of a version, by post and channel, a page at a time (``Link: <...>;
    rel="next"``): delivered and acknowledged shown apart."""
    get_version(db, version_id=version_id)  # 404 for an unknown version, not an empty list
    stmt = select(Delivery).where(Delivery.version_id == version_id)
    found = list(db.scalars(DELIVERY_ORDER.apply(stmt, paging)))
    rows = DELIVERY_ORDER.page(found, paging, request, response)
    return [
        {
            "id": d.id,
            "post_id": d.post_id,
            "channel": d.channel_kind,
            "phase": d.phase,
            "status": d.status,
            "attempts": d.attempts,
            "last_error": d.last_error,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "acknowledged_at": d.acknowledged_at.isoformat() if d.acknowledged_at else None,
            "acknowledged_by": d.acknowledged_by,
            "escalation_step": d.escalation_step,
        }
        for d in rows
    ]
