"""The post page, built for a phone: current alerts with photo and what to look for,
acknowledge, report a sighting or a search."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from bolo.alerts.model import Alert, AlertState, AlertTarget, AlertVersion
from bolo.alerts.service import latest_issued
from bolo.auth.deps import DB
from bolo.auth.model import User
from bolo.cap import model as cap
from bolo.cap.codec import decode
from bolo.cases.model import Case
from bolo.clock import now
from bolo.dispatch.acks import AckRefused, AckVia, acknowledge
from bolo.dispatch.heartbeat import record_heartbeat
from bolo.dispatch.model import Acknowledgement
from bolo.errors import BoloError, Forbidden
from bolo.i18n import N_, zones
from bolo.posts.model import Post
from bolo.posts.service import get_post
from bolo.reports.intake import SearchResult, explain, summary
from bolo.reports.service import submit_search_report, submit_sighting
from bolo.web.auth import Csrf, PostUser, csrf_token
from bolo.web.forms import FormFields, local_time
from bolo.web.templating import page, page_language
from bolo.web.words import CAP_STATUSES, STATE_NAMES, infos_first

router = APIRouter(prefix="/post", include_in_schema=False)
# What the page says after an action (``?done=KEY``).
DONE = {
    "ack": N_("Acknowledged"),
    "sighting": N_("Sighting reported"),
    "search": N_("Search reported"),
    "checkin": N_("Checked in"),
}
RECENT_END = timedelta(hours=24)  # cancelled alerts stay on the page this long, marked as such


@dataclass(frozen=True)
class PostAlert:
    """One alert as the post sees it."""

    alert: Alert
    case: Case
    version: AlertVersion
    infos: list[cap.Info]
    photos: list[cap.Resource]
    acknowledged_by: str | None


def _own_post(db: DB, user: User) -> Post:
    """The post the user acts for (post officers and supervisors belong to one)."""
    if user.post_id is None:
        raise Forbidden(f"user {user.username} belongs to no post: ask an administrator")
    return get_post(db, post_id=user.post_id)


def alerts_for_post(db: DB, post_id: str) -> list[PostAlert]:
    """Active alerts that address ``post_id`` (newest first), then recently ended ones."""
    alert_ids = set(
        db.scalars(
            select(AlertVersion.alert_id)
            .join(AlertTarget, AlertTarget.version_id == AlertVersion.id)
            .where(AlertTarget.post_id == post_id)
        )
    )
    found = []
    for alert in db.scalars(
        select(Alert).where(Alert.id.in_(alert_ids)).order_by(Alert.created_at.desc())
    ):
        ended = alert.cancelled_at or alert.expires_at
        if alert.shown_state != AlertState.ACTIVE and (ended is None or now() - ended > RECENT_END):
            continue
        version = latest_issued(db, alert_id=alert.id)
        case = db.get(Case, alert.case_id)
        if version is None or case is None or not version.cap_xml:
            continue  # nothing issued yet, or its content was purged with its case
        ack = db.scalars(
            select(Acknowledgement.by_name).where(
                Acknowledgement.version_id == version.id, Acknowledgement.post_id == post_id
            )
        ).first()
        message = decode(version.cap_xml.encode("utf-8"))
        photos = [
            r
            for info in message.infos[:1]
            for r in info.resources
            if r.uri and r.mime_type.startswith("image/")
        ]
        found.append(PostAlert(alert, case, version, message.infos, photos, ack))
    found.sort(key=lambda a: a.alert.shown_state != AlertState.ACTIVE)
    return found


def _render(
    request: Request,
    db: DB,
    user: User,
    *,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    post = _own_post(db, user)
    # The officer's own setting, then the post's language, then the browser's.
    lang = page_language(request, user, post.language)
    alerts = [replace(a, infos=infos_first(a.infos, lang)) for a in alerts_for_post(db, post.id)]
    return page(
        request,
        "post/index.html",
        {
            "user": user,
            "post": post,
            "alerts": alerts,
            "csrf": csrf_token(request),
            "message": message,
            "error": error,
            "state_names": STATE_NAMES,
            "cap_statuses": CAP_STATUSES,
            "zone_label": zones.zone().key,
            "now": now(),
            "default_from": zones.form_value(now() - timedelta(hours=2)),
            "default_to": zones.form_value(now()),
        },
        status,
        lang=lang,
    )


@router.get("", response_class=HTMLResponse)
def post_home(request: Request, db: DB, user: PostUser, done: str | None = None) -> Response:
    """The post's current alerts and its forms."""
    return _render(request, db, user, message=DONE.get(done or ""))


