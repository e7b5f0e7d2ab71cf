"""An attempt's life: leasing due rows, recording what each send got, the status transitions
(backoff, 410 disabling the endpoint, fallback to the post's next channel).

A row is due (``due_clause``) when it is active, pending or failed_temporary, and its
``next_attempt_at`` has come; ``claim_due`` leases due rows for the in-process dispatcher (the
NATS relay publishes them instead: ``bolo.dispatch.nats.relay``); ``record_attempts`` stores a
batch of finished attempts and moves each row on by the retry policy
(``bolo.dispatch.policy.RetryPolicy``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Insert, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bolo import clock
from bolo.dispatch.channels.base import SendResult
from bolo.dispatch.model import (
    FINAL_STATUSES,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    DisabledEndpoint,
    Phase,
)
from bolo.dispatch.outbox import retire_cancel_standbys
from bolo.dispatch.policy import Outcome, RetryPolicy

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


_CLAIMED = (
    Delivery.id,
    Delivery.version_id,
    Delivery.post_id,
    Delivery.url,
    Delivery.channel_kind,
    Delivery.attempts,
)


def _claimed(row: Any) -> Claimed:
    return Claimed(
        id=row.id,
        version_id=row.version_id,
        post_id=row.post_id,
        url=row.url,
        channel_kind=row.channel_kind,
        attempts=row.attempts,
    )


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
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    )
    return [_claimed(row) for row in rows]


def still_wanted(session: Session, wanted: Mapping[str, int]) -> list[Claimed]:
    """The rows of ``wanted`` (delivery id -> the attempt number a broker message asks for)
    that still need that attempt: active, pending or failed_temporary, and attempted fewer
    times. No lease: the broker's redelivery after its ack wait plays that part."""
    rows = session.execute(
        select(*_CLAIMED, Delivery.phase, Delivery.status).where(Delivery.id.in_(list(wanted)))
    )
    return [
        _claimed(row)
        for row in rows
        if row.phase == Phase.ACTIVE and row.status in SENDABLE and row.attempts < wanted[row.id]
    ]


_T = cast(Table, Delivery.__table__)
_A = cast(Table, DeliveryAttempt.__table__)


@dataclass(frozen=True)
class Attempt:
    """One finished attempt: delivery id, its 1-based number, the channel's answer."""

    delivery_id: str
    number: int
    result: SendResult


def _transition(
    attempt: Attempt, policy: RetryPolicy, rng: random.Random, when: datetime
) -> dict[str, Any]:
    outcome = attempt.result.outcome
    values: dict[str, Any] = {
        "_id": attempt.delivery_id,
        "_n": attempt.number,
        "attempts": attempt.number,
        "lease_until": None,
        "last_error": attempt.result.error,
        "sent_at": when,
        "delivered_at": None,
        "next_attempt_at": None,
    }
    if outcome is Outcome.DELIVERED:
        values["status"], values["delivered_at"] = DeliveryStatus.DELIVERED, when
        return values
    if outcome is Outcome.SENT:
        values["status"] = DeliveryStatus.SENT
        return values
    delay = policy.next_delay(outcome, attempt.number, rng, attempt.result.retry_after_s)
    if delay is None:
        values["status"] = DeliveryStatus.FAILED_PERMANENT
    else:
        values["status"] = DeliveryStatus.FAILED_TEMPORARY
        values["next_attempt_at"] = when + timedelta(seconds=delay)
    return values


def activate_next_standby(
    session: Session, *, version_id: str, post_id: str, when: datetime
) -> Delivery | None:
    """Make the post's next standby channel of this version (the lowest channel index) active
    and due at ``when``; return it, or None when no standby channel is left. Both ways a post
    moves to its next channel go through here: fallback when one fails for good, and
    escalation when the post does not acknowledge."""
    standby = session.scalars(
        select(Delivery)
        .where(
            Delivery.version_id == version_id,
            Delivery.post_id == post_id,
            Delivery.phase == Phase.STANDBY,
        )
        .order_by(Delivery.channel_index)
        .limit(1)
    ).first()
    if standby is not None:
        standby.phase, standby.next_attempt_at = Phase.ACTIVE, when
    return standby


def _fallback(session: Session, failed: Sequence[str], when: datetime) -> None:
    """A post whose channel failed for good gets its next standby channel at once."""
    if not failed:
        return
    rows = session.execute(
        select(Delivery.version_id, Delivery.post_id).where(Delivery.id.in_(failed))
    ).all()
    for row in rows:
        activate_next_standby(session, version_id=row.version_id, post_id=row.post_id, when=when)


def _disable_endpoints(session: Session, ids: Sequence[str], when: datetime) -> None:
    if not ids:
        return
    rows = session.execute(select(Delivery.post_id, Delivery.url).where(Delivery.id.in_(ids)))
    for post_id, url in set(rows.all()):
        if session.get(DisabledEndpoint, (post_id, url)) is None:
            session.add(
                DisabledEndpoint(post_id=post_id, url=url, disabled_at=when, reason="HTTP 410 Gone")
            )


_ATTEMPT_KEY = [_A.c.delivery_id, _A.c.number]


