"""The in-process backend: asyncio workers that claim outbox rows, send and record.

With ``separate_db_process`` the database side (claims with their messages, signed ahead;
records; escalations) runs in a child process of its own, reached over one socket pair
(``DbProcess``): the event loop only sends, and no executor threads in the sending process
compete with it for the interpreter lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from bolo.dispatch.attempts import Attempt, Claimed
from bolo.dispatch.channels.base import Message
from bolo.dispatch.channels.sender import Sender
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.runner.database import DbOp, DbRunner, Job
from bolo.dispatch.runner.database_child import DbProcess, WireStore, decode_job, encode_attempt
from bolo.dispatch.runner.send_loop import SendPipeline

log = logging.getLogger(__name__)


class DbCall(Protocol):
    """Where the dispatcher's database work runs (a thread, or a child process)."""

    async def __call__(self, op: DbOp, *args: Any) -> Any:
        """Do ``op`` with ``args``; return its result."""
        ...

    def close(self) -> None:
        """Stop the thread or process."""
        ...

    async def aclose(self) -> None:
        """Stop the thread or process without holding the event loop."""
        ...


@dataclass
class Dispatcher:
    """Claims due deliveries, sends them ``concurrency`` at a time and records every attempt.

    ``run_once`` does one claim-send-record round (tests drive it on a fake clock); ``run``
    pipelines claiming, sending and recording until ``stop`` is set. The database work (a
    ``WireStore``) runs on one thread, or with ``separate_db_process`` in a child process
    (``DbProcess``).
    """

    engine: Engine
    sender: Sender
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    rng: random.Random = field(default_factory=random.Random)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-inprocess")
    builder: MessageBuilder = field(default_factory=MessageBuilder)
    separate_db_process: bool = False
    _db: DbCall = field(init=False)

    def __post_init__(self) -> None:
        if self.separate_db_process:
            self._db = DbProcess(engine=self.engine, settings=self.settings, name=self.name)
        else:
            self._db = DbRunner(
                WireStore(
                    engine=self.engine,
                    settings=self.settings,
                    name=self.name,
                    rng=self.rng,
                    builder=self.builder,
                )
            )

    def close(self) -> None:
        """Stop the database thread or process."""
        self._db.close()

    async def aclose(self) -> None:
        """Close the channels' connections (webhook sessions, MQTT clients), then stop the
        database thread or process, without holding the event loop."""
        try:
            await self.sender.channels.aclose()
        finally:
            await self._db.aclose()

    async def _attempt(self, row: Claimed, message: Message) -> Attempt:
        result = await self.sender.send(row.channel_kind, message)
        return Attempt(row.id, row.attempts + 1, result)

    async def run_once(self) -> int:
        """Escalate what is due, then claim, send and record every due delivery once; return the
        number of attempts made."""
        await self._db(DbOp.ESCALATE)
        jobs = [decode_job(j) for j in await self._db(DbOp.CLAIM, self.settings.batch)]
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def bounded(row: Claimed, message: Message) -> Attempt:
            async with gate:
                return await self._attempt(row, message)

        attempts = await asyncio.gather(*(bounded(r, m) for r, m in jobs))
        await self._db(DbOp.RECORD, [encode_attempt(a) for a in attempts])
        return len(attempts)

    async def run(self, stop: asyncio.Event) -> None:
        """Pipelined loop until ``stop`` is set: a claimer feeds ``concurrency`` senders, a
        writer records batches (``bolo.dispatch.runner.send_loop``: at most ``in_flight_window``
        deliveries are ever sent-but-unrecorded, the window a crash can repeat)."""
        # Room for two claims: one being sent while the next is read.
        batch = self.settings.batch
        pipeline: SendPipeline[Job, Attempt] = SendPipeline(
            send=self._send_job,
            record=self._record_batch,
            concurrency=self.settings.concurrency,
            window=self.settings.in_flight_window,
            room_below=batch + 1,
            queue=asyncio.Queue(maxsize=2 * batch),
        )
        try:
            await pipeline.run(self._claimer(pipeline, stop), stop)
        finally:
            await self.aclose()

    async def _send_job(self, job: Job) -> Attempt | None:
        row, message = job
        try:
            return await self._attempt(row, message)
        except Exception:
            log.exception("send of delivery %s failed unexpectedly; its lease will expire", row.id)
            return None

    async def _record_batch(self, attempts: list[Attempt]) -> bool:
        await self._db(DbOp.RECORD, [encode_attempt(a) for a in attempts])
        return True

    async def _claimer(self, pipeline: SendPipeline[Job, Attempt], stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_escalation = 0.0
        while not stop.is_set():
            if loop.time() >= next_escalation:
                await self._db(DbOp.ESCALATE)
                next_escalation = loop.time() + 1.0
            if not pipeline.has_room():
                # The senders have a batch in hand: claim the next one as soon as there is
                # room for it (not after a poll interval, which would cap the rate).
                await pipeline.wait_for_room(self.settings.poll_s)
                continue
            # Claim in large rounds: each claim costs a statement, whatever its size.
            jobs = await self._db(DbOp.CLAIM, self.settings.batch)
            for job in jobs:
                pipeline.queue.put_nowait(decode_job(job))
            if not jobs:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_s)
