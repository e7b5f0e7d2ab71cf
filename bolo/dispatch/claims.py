"""Claiming due outbox rows with a lease, safely across processes (SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bolo import clock
from bolo.dispatch.model import Delivery, DeliveryStatus, Phase

SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED_TEMPORARY)


def due_clause(when: datetime) -> list[Any]:
    """Conditions of a row that should be attempted at ``when``."""
    return [
        Delivery.phase == Phase.ACTIVE,
        Delivery.status.in_([str(s) for s in SENDABLE]),
        Delivery.next_attempt_at <= when,
    ]


class Claimed(NamedTuple):
    """What sending needs of a claimed row (plain tuple: no ORM object per delivery)."""

    id: str
    version_id: str
    post_id: str
    url: str
    channel_kind: str
    attempts: int


def claim_due(session: Session, *, limit: int, lease_s: float) -> list[Claimed]:
    """Lease up to ``limit`` due rows for ``lease_s`` seconds and return them.

    One UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING statement, so two
    dispatchers never lease the same row; a leased row whose worker dies is due again when its
    lease runs out (that is the in-flight window where a send may be repeated).
    """
    when = clock.now()
    chosen = (
        select(Delivery.id)
        .where(*due_clause(when))
        .where(or_(Delivery.lease_until.is_(None), Delivery.lease_until < when))
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(chosen))
        .values(lease_until=when + timedelta(seconds=lease_s))
        .returning(
            Delivery.id,
            Delivery.version_id,
            Delivery.post_id,
            Delivery.url,
            Delivery.channel_kind,
            Delivery.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    return [Claimed(*row) for row in rows]
