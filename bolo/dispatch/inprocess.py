"""The in-process backend: asyncio workers that claim outbox rows, send and record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine

from bolo.dispatch.channels.base import Message
from bolo.dispatch.claims import Claimed, claim_due
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.escalation import run_escalations
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.policy import RetryPolicy
from bolo.dispatch.results import Attempt, record_attempts
from bolo.dispatch.sending import Sender
from bolo.store.db import session_scope

log = logging.getLogger(__name__)

Job = tuple[Claimed, Message]
T = TypeVar("T")


@dataclass
class Dispatcher:
    """Claims due deliveries, sends them ``concurrency`` at a time and records every attempt.

    ``run_once`` does one claim-send-record round (tests drive it on a fake clock); ``run``
    pipelines claiming, sending and recording until ``stop`` is set.
    """

    engine: Engine
    sender: Sender
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    rng: random.Random = field(default_factory=random.Random)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-inprocess")
    builder: MessageBuilder = field(default_factory=MessageBuilder)

    _executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="bolo-dispatch-db"))

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work on this dispatcher's one database thread: claims and
        records never contend for SQLite's write lock within one process."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy from the settings."""
        return RetryPolicy(max_attempts=self.settings.max_attempts)

    def claim(self, limit: int) -> list[Job]:
        """Lease due rows and build their messages (blocking; run it in a thread)."""
        with session_scope(self.engine) as session:
            rows = claim_due(session, limit=limit, lease_s=self.settings.lease_s)
            messages = self.builder.build(session, rows) if rows else []
        return list(zip(rows, messages, strict=True))

    def record(self, attempts: Iterable[Attempt]) -> None:
        """Store finished attempts in one transaction (blocking)."""
        batch = list(attempts)
        if batch:
            with session_scope(self.engine) as session:
                record_attempts(session, batch, policy=self.policy, rng=self.rng,
                                worker=self.name)

    def escalate(self) -> int:
        """Run due escalations (blocking)."""
        with session_scope(self.engine) as session:
            return run_escalations(session)

    async def _attempt(self, row: Claimed, message: Message) -> Attempt:
        result = await self.sender.send(row.channel_kind, message)
        return Attempt(row.id, row.attempts + 1, result)

    async def run_once(self) -> int:
        """Escalate what is due, then claim, send and record every due delivery once; return the
        number of attempts made."""
        await self._db(self.escalate)
        jobs = await self._db(self.claim, self.settings.batch)
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def bounded(row: Claimed, message: Message) -> Attempt:
            async with gate:
                return await self._attempt(row, message)

        attempts = await asyncio.gather(*(bounded(r, m) for r, m in jobs))
        await self._db(self.record, attempts)
        return len(attempts)

    async def run(self, stop: asyncio.Event) -> None:
        """Pipelined loop: a claimer feeds ``concurrency`` senders, a writer records batches.

        A send holds one of ``concurrency`` tokens until its attempt is committed, so at most
        ``concurrency`` deliveries are ever sent-but-unrecorded: that is the in-flight window a
        crash can repeat (the receiver drops the repeats by webhook-id).
        """
        queue: asyncio.Queue[Job] = asyncio.Queue(
            maxsize=max(self.settings.batch, 2 * self.settings.concurrency))
        done: list[Attempt] = []
        tokens = asyncio.Semaphore(self.settings.concurrency)
        senders = [asyncio.create_task(self._sender(queue, done, tokens))
                   for _ in range(self.settings.concurrency)]
        writer = asyncio.create_task(self._writer(done, tokens, stop))
        try:
            await self._claimer(queue, stop)
        finally:
            await queue.join()
            for task in senders:
                task.cancel()
            await writer
            await self._db(self.record, done)

    async def _claimer(self, queue: asyncio.Queue[Job], stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_escalation = 0.0
        while not stop.is_set():
            if loop.time() >= next_escalation:
                await self._db(self.escalate)
                next_escalation = loop.time() + 1.0
            room = queue.maxsize - queue.qsize()
            # Claim in large rounds: each claim costs a statement, whatever its size.
            want = min(room, self.settings.batch) if room * 2 >= queue.maxsize else 0
            jobs = await self._db(self.claim, want) if want else []
            for job in jobs:
                await queue.put(job)
            if not jobs:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_s)

    async def _sender(
        self, queue: asyncio.Queue[Job], done: list[Attempt], tokens: asyncio.Semaphore
    ) -> None:
        while True:
            row, message = await queue.get()
            await tokens.acquire()
            try:
                done.append(await self._attempt(row, message))
            except Exception:
                tokens.release()
                log.exception("send of delivery %s failed unexpectedly; its lease will expire",
                              row.id)
            finally:
                queue.task_done()

    async def _writer(
        self, done: list[Attempt], tokens: asyncio.Semaphore, stop: asyncio.Event
    ) -> None:
        while not stop.is_set() or done:
            if done:
                batch = done[:]
                del done[: len(batch)]
                await self._db(self.record, batch)
                for _ in batch:
                    tokens.release()
            else:
                await asyncio.sleep(0.02)
