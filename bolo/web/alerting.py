"""Drafting an alert (recommended posts preselected), the approval screen, and Cancel."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bolo.alerts import service, takedown
from bolo.alerts.activation import Attestation, evaluate
from bolo.alerts.model import Alert, AlertVersion, CapStatus, VersionState
from bolo.alerts.schemas import AlertDraft
from bolo.auth.deps import DB, web_session_id
from bolo.auth.login import check_reauth
from bolo.auth.model import Role, User
from bolo.auth.policy import REDACTED, can_see_personal, case_view
from bolo.auth.sessions import mark_reauthenticated
from bolo.cases.model import Case
from bolo.cases.service import get_case
from bolo.errors import BoloError, NotFound
from bolo.i18n import zones
from bolo.network import PostKind
from bolo.posts.model import Post
from bolo.posts.query import kinds, regions
from bolo.posts.service import list_posts
from bolo.settings import get_settings
from bolo.web.alertarea import alert_area, case_network
from bolo.web.auth import Approvers, Coordinators, Csrf, PageUser
from bolo.web.console import base_context
from bolo.web.forms import FormFields, FormLists
from bolo.web.pictures import picture_time, recommendations
from bolo.web.templating import page

router = APIRouter(prefix="/console", include_in_schema=False)


TEXT_FIELDS = ("headline", "description", "instruction")


def texts_for(user: User, texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An alert version's texts as ``user`` may read them: they name and describe the child,
    so a role that may not see personal data (a viewer) gets every text as REDACTED."""
    if can_see_personal(user):
        return texts
    return [{**t, **dict.fromkeys(TEXT_FIELDS, REDACTED)} for t in texts]


def _default_texts(case: Case, user: User) -> dict[str, str]:
    # From the case as this user may see it: a viewer's form never holds the child's name.
    people = case_view({"children": case.children, "narrative": case.narrative}, user)
    child = people["children"][0] if people["children"] else {}
    who = child.get("description") or child.get("name") or "a child"
    place = case.last_known_place or "the last-known place"
    seen = f"{zones.show(case.last_seen_earliest)} - {zones.show(case.last_seen_latest)}"
    return {
        "en_headline": f"Child abduction: {child.get('name', 'child')} taken near {place}"[:140],
        "en_description": f"{who}. Last seen at {place} {seen}. {people['narrative']}".strip(),
        "en_instruction": "Check every traveller with a child. Do not approach the suspects; "
        "report a sighting at once through the tip form.",
        "area_description": f"{place} and the routes leading away from it",
        "expires_in_hours": "24",
    }