def _attempt_insert(session: Session) -> Insert:
    """The INSERT of attempt rows that skips an attempt already stored (same delivery and
    number): a batch recorded again after its commit (a retried record, a redelivered parcel
    loaded before the first record committed) adds no second row. Other dialects get a plain
    INSERT, and the unique index refuses the repeat."""
    dialect = session.connection().dialect.name
    if dialect == postgresql.dialect.name:
        return postgresql.insert(_A).on_conflict_do_nothing(index_elements=_ATTEMPT_KEY)
    if dialect == sqlite.dialect.name:
        return sqlite.insert(_A).on_conflict_do_nothing(index_elements=_ATTEMPT_KEY)
    return insert(_A)


_NOT_FINAL = [_T.c.status != str(s) for s in FINAL_STATUSES]
ID_CHUNK = 500  # ids per UPDATE ... WHERE id IN (...)


def id_chunks_by_number(
    pairs: Iterable[tuple[str, int]], size: int = ID_CHUNK
) -> Iterator[tuple[int, list[str]]]:
    """(attempt number, up to ``size`` delivery ids) for ``pairs`` of (delivery id, attempt
    number): one statement per number and chunk instead of a parameter set per row (a fan-out
    is almost all one number)."""
    by_number: dict[int, list[str]] = {}
    for delivery_id, number in pairs:
        by_number.setdefault(number, []).append(delivery_id)
    for number, ids in by_number.items():
        for start in range(0, len(ids), size):
            yield number, ids[start : start + size]


def _record_delivered(
    session: Session, delivered: Sequence[Attempt], when: datetime
) -> list[tuple[str, str]]:
    """Mark delivered rows with one UPDATE per attempt number (almost always just 1) and id
    list, instead of one parameter set per row: the common case of a fan-out costs the
    database one statement per few hundred deliveries. Returns (version id, post id) of the
    rows this call changed."""
    changed: list[tuple[str, str]] = []
    for number, ids in id_chunks_by_number((a.delivery_id, a.number) for a in delivered):
        result = session.connection().execute(
            update(_T)
            .where(_T.c.id.in_(ids), _T.c.attempts < number, *_NOT_FINAL)
            .values(
                status=DeliveryStatus.DELIVERED,
                attempts=number,
                lease_until=None,
                last_error=None,
                sent_at=when,
                delivered_at=when,
                next_attempt_at=None,
            )
            .returning(_T.c.version_id, _T.c.post_id)
        )
        changed.extend((version_id, post_id) for version_id, post_id in result)
    return changed


def _sent_rows(session: Session, sent: Sequence[str]) -> list[tuple[str, str]]:
    """(version id, post id) of the rows among ``sent`` that are now sent (few: a first
    channel that does not confirm receipt)."""
    if not sent:
        return []
    rows = session.connection().execute(
        select(_T.c.version_id, _T.c.post_id).where(
            _T.c.id.in_(sent), _T.c.status == DeliveryStatus.SENT
        )
    )
    return [(version_id, post_id) for version_id, post_id in rows]


def _record_others(session: Session, params: Sequence[dict[str, Any]]) -> tuple[int, list[str]]:
    """Move on the rows of attempts that did not deliver; return how many rows changed and the
    ids of the rows this call made failed_permanent. Those few are updated one by one so their
    row count says whether this call changed them: a batch recorded again must not fall back
    to the next channel a second time."""
    if not params:
        return 0, []
    stmt = (
        update(_T)
        .where(and_(_T.c.id == bindparam("_id"), _T.c.attempts < bindparam("_n"), *_NOT_FINAL))
        .values({k: bindparam(k) for k in params[0] if not k.startswith("_")})
    )
    connection = session.connection()
    failed = [p for p in params if p["status"] == DeliveryStatus.FAILED_PERMANENT]
    others = [p for p in params if p["status"] != DeliveryStatus.FAILED_PERMANENT]
    changed = (connection.execute(stmt, others).rowcount or 0) if others else 0
    newly_failed = [p["_id"] for p in failed if connection.execute(stmt, p).rowcount]
    return changed + len(newly_failed), newly_failed


def record_attempts(
    session: Session,
    attempts: Sequence[Attempt],
    *,
    policy: RetryPolicy,
    rng: random.Random,
    worker: str = "",
) -> int:
    """Store a batch of attempts and move each delivery on; return how many rows changed.

    An attempt whose number is not above the row's recorded attempts (a redelivered message
    after a crash) or whose row is already final changes nothing, and an attempt already stored
    (same delivery and number) is not stored again: recording is idempotent.
    """
    if not attempts:
        return 0
    when = clock.now()
    delivered = [a for a in attempts if a.result.outcome is Outcome.DELIVERED]
    reached = _record_delivered(session, delivered, when)
    more, newly_failed = _record_others(
        session,
        [
            _transition(a, policy, rng, when)
            for a in attempts
            if a.result.outcome is not Outcome.DELIVERED
        ],
    )
    session.connection().execute(
        _attempt_insert(session),
        [
            {
                "delivery_id": a.delivery_id,
                "number": a.number,
                "at": when,
                "duration_s": a.result.duration_s,
                "outcome": a.result.outcome,
                "status_code": a.result.status_code,
                "error": a.result.error,
                "worker": worker,
            }
            for a in attempts
        ],
    )
    gone = [a.delivery_id for a in attempts if a.result.outcome is Outcome.DISABLE]
    _disable_endpoints(session, gone, when)
    _fallback(session, newly_failed, when)
    # A Cancel that reached its post needs none of the post's standby channels any more.
    sent = [a.delivery_id for a in attempts if a.result.outcome is Outcome.SENT]
    retire_cancel_standbys(session, reached + _sent_rows(session, sent))
    return len(reached) + more
