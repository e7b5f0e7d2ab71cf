"""Claiming due outbox rows with a lease, safely across processes (SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bolo import clock
from bolo.dispatch.channels.base import ChannelKind, Message, SendResult
from bolo.dispatch.model import Delivery, DeliveryStatus, Phase
from bolo.dispatch.policy import Outcome
from bolo.dispatch.results import Attempt
from bolo.dispatch.signing import Ed25519Key, Key, key_from_string, signature

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
        .returning(Delivery.id, Delivery.version_id, Delivery.post_id, Delivery.url,
                   Delivery.channel_kind, Delivery.attempts)
        .execution_options(synchronize_session=False)
    )
    return [Claimed(*row) for row in rows]


# What crosses from the dispatcher's database side to its event loop and back, as plain
# tuples: pickling them costs the event loop a fraction of what the dataclasses cost.
WireJob = tuple[str, str, str, str, str, int, bytes, str, str, str, tuple[str, ...], str, int]
WireAttempt = tuple[str, int, str, int | None, str | None, float | None, float]


def _secret(key: Key) -> str:
    return key.private if isinstance(key, Ed25519Key) else key.secret


@lru_cache(maxsize=4096)
def _key(secret: str) -> Key:
    # Cached: an ed25519 seed takes a public-key derivation to parse.
    return key_from_string(secret)


def encode_job(row: Claimed, message: Message, timestamp: int) -> WireJob:
    """A claimed row and its message as a plain tuple; a webhook is signed for ``timestamp``
    (Unix seconds) here, on the database side, so the sending loop computes no HMAC."""
    signed = ""
    if row.channel_kind == ChannelKind.WEBHOOK and message.keys:
        with contextlib.suppress(ValueError):  # the send signs again and reports why not
            signed = signature(msg_id=message.msg_id, timestamp=timestamp, body=message.body,
                               keys=message.keys)
    return (row.id, row.version_id, row.post_id, row.url, row.channel_kind, row.attempts,
            message.body, message.title, message.text, message.region,
            tuple(_secret(k) for k in message.keys), signed, timestamp if signed else 0)


def decode_job(job: WireJob) -> tuple[Claimed, Message]:
    """The row and message ``encode_job`` was given (with the signature it made)."""
    (id_, version_id, post_id, url, kind, attempts, body, title, text, region, secrets,
     signed, signed_at) = job
    return (Claimed(id_, version_id, post_id, url, kind, attempts),
            Message(id_, post_id, url, body, title, text, region,
                    tuple(_key(s) for s in secrets), signed, signed_at))


def encode_attempt(attempt: Attempt) -> WireAttempt:
    """A finished attempt as a plain tuple."""
    r = attempt.result
    return (attempt.delivery_id, attempt.number, r.outcome.value, r.status_code, r.error,
            r.retry_after_s, r.duration_s)


def decode_attempt(wire: WireAttempt) -> Attempt:
    """The attempt ``encode_attempt`` was given."""
    id_, number, outcome, status, error, retry_after, duration = wire
    return Attempt(id_, number, SendResult(Outcome(outcome), status_code=status, error=error,
                                           retry_after_s=retry_after, duration_s=duration))
