"""Drafting an Update of a live alert from the current search picture (new area, new posts).

The Update needs approval like the first version; the approval screen is the alert page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bolo.alerts import service
from bolo.alerts.model import Alert
from bolo.alerts.schemas import AlertContent
from bolo.auth.deps import DB
from bolo.cases.service import get_case
from bolo.errors import BoloError, Conflict
from bolo.i18n import N_
from bolo.web.alerting import (
    draft_context,
    draft_from_form,
    posts_by_id,
    problems,
    texts_for,
)
from bolo.web.auth import Coordinators, Csrf, PageUser
from bolo.web.forms import FormLists
from bolo.web.pictures import recommendations
from bolo.web.templating import page

router = APIRouter(prefix="/console", include_in_schema=False)


def values_of(content: dict[str, Any]) -> dict[str, str]:
    """The drafting form's values of an issued version's content (texts by language)."""
    values = {
        "area_description": str(content.get("area", {}).get("description", "")),
        "expires_in_hours": str(content.get("expires_in_hours", 24)),
        "contact": str(content.get("contact") or ""),
    }
    for text in content.get("texts", []):
        prefix = "ko" if str(text.get("language", "")).startswith("ko") else "en"
        for key in ("headline", "description", "instruction"):
            values.setdefault(f"{prefix}_{key}", str(text.get(key, "")))
    return values


def _context(
    request: Request,
    db: DB,
    user: Any,
    alert: Alert,
    values: dict[str, str],
    chosen: set[str],
    errors: list[str],
) -> dict[str, Any]:
    case = get_case(db, case_id=alert.case_id, reader=user)
    last = service.latest_issued(db, alert_id=alert.id)
    alerted = set(service.targets_of(db, version_id=last.id)) if last else set()
    return draft_context(
        request,
        db,
        user,
        case,
        values=values,
        errors=errors,
        chosen=chosen,
        alerted=alerted,
        heading=N_("Draft an update"),
        action=f"/console/alerts/{alert.id}/update",
        fixed_status=alert.cap_status,
    )


@router.get("/alerts/{alert_id}/update", response_class=HTMLResponse)
def update_form(alert_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """The Update form: the live texts, and the current picture's recommended posts ticked."""
    alert = service.get_alert(db, alert_id=alert_id)
    service.require_updatable(alert)
    last = service.latest_issued(db, alert_id=alert.id)
    if last is None:
        raise Conflict("this alert was never issued: edit or cancel its draft instead")
    case = get_case(db, case_id=alert.case_id, reader=user)
    chosen = {r["post_id"] for r in recommendations(db, case)}
    # The texts name the child: a viewer's form gets them redacted, as on the case page.
    shown = {**last.content, "texts": texts_for(user, last.content.get("texts", []))}
    return page(
        request,
        "console/draft.html",
        _context(request, db, user, alert, values_of(shown), chosen, []),
    )


@router.post("/alerts/{alert_id}/update", dependencies=[Coordinators, Csrf])
def create_update(
    alert_id: str, request: Request, db: DB, user: PageUser, form: FormLists
) -> Response:
    """Save the Update and submit it for approval by a second person."""
    alert = service.get_alert(db, alert_id=alert_id)
    service.require_updatable(alert)
    case = get_case(db, case_id=alert.case_id, reader=user)
    values = {k: v[-1] for k, v in form.items() if k != "post"}
    chosen = form.get("post", [])
    try:
        draft = draft_from_form(
            case, {**values, "cap_status": alert.cap_status}, posts_by_id(db, chosen), chosen
        )
        content = AlertContent.model_validate(draft.model_dump(exclude={"cap_status"}))
        version = service.update_alert(db, alert_id=alert.id, content=content, author=user)
        service.submit_for_approval(db, version_id=version.id, author=user)
    except (ValidationError, ValueError, BoloError) as exc:
        db.rollback()
        return page(
            request,
            "console/draft.html",
            _context(request, db, user, alert, values, set(chosen), problems(exc)),
            422,
        )
    db.commit()
    return RedirectResponse(f"/console/alerts/{alert.id}", status_code=303)
