"""A NATS dispatcher worker: pulls parcels, sends their rows, records the attempts, acks.

On the pipeline the in-process dispatcher uses (``bolo.dispatch.runner.send_loop``): fetchers pull
parcels and load their rows while ``concurrency`` senders send and a writer records finished
attempts in batches. A parcel is
acked once every row it carried is recorded (or needed no attempt): a worker that dies leaves
its unacked parcels to be redelivered after ``ack_wait_s``, and attempts already recorded are
skipped then. A parcel still waiting for a row is reported in progress every third of
``ack_wait_s`` (a rate-limited gateway can hold it for minutes), and a parcel redelivered while
its row is on its way joins the send instead of repeating it. A send holds one of
``in_flight_window`` tokens until its attempt is committed, so at most that many deliveries are
sent-but-unrecorded when a worker dies.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.js.api import ConsumerConfig
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bolo.dispatch.attempts import Attempt, Claimed
from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.channels.sender import Sender
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.nats.connection import Names, connect_or_stop, ensure_stream
from bolo.dispatch.nats.parcels import rows_of
from bolo.dispatch.policy import Outcome
from bolo.dispatch.runner.database import DbOp, DbRunner, OutboxStore
from bolo.dispatch.runner.send_loop import SendPipeline

log = logging.getLogger(__name__)
# How long one pull waits for messages. Short: nats-py's fetch of N messages can wait its
# whole timeout when fewer than N are left, which put the last parcels of a fan-out a second
# behind the rest; an idle worker pays one cheap pull request per interval.
FETCH_WAIT_S = 0.1
RETRY_PAUSE_S = 0.5


class _Parcel:
    """A fetched message and how many of its rows are not yet recorded."""

    __slots__ = ("msg", "open")

    def __init__(self, msg: Any, rows: int) -> None:
        self.msg = msg
        self.open = rows


_Job = tuple[Claimed, Message, list[_Parcel]]
_Done = tuple[Attempt, list[_Parcel]]


@dataclass
class NatsWorker:
    """Pulls parcels from the durable consumer, sends, records, then acks (explicit acks)."""

    engine: Engine
    url: str
    sender: Sender
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    rng: random.Random = field(default_factory=random.Random)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-nats")
    builder: MessageBuilder = field(default_factory=MessageBuilder)
    fetchers: int = 2
    fetch_batch: int = 4  # messages per pull; each a parcel of up to rows_per_message rows
    names: Names = field(default_factory=Names)
    _db: DbRunner = field(init=False)
    # Delivery id -> the parcels waiting for that row, while it is queued or being sent: a
    # parcel redelivered meanwhile joins them instead of sending the row a second time.
    _waiting: dict[str, list[_Parcel]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        store = OutboxStore(
            engine=self.engine,
            settings=self.settings,
            name=self.name,
            rng=self.rng,
            builder=self.builder,
        )
        # Loads and records run concurrently (recording is idempotent, loading takes no
        # lease): on PostgreSQL a connection each, SQLite keeps one writer.
        threads = 1 if self.engine.dialect.name == "sqlite" else self.fetchers + 1
        self._db = DbRunner(store, threads=threads)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then finish what was fetched and record it."""
        nc = await connect_or_stop(self.url, stop)
        if nc is None:
            return
        try:
            sub = await self._subscribe(nc)
            await self._pipeline(sub, stop)
        finally:
            await nc.close()
            await self.sender.channels.aclose()
            await self._db.aclose()

    async def _subscribe(self, nc: Any) -> Any:
        js = nc.jetstream()
        await ensure_stream(js, self.names)
        config = ConsumerConfig(
            durable_name=self.names.durable,
            ack_wait=self.settings.ack_wait_s,
            max_ack_pending=20_000,
            max_waiting=512,
        )
        return await js.pull_subscribe(
            self.names.subject, durable=self.names.durable, stream=self.names.stream, config=config
        )

    async def _pipeline(self, sub: Any, stop: asyncio.Event) -> None:
        self._waiting = {}
        pipeline: SendPipeline[_Job, _Done] = SendPipeline(
            send=self._send_job,
            record=lambda batch: self._record_and_ack(batch, stop),
            concurrency=self.settings.concurrency,
            window=self.settings.in_flight_window,
            room_below=self._queue_limit(),
        )
        keep_alive = asyncio.create_task(self._keep_alive())
        try:
            await pipeline.run(
                asyncio.gather(*(self._fetcher(sub, pipeline, stop) for _ in range(self.fetchers))),
                stop,
            )
        finally:
            keep_alive.cancel()

    async def _keep_alive(self) -> None:
        """Tell JetStream every third of ``ack_wait_s`` that the parcels still waiting for a
        row are being worked on: a parcel held longer (rate-limited gateways, a slow
        endpoint) would otherwise be redelivered and its rows sent again."""
        while True:
            await asyncio.sleep(self.settings.ack_wait_s / 3)
            held = {id(p): p for ps in self._waiting.values() for p in ps if p.open > 0}
            await _reply([p.msg for p in held.values()], "in_progress")

    def _queue_limit(self) -> int:
        # Loaded but not yet sent: enough to keep every sender busy while the next pull and
        # load are under way, not so much that a slow endpoint strands many parcels here.
        return max(self.settings.concurrency, self.fetch_batch * self.settings.rows_per_message)

    async def _fetcher(
        self, sub: Any, pipeline: SendPipeline[_Job, _Done], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            if not pipeline.has_room():
                await pipeline.wait_for_room(self.settings.poll_s)
                continue
            try:
                msgs = await sub.fetch(self.fetch_batch, timeout=FETCH_WAIT_S)
            except TimeoutError:
                continue
            except nats.errors.ConnectionClosedError:
                return
            except nats.errors.Error as exc:
                log.warning("fetch failed (%r); retrying", exc)
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            try:
                await self._take(msgs, pipeline.queue)
            except Exception:
                # Given back at once (not after ack_wait); recorded attempts are skipped then.
                log.exception("loading a fetched batch failed; it will be redelivered")
                await _reply(msgs, "nak")
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _take(self, msgs: Sequence[Any], queue: asyncio.Queue[_Job]) -> None:
        """Load the rows of ``msgs`` and queue their sends; ack parcels with nothing to send.
        A message that is not a parcel is logged and terminated (redelivery cannot help)."""
        wanted: dict[str, int] = {}
        parcels_of: dict[str, list[_Parcel]] = {}
        parcels: list[_Parcel] = []
        for msg in msgs:
            try:
                rows = rows_of(msg.data)
            except ValueError as exc:
                log.error("dropping an unreadable dispatch message: %s", exc)
                await msg.term()
                continue
            parcel = _Parcel(msg, 0)
            parcels.append(parcel)
            for delivery_id, attempt in rows:
                wanted[delivery_id] = max(wanted.get(delivery_id, 0), attempt)
                parcels_of.setdefault(delivery_id, []).append(parcel)
        jobs: list[tuple[Claimed, Message]] = await self._db(DbOp.LOAD, wanted) if wanted else []
        for row, message in jobs:
            for parcel in parcels_of[row.id]:
                parcel.open += 1
            waiting = self._waiting.get(row.id)
            if waiting is not None:  # a redelivered parcel: the row is already on its way
                waiting.extend(parcels_of[row.id])
                continue
            self._waiting[row.id] = list(parcels_of[row.id])
            queue.put_nowait((row, message, self._waiting[row.id]))
        # Rows already recorded or no longer due need nothing: their parcels may be done.
        await _reply([p.msg for p in parcels if p.open == 0], "ack")

    async def _send_job(self, job: _Job) -> _Done:
        row, message, parcels = job
        try:
            result = await self.sender.send(row.channel_kind, message)
        except Exception as exc:
            # Recorded as a failed attempt (retried with backoff), so its parcel is finished
            # like any other instead of being held for ever.
            log.exception("send of delivery %s failed unexpectedly", row.id)
            result = SendResult(Outcome.RETRY, error=f"dispatcher error: {exc!r}")
        return Attempt(row.id, row.attempts + 1, result), parcels

    async def _record_and_ack(self, batch: list[_Done], stop: asyncio.Event) -> bool:
        """Record a batch, then ack the parcels whose last row it was."""
        if not await self._record([attempt for attempt, _ in batch], stop):
            return False
        complete = []
        for attempt, parcels in batch:
            self._waiting.pop(attempt.delivery_id, None)
            for parcel in parcels:
                parcel.open -= 1
                if parcel.open == 0:
                    complete.append(parcel.msg)
        await _reply(complete, "ack")
        return True

    async def _record(self, attempts: list[Attempt], stop: asyncio.Event) -> bool:
        """Record ``attempts``, retrying while the database is unreachable; False when the
        worker is stopping and the database still refuses (the parcels stay unacked and are
        redelivered, their sends repeated)."""
        pause = RETRY_PAUSE_S
        while True:
            try:
                await self._db(DbOp.RECORD, attempts)
                return True
            except (SQLAlchemyError, OSError):  # an outage; anything else ends the run
                log.exception("recording %d attempts failed; retrying", len(attempts))
                if stop.is_set():
                    return False
                await asyncio.sleep(pause)
                pause = min(5.0, pause * 2)


async def _reply(msgs: Sequence[Any], how: str) -> None:
    """``ack``, ``nak`` or ``in_progress`` each of ``msgs``. A reply that fails (the connection
    to NATS is down) is logged, not fatal: an unacked parcel is redelivered after ack_wait and
    its recorded rows are skipped then."""
    results = await asyncio.gather(*(getattr(m, how)() for m in msgs), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        log.warning("%d of %d %s replies failed (%r)", len(failed), len(msgs), how, failed[0])
