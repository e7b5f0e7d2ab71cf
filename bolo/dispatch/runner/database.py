"""The dispatcher's database side: claim due rows with their messages, record attempts, run
escalations.

``OutboxStore`` runs on threads of the dispatcher (``DbRunner``: the NATS workers, tests on a
fake clock) or in a child process of its own (``bolo.dispatch.runner.database_child``, what
the in-process ``bolo dispatcher`` uses): there it computes claims, payloads and status
updates on another core while the dispatcher's event loop sends, and the two never contend
for one interpreter lock.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine

from bolo.dispatch.attempts import Attempt, Claimed, claim_due, record_attempts, still_wanted
from bolo.dispatch.channels.base import Message
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.escalation import run_escalations
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.policy import RetryPolicy
from bolo.store.db import session_scope

Job = tuple[Claimed, Message]


class DbOp(StrEnum):
    """What the database side is asked to do."""

    CLAIM = "claim"
    LOAD = "load"
    RECORD = "record"
    ESCALATE = "escalate"


@dataclass
class OutboxStore:
    """Claims, records and escalations of one dispatcher (blocking calls)."""

    engine: Engine
    settings: DispatchSettings
    name: str
    rng: random.Random = field(default_factory=random.Random)
    builder: MessageBuilder = field(default_factory=MessageBuilder)

    def claim(self, limit: int) -> list[Job]:
        """Lease up to ``limit`` due rows and build their messages."""
        with session_scope(self.engine) as session:
            rows = claim_due(session, limit=limit, lease_s=self.settings.lease_s)
            messages = self.builder.build(session, rows) if rows else []
        return list(zip(rows, messages, strict=True))

    def load(self, wanted: dict[str, int]) -> list[Job]:
        """The rows of ``wanted`` (delivery id -> attempt number a broker message asks for)
        that still need that attempt, with their messages (no lease: the broker's
        redelivery after ack_wait plays that part)."""
        with session_scope(self.engine) as session:
            rows = still_wanted(session, wanted)
            messages = self.builder.build(session, rows) if rows else []
        return list(zip(rows, messages, strict=True))

    def record(self, attempts: Iterable[Attempt]) -> None:
        """Store finished attempts in one transaction."""
        batch = list(attempts)
        if batch:
            with session_scope(self.engine) as session:
                record_attempts(
                    session,
                    batch,
                    policy=RetryPolicy(max_attempts=self.settings.max_attempts),
                    rng=self.rng,
                    worker=self.name,
                )

    def escalate(self) -> int:
        """Run due escalations; return how many were taken."""
        with session_scope(self.engine) as session:
            return run_escalations(session)

    def call(self, op: DbOp, *args: Any) -> Any:
        """Do ``op`` with ``args``."""
        if op is DbOp.CLAIM:
            return self.claim(*args)
        if op is DbOp.LOAD:
            return self.load(*args)
        if op is DbOp.RECORD:
            return self.record(*args)
        return self.escalate()


@dataclass
class DbRunner:
    """Runs a store's blocking operations off the event loop, on ``threads`` threads
    (started on first use). The in-process dispatcher's child process is
    ``bolo.dispatch.runner.database_child.DbProcess``."""

    store: OutboxStore
    threads: int = 1
    _executor: ThreadPoolExecutor | None = None

    async def __call__(self, op: DbOp, *args: Any) -> Any:
        """Do ``op`` and return its result."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="bolo-dispatch-db")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.store.call, op, *args)

    def close(self) -> None:
        """Stop the threads (the next call starts new ones); blocks until the
        operation under way has finished, so call ``aclose`` from an event loop."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def aclose(self) -> None:
        """``close`` without blocking the event loop while the operation under way (a commit,
        a process exiting) finishes: other tasks of the loop keep running meanwhile."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True)
