"""How an alert is taken down: a one-step Cancel by one coordinator, and expiry."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.alerts.model import Alert, AlertState, AlertVersion, MsgType, VersionState
from bolo.alerts.render import render_cancel, to_xml
from bolo.alerts.schemas import AlertContent
from bolo.alerts.service import (
    APPROVERS,
    DRAFTERS,
    SENDER_NAME,
    get_alert,
    issue_version,
    new_version,
    now_seconds,
    targets_of,
    versions_of,
)
from bolo.audit.service import record
from bolo.auth.model import User
from bolo.auth.service import require_role
from bolo.cases.model import Case
from bolo.clock import now
from bolo.errors import Conflict, NotFound
from bolo.settings import get_settings


def cancel_alert(session: Session, *, alert_id: str, reason: str, actor: User) -> Alert:
    """Take an alert down in one step.

    An issued alert gets a CAP Cancel that references every earlier message and addresses every
    post that received any version; drafts still in preparation are withdrawn. An alert that never
    went out is simply withdrawn (there is nothing to cancel publicly).
    """
    require_role(actor, *DRAFTERS, *APPROVERS)
    alert = get_alert(session, alert_id=alert_id)
    if alert.state in (AlertState.CANCELLED, AlertState.EXPIRED):
        raise Conflict(f"alert is already {alert.state}")
    versions = versions_of(session, alert_id=alert.id)
    _withdraw_drafts(versions)
    issued = [v for v in versions if v.state == VersionState.ISSUED]
    if not issued:
        _withdraw_unissued(session, alert, actor)
        return alert
    version = _cancel_version(session, alert, versions, issued, reason=reason, actor=actor)
    session.add(version)
    session.flush()
    record(
        session,
        actor_id=actor.id,
        action="alert.cancel_requested",
        entity="alert",
        entity_id=alert.id,
        data={"version": version.id},
    )
    issue_version(session, alert, version, actor=actor)
    return alert


def _withdraw_drafts(versions: list[AlertVersion]) -> None:
    """Withdraw every version still in preparation (draft or awaiting approval)."""
    for v in versions:
        if v.state in (VersionState.DRAFT, VersionState.PENDING_APPROVAL):
            v.state = VersionState.WITHDRAWN


def _withdraw_unissued(session: Session, alert: Alert, actor: User) -> None:
    """End an alert that never went out: cancelled now, audited as withdrawn."""
    alert.state = AlertState.CANCELLED
    alert.cancelled_at = now()
    record(
        session,
        actor_id=actor.id,
        action="alert.withdrawn",
        entity="alert",
        entity_id=alert.id,
        data={},
    )


def _cancel_version(
    session: Session,
    alert: Alert,
    versions: list[AlertVersion],
    issued: list[AlertVersion],
    *,
    reason: str,
    actor: User,
) -> AlertVersion:
    """The next version of ``alert``: a rendered, hashed CAP Cancel of the ``issued`` versions,
    addressed to every post any of them reached, approved by ``actor`` (not yet added)."""
    case = session.get(Case, alert.case_id)
    if case is None:
        raise NotFound(f"no case {alert.case_id}")
    reached = sorted({p for v in issued for p in targets_of(session, version_id=v.id)})
    last = AlertContent.model_validate(issued[-1].content)
    last.target_post_ids = reached
    version = new_version(alert, versions[-1].seq + 1, MsgType.CANCEL, actor)
    version.sent = now_seconds()
    version.expires = None
    settings = get_settings()
    message = render_cancel(
        identifier=version.identifier,
        sender=settings.cap_sender,
        sender_name=SENDER_NAME,
        sent=version.sent,
        status=alert.cap_status,
        last=last,
        references=[(settings.cap_sender, v.identifier, v.sent) for v in issued],
        incident=case.reference,
        reason=reason,
    )
    version.content = last.model_dump(mode="json")
    version.cap_xml = to_xml(message)
    version.sha256 = hashlib.sha256(version.cap_xml.encode("utf-8")).hexdigest()
    # One person may cancel: a false or finished alert must come down fast.
    version.approved_by_id = actor.id
    version.approved_sha256 = version.sha256
    version.approved_at = now()
    return version


def expire_due(session: Session) -> list[str]:
    """Move every active alert whose ``expires`` has passed to ``expired``; returns their ids."""
    current = now()
    stmt = select(Alert).where(Alert.state == AlertState.ACTIVE, Alert.expires_at <= current)
    expired = []
    for alert in session.execute(stmt).scalars():
        alert.state = AlertState.EXPIRED
        expired.append(alert.id)
        record(
            session,
            actor_id=None,
            action="alert.expired",
            entity="alert",
            entity_id=alert.id,
            data={},
        )
    return expired