@router.get("/cases/{case_id}/alerts/new", response_class=HTMLResponse)
def draft_form(case_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """The drafting form: texts in English and Korean, status, the activation criteria, and
    the posts, with the search picture's recommended posts ticked."""
    case = get_case(db, case_id=case_id, reader=user)
    ranked = recommendations(db, case)
    return page(
        request,
        "console/draft.html",
        draft_context(
            request,
            db,
            user,
            case,
            values=_default_texts(case, user),
            chosen={r["post_id"] for r in ranked},
            ranked=ranked,
            gated=True,
        ),
    )


def posts_by_id(db: DB, ids: Iterable[str]) -> dict[str, Post]:
    """The active posts with these ids, by id."""
    return {p.id: p for p in list_posts(db, ids=sorted(set(ids)))}


def attestation_from(values: dict[str, str]) -> Attestation:
    """The activation statements and override reason of a drafting form."""
    return Attestation(
        abduction_believed=values.get("abduction_believed") == "yes",
        risk_of_harm=values.get("risk_of_harm") == "yes",
        override_reason=values.get("override_reason", "").strip() or None,
    )


def draft_context(
    request: Request,
    db: DB,
    user: User,
    case: Case,
    *,
    values: dict[str, Any],
    chosen: set[str],
    ranked: list[dict[str, Any]] | None = None,
    errors: list[str] | None = None,
    gated: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """What the drafting form shows: the ranked posts, the chosen ones, the picker's filters
    and, for a first version that may go out live (``gated``), the activation criteria."""
    ranked = recommendations(db, case) if ranked is None else ranked
    settings = get_settings()
    return base_context(
        request,
        user,
        case=case,
        ranked=ranked,
        values=values,
        errors=errors or [],
        chosen=chosen,
        posts=posts_by_id(db, [*chosen, *(r["post_id"] for r in ranked)]),
        regions=regions(db),
        kinds=kinds(db),
        may_draft=user.role in (*service.DRAFTERS, Role.ADMIN),
        gate=evaluate(case, attestation_from(values)) if gated else None,
        age_limit=settings.activation_age_limit,
        override_min=settings.activation_override_min_length,
        **extra,
    )


def draft_from_form(
    case: Case, form: dict[str, Any], posts: dict[str, Post], chosen: list[str]
) -> AlertDraft:
    """The AlertDraft of the drafting form (raises ValidationError or ValueError); its area is
    bolo.web.alertarea's for the chosen posts, drawn for the picture's time."""
    texts = [
        {
            "language": "en-US",
            "headline": form.get("en_headline", ""),
            "description": form.get("en_description", ""),
            "instruction": form.get("en_instruction", ""),
        }
    ]
    if str(form.get("ko_headline", "")).strip():
        texts.append(
            {
                "language": "ko-KP",
                "headline": form.get("ko_headline", ""),
                "description": form.get("ko_description", "") or form["ko_headline"],
                "instruction": form.get("ko_instruction", "") or form["ko_headline"],
            }
        )
    picked = [posts[p] for p in chosen if p in posts]
    return AlertDraft.model_validate(
        {
            "cap_status": form.get("cap_status", CapStatus.ACTUAL.value),
            "texts": texts,
            "area": {
                "description": form.get("area_description", ""),
                **alert_area(case, picked, case_network(case), at=picture_time(case)),
            },
            "target_post_ids": [p.id for p in picked],
            "expires_in_hours": form.get("expires_in_hours", "24") or "24",
            "contact": str(form.get("contact", "")).strip() or None,
        }
    )


@router.post("/cases/{case_id}/alerts", dependencies=[Coordinators, Csrf])
def create_draft(
    case_id: str, request: Request, db: DB, user: PageUser, form: FormLists
) -> Response:
    """Save the draft and submit it for approval by a second person."""
    case = get_case(db, case_id=case_id, reader=user)
    values = {k: v[-1] for k, v in form.items() if k != "post"}
    chosen = form.get("post", [])
    try:
        draft = draft_from_form(case, values, posts_by_id(db, chosen), chosen)
        version = service.draft_alert(db, case_id=case.id, data=draft, author=user)
        service.submit_for_approval(
            db, version_id=version.id, author=user, attestation=attestation_from(values)
        )
    except (ValidationError, ValueError, BoloError) as exc:
        db.rollback()
        return page(
            request,
            "console/draft.html",
            draft_context(
                request,
                db,
                user,
                case,
                values=values,
                chosen=set(chosen),
                errors=problems(exc),
                gated=True,
            ),
            422,
        )
    db.commit()
    return RedirectResponse(f"/console/alerts/{version.alert_id}", status_code=303)


def problems(exc: Exception) -> list[str]:
    """The form errors of a refused draft, one line each."""
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    if isinstance(exc, BoloError):
        return [exc.message]
    return [str(exc)]


def pending_version(db: DB, alert: Alert) -> AlertVersion | None:
    """The alert's version waiting for approval, if any."""
    versions = service.versions_of(db, alert_id=alert.id)
    return next((v for v in reversed(versions) if v.state == VersionState.PENDING_APPROVAL), None)


def reach(db: DB, alert: Alert, version: AlertVersion) -> dict[str, Any]:
    """Who a version reaches: post count, public or not, and the words of the banner."""
    targets = [str(t) for t in version.content.get("target_post_ids", [])]
    posts = {p.id: p for p in list_posts(db, ids=targets)}
    staff = [t for t in targets if t in posts and posts[t].kind != PostKind.PUBLIC]
    live = alert.cap_status == CapStatus.ACTUAL
    banner = (
        f"LIVE - {len(staff)} posts + public"
        if live
        else f"{alert.cap_status.upper()} - NOT LIVE - {len(staff)} posts, no public"
    )
    return {
        "live": live,
        "posts": len(staff),
        "banner": banner,
        "targets": targets,
        "post_names": {t: posts[t].name for t in targets if t in posts},
    }


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(alert_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """The alert: its versions, and the approval screen when a version waits for approval."""
    return render_alert_page(alert_id, request, db, user)


def open_version(db: DB, alert: Alert) -> AlertVersion | None:
    """The alert's version in preparation (a draft, or waiting for approval), if any."""
    versions = service.versions_of(db, alert_id=alert.id)
    return next(
        (
            v
            for v in reversed(versions)
            if v.state in (VersionState.DRAFT, VersionState.PENDING_APPROVAL)
        ),
        None,
    )


def render_alert_page(
    alert_id: str, request: Request, db: DB, user: Any, error: str | None = None, status: int = 409
) -> Response:
    """The alert page, with ``error`` (answered with ``status``) when an action was refused."""
    alert = service.get_alert(db, alert_id=alert_id)
    case = get_case(db, case_id=alert.case_id, reader=user)
    pending = pending_version(db, alert)
    shown = pending or service.latest_issued(db, alert_id=alert.id)
    if shown is None:
        shown = service.versions_of(db, alert_id=alert.id)[-1]
    preparing = open_version(db, alert)
    rejecter = (
        db.get(User, preparing.rejected_by_id)
        if preparing is not None and preparing.rejected_by_id
        else None
    )
    return page(
        request,
        "console/alert.html",
        base_context(
            request,
            user,
            alert=alert,
            case=case,
            pending=pending,
            shown=shown,
            reach=reach(db, alert, shown),
            texts=texts_for(user, shown.content.get("texts", [])),
            versions=service.versions_of(db, alert_id=alert.id),
            preparing=preparing,
            rejecter=rejecter.username if rejecter else None,
            may_draft=user.role in (*service.DRAFTERS, Role.ADMIN),
            may_review=user.role in (*service.APPROVERS, Role.ADMIN),
            personal=can_see_personal(user),
            own=pending is not None and pending.author_id == user.id,
            error=error,
        ),
        status if error else 200,
    )


@router.post("/alerts/{alert_id}/approve", dependencies=[Approvers, Csrf])
def approve(alert_id: str, request: Request, db: DB, user: PageUser, form: FormFields) -> Response:
    """Approve the exact content (SHA-256) the approver saw, after the approver typed the
    password (and one-time code) again; the version is issued at once."""
    alert = service.get_alert(db, alert_id=alert_id)
    pending = pending_version(db, alert)
    if pending is None:
        raise NotFound("nothing of this alert waits for approval")
    try:
        check_reauth(
            db,
            user=user,
            password=str(form.get("password", "")),
            totp_code=str(form.get("code", "")).strip() or None,
        )
        mark_reauthenticated(db, session_id=web_session_id(request))
        service.approve(
            db, version_id=pending.id, sha256=str(form.get("sha256", "")), approver=user
        )
    except BoloError as exc:
        db.rollback()
        return render_alert_page(alert_id, request, db, user, exc.message)
    db.commit()
    return RedirectResponse(f"/console/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/cancel", dependencies=[Approvers, Csrf])
def cancel(alert_id: str, request: Request, db: DB, user: PageUser, form: FormFields) -> Response:
    """Cancel the alert in one step (a CAP Cancel to every post it reached)."""
    reason = str(form.get("reason", "")).strip() or "The alert was cancelled."
    try:
        takedown.cancel_alert(db, alert_id=alert_id, reason=reason, actor=user)
    except BoloError as exc:
        db.rollback()
        return render_alert_page(alert_id, request, db, user, exc.message)
    db.commit()
    return RedirectResponse(f"/console/alerts/{alert_id}", status_code=303)
