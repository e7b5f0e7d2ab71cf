"""The NATS relay: publishes due outbox rows to JetStream, in parcels, and runs escalations.

A row is published for one attempt at a time: ``queued_attempt`` remembers which, so a row is
not published twice for the same attempt unless its message is presumed lost
(``requeue_after_s``). The publication id of a row (``msg_id``) is derived from the database
state, and a parcel's ``Nats-Msg-Id`` from its rows' ids (``bolo.dispatch.nats.parcels``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import nats
from sqlalchemy import Engine, Table, or_, select, update
from sqlalchemy.orm import Session

from bolo import clock
from bolo.dispatch.attempts import due_clause, id_chunks_by_number
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.escalation import run_escalations
from bolo.dispatch.model import Delivery
from bolo.dispatch.nats.connection import Names, connect_or_stop, ensure_stream
from bolo.dispatch.nats.parcels import PickedRow, parcels
from bolo.store.db import session_scope

log = logging.getLogger(__name__)
_T = cast(Table, Delivery.__table__)
# Rows published between two marks: what a relay that dies may publish again.
PUBLISH_LOT_ROWS = 512


def msg_id(delivery_id: str, attempt: int, queued_at: datetime | None) -> str:
    """The publication id of one row's attempt: the same DB state gives the same id, so a
    relay that dies between publishing and committing republishes a duplicate JetStream
    drops."""
    stamp = int(queued_at.timestamp() * 1000) if queued_at else 0
    return f"{delivery_id}:{attempt}:{stamp}"


def pick_unqueued(session: Session, *, limit: int, requeue_after_s: float) -> list[PickedRow]:
    """Due rows not yet published for their next attempt (or published so long ago that the
    message is presumed lost): (delivery id, attempt number, publication id), in a stable
    order (due time, then id) so a republication groups them into the same parcels."""
    when = clock.now()
    stale = when - timedelta(seconds=requeue_after_s)
    rows = session.execute(
        select(Delivery.id, Delivery.attempts, Delivery.queued_attempt, Delivery.queued_at)
        .where(*due_clause(when))
        .where(or_(Delivery.queued_attempt <= Delivery.attempts, Delivery.queued_at < stale))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    ).all()
    picked = []
    for row in rows:
        attempt = row.attempts + 1
        # A row already queued for this attempt (its message presumed lost) keeps its stamp.
        queued_at = row.queued_at if row.queued_attempt > row.attempts else None
        picked.append(PickedRow(row.id, attempt, msg_id(row.id, attempt, queued_at)))
    return picked


def mark_queued(session: Session, picked: Sequence[PickedRow]) -> None:
    """Remember that these attempts are published: one UPDATE per attempt number and few
    hundred rows (a fan-out is almost all first attempts), not one per row."""
    when = clock.now()
    for attempt, ids in id_chunks_by_number((row.delivery_id, row.attempt) for row in picked):
        session.connection().execute(
            update(_T).where(_T.c.id.in_(ids)).values(queued_attempt=attempt, queued_at=when)
        )


@dataclass
class Relay:
    """Publishes due outbox rows to JetStream and runs due escalations."""

    engine: Engine
    url: str
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    names: Names = field(default_factory=Names)

    def _pick(self) -> list[PickedRow]:
        with session_scope(self.engine) as session:
            return pick_unqueued(
                session,
                limit=self.settings.batch * 5,
                requeue_after_s=self.settings.requeue_after_s,
            )

    def _mark(self, picked: Sequence[PickedRow]) -> None:
        with session_scope(self.engine) as session:
            mark_queued(session, picked)

    def _escalate(self) -> int:
        with session_scope(self.engine) as session:
            return run_escalations(session)

    async def publish_once(self, js: Any) -> int:
        """Publish one round of due rows (parcels of ``rows_per_message``, a few hundred rows
        at a time, each lot marked once JetStream stored it); return how many rows."""
        picked = await asyncio.to_thread(self._pick)
        lot = max(1, PUBLISH_LOT_ROWS // self.settings.rows_per_message)
        todo = list(parcels(picked, rows_per_message=self.settings.rows_per_message))
        for start in range(0, len(todo), lot):
            chunk = todo[start : start + lot]
            await asyncio.gather(
                *(
                    js.publish(self.names.subject, p.body, headers={"Nats-Msg-Id": p.msg_id})
                    for p in chunk
                )
            )
            await asyncio.to_thread(self._mark, [row for p in chunk for row in p.rows])
        return len(picked)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set."""
        nc = await connect_or_stop(self.url, stop)
        if nc is None:
            return
        js = nc.jetstream()
        await ensure_stream(js, self.names)
        loop = asyncio.get_running_loop()
        next_escalation = 0.0
        try:
            while not stop.is_set():
                if loop.time() >= next_escalation:
                    await asyncio.to_thread(self._escalate)
                    next_escalation = loop.time() + 1.0
                try:
                    published = await self.publish_once(js)
                except (nats.errors.Error, TimeoutError) as exc:
                    log.warning("relay publish failed (%r); retrying", exc)
                    published = 0
                if not published:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.poll_s)
        finally:
            await nc.close()
