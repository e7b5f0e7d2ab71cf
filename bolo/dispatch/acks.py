"""Acknowledgements: by a named person, through the signed link or the API."""

from __future__ import annotations

import hmac
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bolo import clock
from bolo.audit.service import record
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
from bolo.errors import Forbidden


class AckVia(StrEnum):
    """How the acknowledgement arrived."""

    LINK = "link"
    API = "api"


class AckRefused(Forbidden):
    """The acknowledgement was refused (unknown delivery, bad token, no name)."""


class AckNeedsName(AckRefused):
    """An acknowledgement without the name of the person."""

    status = 422


def _stop_escalations(session: Session, *, alert_id: str, post_id: str) -> None:
    when = clock.now()
    session.execute(
        update(Escalation)
        .where(Escalation.alert_id == alert_id, Escalation.post_id == post_id,
               Escalation.state == EscalationState.PENDING)
        .values(state=EscalationState.ACKNOWLEDGED, due_at=None, updated_at=when)
        .execution_options(synchronize_session="fetch")
    )
    # What was escalated to the supervisor on this post's behalf is no longer needed.
    session.execute(
        update(Escalation)
        .where(Escalation.alert_id == alert_id, Escalation.origin_post_id == post_id,
               Escalation.state == EscalationState.PENDING)
        .values(state=EscalationState.STOPPED, due_at=None, updated_at=when)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(Delivery)
        .where(Delivery.alert_id == alert_id,
               or_(Delivery.post_id == post_id, Delivery.origin_post_id == post_id))
        .where(or_(Delivery.phase == Phase.STANDBY,
                   Delivery.origin_post_id == post_id))
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.attempts == 0)
        .values(phase=Phase.STOPPED, last_error="stopped: acknowledged")
        .execution_options(synchronize_session="fetch")
    )


def acknowledge(
    session: Session, *, version_id: str, post_id: str, by: str, via: AckVia = AckVia.API
) -> Acknowledgement:
    """Record that ``by`` (a named person) at ``post_id`` acknowledged the version, and stop
    every pending escalation of that post for the alert. Delivered and acknowledged stay apart:
    this sets ``acknowledged_at``/``acknowledged_by`` only."""
    name = by.strip()
    if not name:
        raise AckNeedsName("an acknowledgement needs the name of the person")
    delivery = session.scalars(
        select(Delivery).where(Delivery.version_id == version_id, Delivery.post_id == post_id)
        .limit(1)
    ).first()
    if delivery is None:
        raise AckRefused("this post was not sent this alert version")
    when = clock.now()
    ack = Acknowledgement(alert_id=delivery.alert_id, version_id=version_id, post_id=post_id,
                          by_name=name[:200], via=via, at=when)
    session.add(ack)
    session.execute(
        update(Delivery)
        .where(Delivery.version_id == version_id, Delivery.post_id == post_id,
               Delivery.acknowledged_at.is_(None))
        .values(acknowledged_at=when, acknowledged_by=name[:200])
        .execution_options(synchronize_session="fetch")
    )
    _stop_escalations(session, alert_id=delivery.alert_id, post_id=post_id)
    session.flush()
    record(session, actor_id=None, action="dispatch.acknowledged", entity="alert_version",
           entity_id=version_id, data={"post_id": post_id, "ack_id": ack.id, "via": str(via)})
    return ack


def acknowledge_by_link(
    session: Session, *, delivery_id: str, token: str, by: str
) -> Acknowledgement:
    """Acknowledge through a delivery's signed link (token checked against the post's current
    and, during rotation, previous secret)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise AckRefused("unknown delivery")
    key = session.get(PostKey, delivery.post_id)
    secrets = [s for s in (key.secret, key.previous_secret) if s] if key else []
    if not any(hmac.compare_digest(ack_token(s, delivery_id), token) for s in secrets):
        raise AckRefused("the acknowledgement link is not valid")
    return acknowledge(session, version_id=delivery.version_id, post_id=delivery.post_id,
                       by=by, via=AckVia.LINK)
