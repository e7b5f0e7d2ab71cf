"""Claiming due outbox rows with a lease, safely across processes (SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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


def claim_due(session: Session, *, limit: int, lease_s: float) -> list[Delivery]:
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
    ids = list(session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(chosen))
        .values(lease_until=when + timedelta(seconds=lease_s))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ))
    if not ids:
        return []
    return list(session.scalars(select(Delivery).where(Delivery.id.in_(ids))))
