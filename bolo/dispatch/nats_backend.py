"""The NATS JetStream backend: a relay publishes due outbox rows (``Nats-Msg-Id`` makes a
re-publish after a relay crash a no-op); any number of ``bolo dispatcher`` workers, on any
machines, pull them from one durable consumer and ack each after its attempt is recorded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import nats
from nats.js.api import ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from sqlalchemy import Engine, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from bolo import clock
from bolo.dispatch.channels.base import Message
from bolo.dispatch.claims import Claimed, due_clause
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.escalation import run_escalations
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.model import Delivery
from bolo.dispatch.results import Attempt
from bolo.dispatch.sending import Sender
from bolo.dispatch.store import DbOp, DbRunner, OutboxStore
from bolo.store.db import session_scope

log = logging.getLogger(__name__)
STREAM = "BOLO_DISPATCH"
SUBJECT = "bolo.dispatch.deliveries"
DURABLE = "bolo-dispatchers"
DUPLICATE_WINDOW_S = 600.0


async def connect(url: str) -> Any:
    """A NATS connection that keeps reconnecting (a server restart is an outage, not an end)."""
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
                              connect_timeout=5, error_cb=_log_error)


async def _log_error(exc: Exception) -> None:
    # One line per connection problem; the client keeps reconnecting on its own.
    log.warning("nats: %r", exc)


@dataclass(frozen=True)
class Names:
    """Stream, subject and durable consumer names (tests and benchmarks use their own)."""

    stream: str = STREAM
    subject: str = SUBJECT
    durable: str = DURABLE

    @classmethod
    def with_suffix(cls, suffix: str) -> Names:
        """Names of a separate stream, e.g. for one benchmark run."""
        return cls(f"{STREAM}_{suffix}", f"{SUBJECT}.{suffix}", f"{DURABLE}-{suffix}")


async def connect_or_stop(url: str, stop: asyncio.Event) -> Any | None:
    """Connect (retrying while the server is down); None when ``stop`` is set first."""
    connecting = asyncio.ensure_future(connect(url))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if connecting.done():
        return connecting.result()
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connecting
    return None


async def ensure_stream(js: Any, names: Names | None = None) -> None:
    """Create the work-queue stream (file storage: messages survive a server restart)."""
    names = names or Names()
    config = StreamConfig(name=names.stream, subjects=[names.subject],
                          retention=RetentionPolicy.WORK_QUEUE,
                          storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_S)
    try:
        await js.stream_info(names.stream)
    except nats.js.errors.NotFoundError:
        await js.add_stream(config)


def msg_id(delivery_id: str, attempt: int, queued_at: datetime | None) -> str:
    """The ``Nats-Msg-Id`` of one publication: the same DB state gives the same id, so a relay
    that dies between publishing and committing re-publishes as a duplicate JetStream drops."""
    stamp = int(queued_at.timestamp() * 1000) if queued_at else 0
    return f"{delivery_id}:{attempt}:{stamp}"


def pick_unqueued(session: Session, *, limit: int, requeue_after_s: float
                  ) -> list[tuple[str, int, str]]:
    """Due rows not yet published for their next attempt (or published so long ago that the
    message is presumed lost): (delivery id, attempt number, Nats-Msg-Id)."""
    when = clock.now()
    stale = when - timedelta(seconds=requeue_after_s)
    rows = session.execute(
        select(Delivery.id, Delivery.attempts, Delivery.queued_attempt, Delivery.queued_at)
        .where(*due_clause(when))
        .where(or_(Delivery.queued_attempt <= Delivery.attempts, Delivery.queued_at < stale))
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    ).all()
    return [(d, a + 1, msg_id(d, a + 1, q_at if q > a else None)) for d, a, q, q_at in rows]


def mark_queued(session: Session, picked: Sequence[tuple[str, int, str]]) -> None:
    """Remember that these attempts are published."""
    if not picked:
        return
    when = clock.now()
    table = cast(Table, Delivery.__table__)
    session.connection().execute(
        update(table).where(table.c.id == bindparam("_id"))
        .values(queued_attempt=bindparam("_attempt"), queued_at=when),
        [{"_id": d, "_attempt": a} for d, a, _ in picked],
    )


@dataclass
class Relay:
    """Publishes due outbox rows to JetStream and runs due escalations."""

    engine: Engine
    url: str
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    names: Names = field(default_factory=Names)

    def _pick(self) -> list[tuple[str, int, str]]:
        with session_scope(self.engine) as session:
            return pick_unqueued(session, limit=self.settings.batch * 5,
                                 requeue_after_s=self.settings.requeue_after_s)

    def _mark(self, picked: Sequence[tuple[str, int, str]]) -> None:
        with session_scope(self.engine) as session:
            mark_queued(session, picked)

    def _escalate(self) -> int:
        with session_scope(self.engine) as session:
            return run_escalations(session)

    async def publish_once(self, js: Any) -> int:
        """Publish one round of due rows; return how many."""
        picked = await asyncio.to_thread(self._pick)
        for start in range(0, len(picked), 500):
            chunk = picked[start : start + 500]
            await asyncio.gather(*(
                js.publish(self.names.subject, json.dumps({"id": d, "attempt": a}).encode(),
                           headers={"Nats-Msg-Id": mid})
                for d, a, mid in chunk
            ))
            await asyncio.to_thread(self._mark, chunk)
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


@dataclass
class NatsWorker:
    """Pulls delivery messages, sends, records, then acks (explicit acks: a worker that dies
    before acking leaves its messages to be redelivered to another)."""

    engine: Engine
    url: str
    sender: Sender
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    rng: random.Random = field(default_factory=random.Random)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-nats")
    builder: MessageBuilder = field(default_factory=MessageBuilder)
    fetchers: int = 4
    fetch_batch: int = 128
    names: Names = field(default_factory=Names)
    separate_db_process: bool = False
    _gate: asyncio.Semaphore = field(init=False)
    _db: DbRunner = field(init=False)

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.settings.concurrency)
        store = OutboxStore(engine=self.engine, settings=self.settings, name=self.name,
                            rng=self.rng, builder=self.builder)
        # Fetchers load and record independently (no leases to race on, recording is
        # idempotent): on PostgreSQL they get a connection each, SQLite keeps one writer.
        threads = 1 if self.engine.dialect.name == "sqlite" else self.fetchers
        self._db = DbRunner(store, separate_process=self.separate_db_process, threads=threads)

    async def handle(self, msgs: Sequence[Any]) -> int:
        """Send and record one fetched batch, then ack it; return the attempts made."""
        wanted: dict[str, int] = {}
        for m in msgs:
            data = json.loads(m.data)
            wanted[str(data["id"])] = max(wanted.get(str(data["id"]), 0), int(data["attempt"]))
        jobs: list[tuple[Claimed, Message]] = await self._db(DbOp.LOAD, wanted)

        async def bounded(row: Claimed, message: Message) -> Attempt:
            async with self._gate:
                result = await self.sender.send(row.channel_kind, message)
            return Attempt(row.id, row.attempts + 1, result)

        attempts = await asyncio.gather(*(bounded(r, m) for r, m in jobs))
        await self._db(DbOp.RECORD, attempts)
        await asyncio.gather(*(m.ack() for m in msgs))
        return len(attempts)

    async def _fetch_loop(self, sub: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                msgs = await sub.fetch(self.fetch_batch, timeout=1.0)
            except TimeoutError:
                continue
            except nats.errors.ConnectionClosedError:
                return
            except nats.errors.Error as exc:
                log.warning("fetch failed (%r); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            try:
                await self.handle(msgs)
            except Exception:
                # Unacked messages come back after ack_wait; recorded attempts are skipped then.
                log.exception("batch failed; its messages will be redelivered")
                await asyncio.sleep(0.5)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set."""
        nc = await connect_or_stop(self.url, stop)
        if nc is None:
            return
        js = nc.jetstream()
        await ensure_stream(js, self.names)
        config = ConsumerConfig(durable_name=self.names.durable,
                                ack_wait=self.settings.ack_wait_s,
                                max_ack_pending=20_000, max_waiting=512)
        sub = await js.pull_subscribe(self.names.subject, durable=self.names.durable,
                                      stream=self.names.stream, config=config)
        try:
            await asyncio.gather(*(self._fetch_loop(sub, stop) for _ in range(self.fetchers)))
        finally:
            await nc.close()
            self._db.close()
