"""Alert lifecycle: draft -> approval by a second person -> active -> update -> cancel / expire.

Every rule lives here, so the API, the CLI and the replay obey the same ones:
a live (Actual) version is issued only after a different person approved its exact SHA-256;
Exercise and Test alerts never address a public post; each version references every earlier one.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.alerts.activation import Attestation, gate
from bolo.alerts.model import (
    Alert,
    AlertState,
    AlertTarget,
    AlertVersion,
    CapStatus,
    MsgType,
    VersionState,
)
from bolo.alerts.render import render_alert, to_xml
from bolo.alerts.schemas import AlertContent, AlertDraft
from bolo.audit.service import record
from bolo.auth.independence import require_approver_code, require_second_person
from bolo.auth.model import Role, User
from bolo.auth.service import require_role
from bolo.cases.model import Case, CaseState
from bolo.clock import now
from bolo.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from bolo.i18n import N_
from bolo.network.graph import PostKind
from bolo.posts.model import Post
from bolo.settings import get_settings

DRAFTERS = (Role.COORDINATOR,)
APPROVERS = (Role.APPROVER, Role.COORDINATOR, Role.SUPERVISOR)
SENDER_NAME = "bolo child abduction alerts"
PURGED_MESSAGES = N_(
    "this alert's messages were purged with its case at the end of the retention period"
)


def now_seconds() -> datetime:
    """The current time, whole seconds (CAP times carry no fractions)."""
    return now().replace(microsecond=0)


def get_alert(session: Session, *, alert_id: str) -> Alert:
    """The alert with this id, or NotFound."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def get_version(session: Session, *, version_id: str) -> AlertVersion:
    """The version with this id, or NotFound."""
    version = session.get(AlertVersion, version_id)
    if version is None:
        raise NotFound(f"no alert version {version_id}")
    return version


def is_purged(session: Session, alert: Alert) -> bool:
    """Whether the alert's case was purged (its messages named the child and were erased with
    the case's personal data)."""
    case = session.get(Case, alert.case_id)
    return case is not None and case.state == CaseState.PURGED


def require_unpurged(session: Session, alert: Alert) -> None:
    """Gone (410) when the alert's case was purged (``is_purged``)."""
    if is_purged(session, alert):
        raise Gone(PURGED_MESSAGES)


def versions_of(session: Session, *, alert_id: str) -> list[AlertVersion]:
    """Every version of an alert, in order."""
    stmt = select(AlertVersion).where(AlertVersion.alert_id == alert_id).order_by(AlertVersion.seq)
    return list(session.execute(stmt).scalars())


def issued_versions(session: Session, *, alert_id: str) -> list[AlertVersion]:
    """The versions that went out, in order."""
    return [v for v in versions_of(session, alert_id=alert_id) if v.state == VersionState.ISSUED]


def latest_issued(session: Session, *, alert_id: str) -> AlertVersion | None:
    """The newest version that went out, or None."""
    stmt = (
        select(AlertVersion)
        .where(AlertVersion.alert_id == alert_id, AlertVersion.state == VersionState.ISSUED)
        .order_by(AlertVersion.seq.desc())
    )
    return session.execute(stmt).scalars().first()


def targets_of(session: Session, *, version_id: str) -> list[str]:
    """Ids of the posts a version addresses."""
    stmt = select(AlertTarget.post_id).where(AlertTarget.version_id == version_id)
    return sorted(session.execute(stmt).scalars())


def _check_targets(session: Session, alert: Alert, post_ids: list[str]) -> list[str]:
    unique = sorted(set(post_ids))
    if not unique:
        return []
    posts = {p.id: p for p in session.execute(select(Post).where(Post.id.in_(unique))).scalars()}
    missing = [p for p in unique if p not in posts]
    if missing:
        raise InvalidInput(f"unknown post ids: {', '.join(missing[:10])}")
    public = [p for p in unique if posts[p].kind == PostKind.PUBLIC]
    if public and alert.cap_status != CapStatus.ACTUAL:
        raise InvalidInput(
            f"a {alert.cap_status} alert never reaches a public channel;"
            f" remove: {', '.join(public)}"
        )
    return unique


def _render(session: Session, alert: Alert, version: AlertVersion, content: AlertContent) -> None:
    case = session.get(Case, alert.case_id)
    if case is None:
        raise NotFound(f"no case {alert.case_id}")
    settings = get_settings()
    earlier = [v for v in issued_versions(session, alert_id=alert.id) if v.id != version.id]
    version.sent = now_seconds()
    version.expires = version.sent + timedelta(hours=content.expires_in_hours)
    message = render_alert(
        identifier=version.identifier,
        sender=settings.cap_sender,
        sender_name=SENDER_NAME,
        sent=version.sent,
        expires=version.expires,
        status=alert.cap_status,
        msg_type=version.msg_type,
        content=content,
        children=case.children,
        references=[(settings.cap_sender, v.identifier, v.sent) for v in earlier],
        incident=case.reference,
    )
    version.content = content.model_dump(mode="json")
    version.cap_xml = to_xml(message)
    version.sha256 = hashlib.sha256(version.cap_xml.encode("utf-8")).hexdigest()


