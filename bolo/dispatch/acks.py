"""Acknowledgements: by a named person, through the signed link or the API.

One acknowledgement per (version, post): the first is recorded, a replayed link or a second
officer is told who acknowledged already (409). Only the current version of an active alert
takes acknowledgements: a version superseded by an Update, or of an alert cancelled or expired,
is refused (409). An acknowledgement stops the escalations of its own version and of the
earlier versions it supersedes, never of a later one. A link signed with a rotated-out secret
is honoured only until the rotation's ``previous_until``. Tokens are never logged.
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bolo import clock
from bolo.alerts.model import Alert, AlertState, AlertVersion, VersionState
from bolo.audit.service import record
from bolo.dispatch.keys import live_secrets
from bolo.dispatch.messages import ack_token
from bolo.dispatch.model import (
    Acknowledgement,
    Delivery,
    DeliveryStatus,
    Escalation,
    EscalationState,
    Phase,
    PostKey,
)
from bolo.errors import Conflict, Forbidden


class AckVia(StrEnum):
    """How the acknowledgement arrived."""

    LINK = "link"  # the delivery's signed link
    API = "api"  # POST /api/v1/versions/{id}/posts/{id}/ack
    POST_PAGE = "post_page"  # the post's own page (/post)


class AckRefused(Forbidden):
    """The acknowledgement was refused (unknown delivery, bad token, no name)."""


class AckNeedsName(AckRefused):
    """An acknowledgement without the name of the person."""

    status = 422


class AckNotTaken(AckRefused):
    """An acknowledgement of a version that takes none now: acknowledged already, superseded
    by a later version, or of an alert that has ended (HTTP 409)."""

    status = Conflict.status


def _stop_escalations(session: Session, *, version: AlertVersion, post_id: str) -> None:
    """Stop the post's pending escalations of ``version`` and of the alert's earlier versions
    (the acknowledged one supersedes them), with what they escalated to its supervisor."""
    when = clock.now()
    covered = (
        select(AlertVersion.id)
        .where(AlertVersion.alert_id == version.alert_id, AlertVersion.seq <= version.seq)
        .scalar_subquery()
    )
    session.execute(
        update(Escalation)
        .where(
            Escalation.version_id.in_(covered),
            Escalation.post_id == post_id,
            Escalation.state == EscalationState.PENDING,
        )
        .values(state=EscalationState.ACKNOWLEDGED, due_at=None, updated_at=when)
        .execution_options(synchronize_session=False)
    )
    # What was escalated to the supervisor on this post's behalf is no longer needed.
    session.execute(
        update(Escalation)
        .where(
            Escalation.version_id.in_(covered),
            Escalation.origin_post_id == post_id,
            Escalation.state == EscalationState.PENDING,
        )
        .values(state=EscalationState.STOPPED, due_at=None, updated_at=when)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Delivery)
        .where(
            Delivery.version_id.in_(covered),
            or_(Delivery.post_id == post_id, Delivery.origin_post_id == post_id),
        )
        .where(or_(Delivery.phase == Phase.STANDBY, Delivery.origin_post_id == post_id))
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.attempts == 0)
        .values(phase=Phase.STOPPED, last_error="stopped: acknowledged")
        .execution_options(synchronize_session=False)
    )


def _check_current(session: Session, version: AlertVersion) -> None:
    """AckNotTaken unless ``version`` is the latest issued version of an active alert (not
    past its expiry, whether or not the expiry job has stored that: ``Alert.state_at``)."""
    alert = session.get(Alert, version.alert_id)
    state = alert.state_at(clock.now()) if alert is not None else "gone"
    if state != AlertState.ACTIVE:
        raise AckNotTaken(f"the alert is {state}: it takes no acknowledgement any more")
    later = session.scalars(
        select(AlertVersion.seq)
        .where(
            AlertVersion.alert_id == version.alert_id,
            AlertVersion.seq > version.seq,
            AlertVersion.state == VersionState.ISSUED,
        )
        .limit(1)
    ).first()
    if later is not None:
        raise AckNotTaken(
            f"this version was superseded by version {later} of the alert: acknowledge that one"
        )


def acknowledge(
    session: Session, *, version_id: str, post_id: str, by: str, via: AckVia = AckVia.API
) -> Acknowledgement:
    """Record that ``by`` (a named person) at ``post_id`` acknowledged the version, and stop
    the post's pending escalations of that version and the earlier ones. Delivered and
    acknowledged stay apart: this sets ``acknowledged_at``/``acknowledged_by`` only. Refused:
    no name (422), a version the post was not sent (403), a second acknowledgement, a
    superseded version or an ended alert (409)."""
    name = by.strip()[:200]
    if not name:
        raise AckNeedsName("an acknowledgement needs the name of the person")
    version = session.get(AlertVersion, version_id)
    delivery = session.scalars(
        select(Delivery)
        .where(Delivery.version_id == version_id, Delivery.post_id == post_id)
        .limit(1)
    ).first()
    if delivery is None or version is None:
        raise AckRefused("this post was not sent this alert version")
    _check_current(session, version)
    when = clock.now()
    # Conditional, so that of two acknowledgements at once exactly one finds the rows unset
    # (the other waits for the row locks, then matches nothing).
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.version_id == version_id,
            Delivery.post_id == post_id,
            Delivery.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=when, acknowledged_by=name)
        .execution_options(synchronize_session=False)
    )
    if not getattr(taken, "rowcount", 0):
        session.refresh(delivery)
        raise AckNotTaken(
            f"already acknowledged by {delivery.acknowledged_by} at "
            f"{delivery.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    ack = Acknowledgement(
        alert_id=delivery.alert_id,
        version_id=version_id,
        post_id=post_id,
        by_name=name,
        via=via,
        at=when,
    )
    session.add(ack)
    _stop_escalations(session, version=version, post_id=post_id)
    session.flush()
    record(
        session,
        actor_id=None,
        action="dispatch.acknowledged",
        entity="alert_version",
        entity_id=version_id,
        data={"post_id": post_id, "ack_id": ack.id, "via": str(via)},
    )
    return ack


def acknowledge_by_link(
    session: Session, *, delivery_id: str, token: str, by: str
) -> Acknowledgement:
    """Acknowledge through a delivery's signed link (token checked against the post's current
    and, until the rotation's end, previous secret); then as ``acknowledge``."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise AckRefused("unknown delivery")
    given = token.encode("utf-8", "replace")  # bytes: compare_digest refuses non-ASCII str
    secrets = live_secrets(session.get(PostKey, delivery.post_id))
    if not any(hmac.compare_digest(ack_token(s, delivery_id).encode(), given) for s in secrets):
        raise AckRefused("the acknowledgement link is not valid")
    return acknowledge(
        session, version_id=delivery.version_id, post_id=delivery.post_id, by=by, via=AckVia.LINK
    )


def purge_ack_names(session: Session, *, alert_ids: list[str]) -> int:
    """Blank the names of every acknowledgement of ``alert_ids`` (the retention purge of a
    closed case): the acknowledgements, their times and posts remain. Returns how many."""
    if not alert_ids:
        return 0
    result = session.execute(
        update(Acknowledgement)
        .where(Acknowledgement.alert_id.in_(alert_ids))
        .values(by_name="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.alert_id.in_(alert_ids), Delivery.acknowledged_by.is_not(None))
        .values(acknowledged_by="")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
