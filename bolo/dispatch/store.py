"""The dispatcher's database side: claim due rows with their messages, record attempts, run
escalations.

It runs on one thread of the dispatcher (tests, the fake clock), or in a child process of its
own (``DbWorkerProcess``, what ``bolo dispatcher`` uses): the child computes claims, payloads
and status updates on another core while the dispatcher's event loop sends, and the two never
contend for one interpreter lock. Either way one database connection does all the writes of one
dispatcher, so claims and records never contend for SQLite's write lock within it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select

from bolo.dispatch.channels.base import Message
from bolo.dispatch.claims import SENDABLE, Claimed, claim_due
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.escalation import run_escalations
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.model import Delivery, Phase
from bolo.dispatch.policy import RetryPolicy
from bolo.dispatch.results import Attempt, record_attempts
from bolo.store.db import engine_for, session_scope

Job = tuple[Claimed, Message]
log = logging.getLogger(__name__)
PARENT_CHECK_S = 0.5


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
            rows = [Claimed(*r[:6]) for r in session.execute(
                select(Delivery.id, Delivery.version_id, Delivery.post_id, Delivery.url,
                       Delivery.channel_kind, Delivery.attempts, Delivery.phase,
                       Delivery.status)
                .where(Delivery.id.in_(list(wanted))))
                if r[6] == Phase.ACTIVE and r[7] in SENDABLE and r[5] < wanted[r[0]]]
            messages = self.builder.build(session, rows) if rows else []
        return list(zip(rows, messages, strict=True))

    def record(self, attempts: Iterable[Attempt]) -> None:
        """Store finished attempts in one transaction."""
        batch = list(attempts)
        if batch:
            with session_scope(self.engine) as session:
                record_attempts(session, batch,
                                policy=RetryPolicy(max_attempts=self.settings.max_attempts),
                                rng=self.rng, worker=self.name)

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


_child_store: OutboxStore | None = None


def _exit_with_parent(parent: int) -> None:
    # A SIGKILLed dispatcher cannot stop its child: the child notices it was re-parented and
    # leaves (a transaction it was in is rolled back, leased rows come due after the lease).
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _init_child(url: str, settings_json: str, name: str, parent: int) -> None:
    global _child_store
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _child_store = OutboxStore(engine=engine_for(url),
                               settings=DispatchSettings.model_validate_json(settings_json),
                               name=name)


def _child_call(op: DbOp, *args: Any) -> Any:
    if _child_store is None:
        raise RuntimeError("the database process was not initialised")
    return _child_store.call(op, *args)


def db_process(engine: Engine, settings: DispatchSettings, name: str) -> Executor:
    """A one-process executor whose process owns an OutboxStore on the same database; submit
    ``process_call`` to it. The child connects with the engine's URL: connection arguments
    given outside the URL (e.g. a PostgreSQL search_path set by ``engine_for(schema=...)``)
    are not carried over, so put them in the URL."""
    return ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_child,
        initargs=(engine.url.render_as_string(hide_password=False),
                  settings.model_dump_json(), name, os.getpid()))


def process_call(op: DbOp, *args: Any) -> Any:
    """What a ``db_process`` executor runs: ``op`` on the child's store."""
    return _child_call(op, *args)


@dataclass
class DbRunner:
    """Runs a store's blocking operations off the event loop: on ``threads`` threads, or in
    one child process when ``separate_process`` (started on first use)."""

    store: OutboxStore
    separate_process: bool = False
    threads: int = 1
    _executor: Executor | None = None

    async def __call__(self, op: DbOp, *args: Any) -> Any:
        """Do ``op`` and return its result."""
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = (
                db_process(self.store.engine, self.store.settings, self.store.name)
                if self.separate_process
                else ThreadPoolExecutor(self.threads, thread_name_prefix="bolo-dispatch-db"))
        if not self.separate_process:
            return await loop.run_in_executor(self._executor, self.store.call, op, *args)
        try:
            return await loop.run_in_executor(self._executor, process_call, op, *args)
        except BrokenProcessPool:
            # The child died (killed, out of memory). Start another and do the operation
            # again: a claim is only a lease, a record is idempotent per attempt number.
            log.warning("the dispatcher's database process died; starting another")
            self._executor.shutdown(wait=False)
            self._executor = db_process(self.store.engine, self.store.settings,
                                        self.store.name)
            return await loop.run_in_executor(self._executor, process_call, op, *args)

    def close(self) -> None:
        """Stop the thread or process (the next call starts a new one); blocks until the
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
