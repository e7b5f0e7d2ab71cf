"""Alert routes for staff under /api/v1 (drafting, approval, update, cancel)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.alerts import service, takedown
from bolo.alerts.activation import ActivationRefused, Attestation
from bolo.alerts.model import Alert, AlertVersion, CapStatus, VersionState
from bolo.alerts.schemas import (
    AlertContent,
    AlertDraft,
    AlertOut,
    Approval,
    CancelRequest,
    RejectRequest,
    VersionOut,
)
from bolo.auth.deps import DB, CurrentUser, allow
from bolo.auth.login import require_second_factor
from bolo.auth.model import User
from bolo.auth.policy import REDACTED, STAFF_READERS, can_see_personal
from bolo.cases.schemas import CaseFilter
from bolo.errors import Forbidden, InvalidInput
from bolo.paging import Keyset, Paging

router = APIRouter(prefix="/api/v1", tags=["alerts"])
READERS = STAFF_READERS
DRAFT = [allow(*service.DRAFTERS)]
APPROVE = [allow(*service.APPROVERS)]
CANCEL = [allow(*service.DRAFTERS, *service.APPROVERS)]
READ = [allow(*READERS)]
CAP_XML = "application/cap+xml"


def version_out(version: AlertVersion, user: User) -> VersionOut:
    """A version as ``user`` may see it: the free texts of its override and rejection (which
    may describe the child) only for the roles that read personal data."""
    out = VersionOut.model_validate(version)
    if can_see_personal(user):
        return out
    activation = (
        {
            **out.activation,
            "override_reason": REDACTED if out.activation.get("override_reason") else None,
        }
        if out.activation
        else None
    )
    return out.model_copy(
        update={
            "activation": activation,
            "rejection_reason": (REDACTED if out.rejection_reason else out.rejection_reason),
        }
    )


def alert_out(db: Session, alert: Alert, user: User) -> AlertOut:
    """An alert with its versions, as the API shows it to ``user``."""
    versions = service.versions_of(db, alert_id=alert.id)
    return AlertOut(
        id=alert.id,
        case_id=alert.case_id,
        cap_status=alert.cap_status,
        state=alert.shown_state,
        expires_at=alert.expires_at,
        versions=[version_out(v, user) for v in versions],
    )


@router.post(
    "/cases/{case_id}/alerts", response_model=VersionOut, status_code=201, dependencies=DRAFT
)
def draft(case_id: str, body: AlertDraft, db: DB, user: CurrentUser) -> VersionOut:
    """Draft a new alert for a case (its first version)."""
    version = service.draft_alert(db, case_id=case_id, data=body, author=user)
    db.commit()
    return VersionOut.model_validate(version)


# Newest first; the id orders alerts created at the same time.
ALERT_ORDER = Keyset((Alert.created_at, Alert.id))


@router.get("/alerts", response_model=list[AlertOut], dependencies=READ)
def list_alerts(
    db: DB,
    user: CurrentUser,
    page: Paging,
    request: Request,
    response: Response,
    case_id: CaseFilter = None,
) -> list[AlertOut]:
    """Alerts, newest first, optionally of one case, a page at a time (``Link: <...>;
    rel="next"``)."""
    stmt = select(Alert)
    if case_id:
        stmt = stmt.where(Alert.case_id == case_id)
    rows = list(db.execute(ALERT_ORDER.apply(stmt, page)).scalars())
    return [alert_out(db, a, user) for a in ALERT_ORDER.page(rows, page, request, response)]


@router.get("/alerts/{alert_id}", response_model=AlertOut, dependencies=READ)
def get_alert(alert_id: str, db: DB, user: CurrentUser) -> AlertOut:
    """One alert with its versions."""
    return alert_out(db, service.get_alert(db, alert_id=alert_id), user)


@router.get("/alert-versions/{version_id}/cap", response_class=Response, dependencies=READ)
def version_cap(version_id: str, db: DB, user: CurrentUser) -> Response:
    """The exact CAP XML of a version (what an approver reviews and approves); 410 Gone once
    its case was purged."""
    version = service.get_version(db, version_id=version_id)
    alert = service.get_alert(db, alert_id=version.alert_id)
    service.require_unpurged(db, alert)
    public = alert.cap_status == CapStatus.ACTUAL and version.state == VersionState.ISSUED
    if not public and not can_see_personal(user):
        # The message names and describes the child; only what the public got is not personal.
        raise Forbidden(f"role {user.role!r} may read the CAP of issued live versions only")
    return Response(
        version.cap_xml, media_type=CAP_XML, headers={"X-Content-SHA256": version.sha256}
    )


@router.put("/alert-versions/{version_id}", response_model=VersionOut, dependencies=DRAFT)
def edit(version_id: str, body: AlertContent, db: DB, user: CurrentUser) -> VersionOut:
    """Replace a draft's content (voids any approval)."""
    version = service.edit_version(db, version_id=version_id, content=body, author=user)
    db.commit()
    return VersionOut.model_validate(version)


@router.post("/alert-versions/{version_id}/submit", response_model=VersionOut, dependencies=DRAFT)
def submit(
    version_id: str, db: DB, user: CurrentUser, body: Attestation | None = None
) -> VersionOut:
    """Ask for approval. The first version of an Actual alert must meet the activation
    criteria (the body states the coordinator's judgements) or give an override reason; a
    refusal names the body fields to send."""
    try:
        version = service.submit_for_approval(
            db, version_id=version_id, author=user, attestation=body
        )
    except ActivationRefused as exc:
        raise InvalidInput(exc.for_api()) from exc
    db.commit()
    return VersionOut.model_validate(version)


@router.post(
    "/alert-versions/{version_id}/approve", response_model=VersionOut, dependencies=APPROVE
)
def approve(
    version_id: str,
    body: Approval,
    db: DB,
    user: CurrentUser,
    x_bolo_totp: Annotated[str | None, Header()] = None,
) -> VersionOut:
    """Approve the content with this SHA-256 and issue it (a second person for live alerts).
    An approver who enrolled TOTP sends a fresh code in the ``X-Bolo-TOTP`` header."""
    require_second_factor(db, user=user, totp_code=x_bolo_totp)
    version = service.approve(db, version_id=version_id, sha256=body.sha256, approver=user)
    db.commit()
    return VersionOut.model_validate(version)


@router.post("/alert-versions/{version_id}/reject", response_model=VersionOut, dependencies=APPROVE)
def reject(version_id: str, body: RejectRequest, db: DB, user: CurrentUser) -> VersionOut:
    """Send a version waiting for approval back to its author, with the reason."""
    version = service.reject(db, version_id=version_id, reason=body.reason, approver=user)
    db.commit()
    return VersionOut.model_validate(version)


@router.post(
    "/alerts/{alert_id}/updates", response_model=VersionOut, status_code=201, dependencies=DRAFT
)
def update(alert_id: str, body: AlertContent, db: DB, user: CurrentUser) -> VersionOut:
    """Draft an Update of an active alert."""
    version = service.update_alert(db, alert_id=alert_id, content=body, author=user)
    db.commit()
    return VersionOut.model_validate(version)


@router.post("/alerts/{alert_id}/cancel", response_model=AlertOut, dependencies=CANCEL)
def cancel(alert_id: str, body: CancelRequest, db: DB, user: CurrentUser) -> AlertOut:
    """Cancel in one step: a CAP Cancel to everyone who received any version."""
    alert = takedown.cancel_alert(db, alert_id=alert_id, reason=body.reason, actor=user)
    db.commit()
    return alert_out(db, alert, user)
