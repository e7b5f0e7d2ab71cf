"""Working on a draft after it was written: its author edits it (a pending one too, which then
needs approval again), and an approver sends it back with a reason the author reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bolo.alerts import service
from bolo.alerts.model import Alert, AlertVersion, CapStatus, MsgType
from bolo.alerts.schemas import AlertContent
from bolo.auth.deps import DB
from bolo.auth.model import User
from bolo.cases.service import get_case
from bolo.errors import BoloError, Conflict, NotFound
from bolo.i18n import N_
from bolo.web.alerting import (
    attestation_from,
    draft_context,
    draft_from_form,
    open_version,
    pending_version,
    posts_by_id,
    problems,
    render_alert_page,
    texts_for,
)
from bolo.web.auth import Approvers, Coordinators, Csrf, PageUser
from bolo.web.forms import FormFields, FormLists
from bolo.web.templating import page
from bolo.web.updating import values_of

router = APIRouter(prefix="/console", include_in_schema=False)


def _preparing(db: DB, alert: Alert) -> AlertVersion:
    version = open_version(db, alert)
    if version is None:
        raise Conflict(
            f"no version of this {alert.state} alert is a draft: "
            "draft an update of a live alert instead"
        )
    return version


def _edit_context(
    request: Request,
    db: DB,
    user: User,
    alert: Alert,
    version: AlertVersion,
    values: dict[str, Any],
    chosen: set[str],
    errors: list[str],
) -> dict[str, Any]:
    rejecter = db.get(User, version.rejected_by_id) if version.rejected_by_id else None
    return draft_context(
        request,
        db,
        user,
        get_case(db, case_id=alert.case_id, reader=user),
        values=values,
        chosen=chosen,
        errors=errors,
        heading=N_("Edit this version"),
        action=f"/console/alerts/{alert.id}/edit",
        fixed_status=alert.cap_status,
        gated=alert.cap_status == CapStatus.ACTUAL and version.msg_type == MsgType.ALERT,
        rejection=version if version.rejection_reason else None,
        rejecter=rejecter.username if rejecter else None,
    )


@router.get("/alerts/{alert_id}/edit", response_class=HTMLResponse)
def edit_form(alert_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """The drafting form filled with the version in preparation (and why it was sent back)."""
    alert = service.get_alert(db, alert_id=alert_id)
    version = _preparing(db, alert)
    content = {**version.content, "texts": texts_for(user, version.content.get("texts", []))}
    activation = version.activation or {}
    values: dict[str, Any] = {
        **values_of(content),
        "abduction_believed": "yes" if activation.get("abduction_believed") else "",
        "risk_of_harm": "yes" if activation.get("risk_of_harm") else "",
        "override_reason": activation.get("override_reason") or "",
    }
    chosen = {str(p) for p in version.content.get("target_post_ids", [])}
    return page(
        request,
        "console/draft.html",
        _edit_context(request, db, user, alert, version, values, chosen, []),
    )


@router.post("/alerts/{alert_id}/edit", dependencies=[Coordinators, Csrf])
def save_edit(alert_id: str, request: Request, db: DB, user: PageUser, form: FormLists) -> Response:
    """Save the edited draft and submit it for approval again (any approval is void)."""
    alert = service.get_alert(db, alert_id=alert_id)
    version = _preparing(db, alert)
    values = {k: v[-1] for k, v in form.items() if k != "post"}
    chosen = form.get("post", [])
    case = get_case(db, case_id=alert.case_id, reader=user)
    try:
        draft = draft_from_form(
            case, {**values, "cap_status": alert.cap_status}, posts_by_id(db, chosen), chosen
        )
        content = AlertContent.model_validate(draft.model_dump(exclude={"cap_status"}))
        service.edit_version(db, version_id=version.id, content=content, author=user)
        service.submit_for_approval(
            db, version_id=version.id, author=user, attestation=attestation_from(values)
        )
    except (ValidationError, ValueError, BoloError) as exc:
        db.rollback()
        version = _preparing(db, alert)
        return page(
            request,
            "console/draft.html",
            _edit_context(request, db, user, alert, version, values, set(chosen), problems(exc)),
            422,
        )
    db.commit()
    return RedirectResponse(f"/console/alerts/{alert.id}", status_code=303)


@router.post("/alerts/{alert_id}/reject", dependencies=[Approvers, Csrf])
def reject(alert_id: str, request: Request, db: DB, user: PageUser, form: FormFields) -> Response:
    """Send the version waiting for approval back to its author, with the reason."""
    alert = service.get_alert(db, alert_id=alert_id)
    pending = pending_version(db, alert)
    if pending is None:
        raise NotFound("nothing of this alert waits for approval")
    try:
        service.reject(db, version_id=pending.id, reason=form.get("reason", ""), approver=user)
    except BoloError as exc:
        db.rollback()
        return render_alert_page(alert_id, request, db, user, exc.message, exc.status)
    db.commit()
    return RedirectResponse(f"/console/alerts/{alert_id}", status_code=303)