def new_version(alert: Alert, seq: int, msg_type: MsgType, author: User) -> AlertVersion:
    """A fresh draft version with a new CAP identifier."""
    return AlertVersion(
        alert_id=alert.id,
        seq=seq,
        msg_type=msg_type,
        identifier=f"bolo-{uuid.uuid4()}",
        author_id=author.id,
        state=VersionState.DRAFT,
    )


def draft_alert(session: Session, *, case_id: str, data: AlertDraft, author: User) -> AlertVersion:
    """Create an alert for an open case and its first version, as a draft."""
    require_role(author, *DRAFTERS)
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.state != CaseState.OPEN:
        raise Conflict(f"case {case.reference} is {case.state}: alerts need an open case")
    alert = Alert(case_id=case.id, cap_status=data.cap_status.value, created_by=author.id)
    session.add(alert)
    session.flush()
    content = AlertContent.model_validate(data.model_dump(exclude={"cap_status"}))
    content.target_post_ids = _check_targets(session, alert, content.target_post_ids)
    version = new_version(alert, 1, MsgType.ALERT, author)
    _render(session, alert, version, content)
    session.add(version)
    session.flush()
    record(
        session,
        actor_id=author.id,
        action="alert.drafted",
        entity="alert",
        entity_id=alert.id,
        data={
            "version": version.id,
            "cap_status": alert.cap_status,
            "targets": len(content.target_post_ids),
        },
    )
    return version


def edit_version(
    session: Session, *, version_id: str, content: AlertContent, author: User
) -> AlertVersion:
    """Replace a draft's content. Any approval given to the old content is void."""
    require_role(author, *DRAFTERS)
    version = get_version(session, version_id=version_id)
    if version.state not in (VersionState.DRAFT, VersionState.PENDING_APPROVAL):
        raise Conflict(f"version {version.seq} is {version.state}: only drafts can be edited")
    alert = get_alert(session, alert_id=version.alert_id)
    content.target_post_ids = _check_targets(session, alert, content.target_post_ids)
    _render(session, alert, version, content)
    version.author_id = author.id
    version.state = VersionState.DRAFT
    version.approved_by_id = version.approved_sha256 = version.approved_at = None
    if alert.state == AlertState.PENDING_APPROVAL and version.seq == 1:
        alert.state = AlertState.DRAFT
    record(
        session,
        actor_id=author.id,
        action="alert.edited",
        entity="alert",
        entity_id=alert.id,
        data={"version": version.id, "sha256": version.sha256},
    )
    return version


def submit_for_approval(
    session: Session, *, version_id: str, author: User, attestation: Attestation | None = None
) -> AlertVersion:
    """Ask a second person to approve this exact content. The first version of an Actual
    alert must pass the activation gate (``bolo.alerts.activation``) or carry an override
    reason; the gate's record stays with the version and in the audit log."""
    require_role(author, *DRAFTERS)
    version = get_version(session, version_id=version_id)
    if version.state != VersionState.DRAFT:
        raise Conflict(f"version {version.seq} is {version.state}, not a draft")
    alert = get_alert(session, alert_id=version.alert_id)
    data: dict[str, Any] = {"version": version.id, "sha256": version.sha256}
    if alert.cap_status == CapStatus.ACTUAL and version.msg_type == MsgType.ALERT:
        case = session.get(Case, alert.case_id)
        if case is None:
            raise NotFound(f"no case {alert.case_id}")
        version.activation = gate(case, attestation or Attestation())
        data["activation"] = version.activation
    version.state = VersionState.PENDING_APPROVAL
    if version.seq == 1:
        alert.state = AlertState.PENDING_APPROVAL
    record(
        session,
        actor_id=author.id,
        action="alert.submitted",
        entity="alert",
        entity_id=alert.id,
        data=data,
    )
    return version