def _act(
    request: Request,
    db: DB,
    user: User,
    act: Callable[[Post], object],
    *,
    done: str,
    refused: tuple[type[Exception], ...] = (BoloError, ValueError),
    status: int = 422,
) -> Response:
    """The shape of every form of the post page: ``act`` for the user's own post; when it is
    refused, nothing is stored and the page shows why (``status``); otherwise the post's
    heartbeat is recorded (someone is there), and the page comes back saying ``done``."""
    post = _own_post(db, user)
    try:
        act(post)
    except refused as exc:
        db.rollback()
        return _render(request, db, user, error=_message(exc), status=status)
    record_heartbeat(db, post_id=post.id)
    db.commit()
    return RedirectResponse(f"/post?done={done}", status_code=303)


@router.post("/ack", dependencies=[Csrf])
def post_ack(request: Request, db: DB, user: PostUser, form: FormFields) -> Response:
    """Acknowledge an alert version for the user's post, by a named person."""
    return _act(
        request,
        db,
        user,
        lambda post: acknowledge(
            db,
            version_id=form.get("version_id", ""),
            post_id=post.id,
            by=form.get("name", ""),
            via=AckVia.POST_PAGE,
        ),
        done="ack",
        refused=(AckRefused,),
        status=409,
    )


@router.post("/sighting", dependencies=[Csrf])
def post_sighting(request: Request, db: DB, user: PostUser, form: FormFields) -> Response:
    """Report a sighting (or an interception) at or near the post."""
    return _act(
        request,
        db,
        user,
        lambda post: submit_sighting(
            db,
            case_id=form.get("case_id", ""),
            post_id=post.id,
            seen_at=now(),
            text=form.get("text", ""),
            place=form.get("place", "").strip() or None,
            intercepted=bool(form.get("intercepted")),
            actor_id=user.id,
            via="web",
        ),
        done="sighting",
    )


@router.post("/search", dependencies=[Csrf])
def post_search(request: Request, db: DB, user: PostUser, form: FormFields) -> Response:
    """Report a search ("checked every bus 14:00-18:00, nothing found"): negative evidence."""
    return _act(
        request,
        db,
        user,
        lambda post: submit_search_report(
            db,
            case_id=form.get("case_id", ""),
            post_id=post.id,
            searched=form.get("searched", ""),
            searched_from=datetime.fromisoformat(local_time(form.get("searched_from", ""))),
            searched_to=datetime.fromisoformat(local_time(form.get("searched_to", ""))),
            result=SearchResult(form.get("result", SearchResult.NOTHING_FOUND.value)),
            actor_id=user.id,
            via="web",
        ),
        done="search",
    )


@router.post("/checkin", dependencies=[Csrf])
def post_checkin(request: Request, db: DB, user: PostUser) -> Response:
    """Record that the post is staffed and listening (a heartbeat)."""
    return _act(request, db, user, lambda post: None, done="checkin", refused=())


def _message(exc: Exception) -> str:
    # A pydantic error says what to fix field by field, not in its own developer's wording.
    if isinstance(exc, ValidationError):
        return summary(explain(exc))
    return exc.message if isinstance(exc, BoloError) else str(exc)
