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

from bolo.dispatch.channels.base import Message
from bolo.dispatch.claims import Claimed, decode_job, encode_attempt
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.db_process import DbProcess, WireStore
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.results import Attempt
from bolo.dispatch.sending import Sender
from bolo.dispatch.store import DbOp, DbRunner, Job

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
    _room: asyncio.Event = field(init=False)

    def __post_init__(self) -> None:
        if self.separate_db_process:
            self._db = DbProcess(engine=self.engine, settings=self.settings, name=self.name)
        else:
            self._db = DbRunner(WireStore(engine=self.engine, settings=self.settings,
                                          name=self.name, rng=self.rng, builder=self.builder))

    def close(self) -> None:
        """Stop the database thread or process."""
        self._db.close()

    async def aclose(self) -> None:
        """Stop the database thread or process without holding the event loop."""
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
        """Pipelined loop: a claimer feeds ``concurrency`` senders, a writer records batches.

        A send holds one of ``in_flight_window`` tokens from before it is sent until its attempt
        is committed, so at most that many deliveries are ever sent-but-unrecorded: that is the
        window a crash can repeat (the receiver drops the repeats by webhook-id).
        """
        # Room for two claims: one being sent while the next is read.
        queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=2 * self.settings.batch)
        self._room = asyncio.Event()
        done: list[Attempt] = []
        finished = asyncio.Event()
        tokens = asyncio.Semaphore(self.settings.in_flight_window)
        senders = [asyncio.create_task(self._sender(queue, done, tokens, finished))
                   for _ in range(self.settings.concurrency)]
        writer = asyncio.create_task(self._writer(done, tokens, finished, stop))
        # A writer that fails (the database is gone) ends the run instead of leaving the
        # senders waiting for tokens it would have released: a crash, not a silent hang.
        writer.add_done_callback(lambda task: stop.set() if not task.cancelled()
                                 and task.exception() is not None else None)
        try:
            await self._claimer(queue, stop)
        finally:
            stop.set()  # however the claimer ended, the writer must drain and return
            try:
                # Send what was claimed, unless the writer dies meanwhile (its tokens would
                # never come back and the senders would wait for ever).
                joined = asyncio.ensure_future(queue.join())
                await asyncio.wait({joined, writer}, return_when=asyncio.FIRST_COMPLETED)
                joined.cancel()
                for task in senders:
                    task.cancel()
                finished.set()
                await writer
                await self._db(DbOp.RECORD, [encode_attempt(a) for a in done])
            finally:
                await self.aclose()

    async def _claimer(self, queue: asyncio.Queue[Job], stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_escalation = 0.0
        batch = self.settings.batch
        while not stop.is_set():
            if loop.time() >= next_escalation:
                await self._db(DbOp.ESCALATE)
                next_escalation = loop.time() + 1.0
            if queue.maxsize - queue.qsize() < batch:
                # The senders have a batch in hand: claim the next one as soon as there is
                # room for it (not after a poll interval, which would cap the rate).
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), self.settings.poll_s)
                continue
            # Claim in large rounds: each claim costs a statement, whatever its size.
            jobs = await self._db(DbOp.CLAIM, batch)
            for job in jobs:
                queue.put_nowait(decode_job(job))
            if not jobs:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_s)

    async def _sender(
        self, queue: asyncio.Queue[Job], done: list[Attempt], tokens: asyncio.Semaphore,
        finished: asyncio.Event,
    ) -> None:
        while True:
            row, message = await queue.get()
            if queue.maxsize - queue.qsize() >= self.settings.batch:
                self._room.set()
            await tokens.acquire()
            try:
                done.append(await self._attempt(row, message))
                finished.set()
            except Exception:
                tokens.release()
                log.exception("send of delivery %s failed unexpectedly; its lease will expire",
                              row.id)
            finally:
                queue.task_done()

    async def _writer(
        self, done: list[Attempt], tokens: asyncio.Semaphore, finished: asyncio.Event,
        stop: asyncio.Event,
    ) -> None:
        # Records whatever finished while the previous batch was being written: the batch
        # grows with the rate, so the database sees one transaction per round, not per send.
        while not stop.is_set() or done:
            await finished.wait()
            finished.clear()
            if not done:
                continue
            batch = done[:]
            del done[: len(batch)]
            await self._db(DbOp.RECORD, [encode_attempt(a) for a in batch])
            for _ in batch:
                tokens.release()