def reject(session: Session, *, version_id: str, reason: str, approver: User) -> AlertVersion:
    """Send a version waiting for approval back to its author as a draft, with the reason
    (shown to the author); nothing is issued. The author edits it and submits it again."""
    require_role(approver, *APPROVERS)
    version = get_version(session, version_id=version_id)
    if version.state != VersionState.PENDING_APPROVAL:
        raise Conflict(f"version {version.seq} is {version.state}, not pending approval")
    text = reason.strip()
    if not text:
        raise InvalidInput("say why the draft is rejected: its author reads the reason")
    alert = get_alert(session, alert_id=version.alert_id)
    version.state = VersionState.DRAFT
    version.rejected_by_id, version.rejected_at, version.rejection_reason = (
        approver.id,
        now(),
        text,
    )
    if version.seq == 1:
        alert.state = AlertState.DRAFT
    record(
        session,
        actor_id=approver.id,
        action="alert.rejected",
        entity="alert",
        entity_id=alert.id,
        data={"version": version.id, "sha256": version.sha256, "reason": text},
    )
    return version


def approve(session: Session, *, version_id: str, sha256: str, approver: User) -> AlertVersion:
    """Approve the content whose SHA-256 the approver saw, and issue it at once."""
    require_role(approver, *APPROVERS)
    version = get_version(session, version_id=version_id)
    alert = get_alert(session, alert_id=version.alert_id)
    if version.state != VersionState.PENDING_APPROVAL:
        raise Conflict(f"version {version.seq} is {version.state}, not pending approval")
    if sha256 != version.sha256:
        raise Conflict("the content changed since you saw it: review it again and approve that")
    if alert.cap_status == CapStatus.ACTUAL:
        if approver.id == version.author_id:
            raise Forbidden("a live alert needs a second person: its author cannot approve it")
        require_second_person(session, approver=approver, author_id=version.author_id)
        require_approver_code(session, approver=approver)
    if alert.state in (AlertState.CANCELLED, AlertState.EXPIRED):
        raise Conflict(f"alert is {alert.state}")
    version.approved_by_id = approver.id
    version.approved_sha256 = sha256
    version.approved_at = now()
    record(
        session,
        actor_id=approver.id,
        action="alert.approved",
        entity="alert",
        entity_id=alert.id,
        data={"version": version.id, "sha256": sha256},
    )
    issue_version(session, alert, version, actor=approver)
    return version


def issue_version(session: Session, alert: Alert, version: AlertVersion, *, actor: User) -> None:
    """Issue an approved version: targets, alert state, audit and outbox, in this transaction."""
    if version.approved_sha256 != version.sha256:
        raise Conflict("the approval does not match this content")
    version.state = VersionState.ISSUED
    version.issued_at = now()
    alert.state = AlertState.CANCELLED if version.msg_type == MsgType.CANCEL else AlertState.ACTIVE
    alert.expires_at = version.expires
    content = AlertContent.model_validate(version.content)
    targets = set(content.target_post_ids)
    if version.msg_type == MsgType.CANCEL:
        alert.cancelled_at = version.issued_at
    for post_id in sorted(targets):
        session.add(AlertTarget(version_id=version.id, post_id=post_id))
    session.flush()
    record(
        session,
        actor_id=actor.id,
        action="alert.issued",
        entity="alert",
        entity_id=alert.id,
        data={
            "version": version.id,
            "identifier": version.identifier,
            "msg_type": version.msg_type,
            "targets": len(targets),
        },
    )
    # The deliveries (the dispatcher's outbox) are written in this same transaction, so nothing
    # is sent that was not first committed. Imported here so that commands which never issue an
    # alert (`bolo --help`, the user commands) do not load the dispatcher's tables and channels.
    from bolo.dispatch.outbox import enqueue_version

    enqueue_version(session, version_id=version.id)


NOT_UPDATABLE = N_(
    "only an alert in force can be updated: this one was cancelled or has expired (draft a new"
    " alert if the case needs one)"
)


def require_updatable(alert: Alert) -> None:
    """Conflict (409) unless the alert is in force now: a cancelled or expired alert takes no
    Update (its recipients took it down)."""
    if alert.shown_state != AlertState.ACTIVE:
        raise Conflict(NOT_UPDATABLE)


def update_alert(
    session: Session, *, alert_id: str, content: AlertContent, author: User
) -> AlertVersion:
    """Draft an Update of an active alert; it needs approval like the first version."""
    require_role(author, *DRAFTERS)
    alert = get_alert(session, alert_id=alert_id)
    require_updatable(alert)
    versions = versions_of(session, alert_id=alert.id)
    if any(v.state in (VersionState.DRAFT, VersionState.PENDING_APPROVAL) for v in versions):
        raise Conflict("this alert already has an update in preparation: edit that one")
    content.target_post_ids = _check_targets(session, alert, content.target_post_ids)
    version = new_version(alert, versions[-1].seq + 1, MsgType.UPDATE, author)
    _render(session, alert, version, content)
    session.add(version)
    session.flush()
    version.state = VersionState.DRAFT
    record(
        session,
        actor_id=author.id,
        action="alert.update_drafted",
        entity="alert",
        entity_id=alert.id,
        data={"version": version.id},
    )
    return version
