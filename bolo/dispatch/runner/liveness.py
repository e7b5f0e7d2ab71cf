"""Dispatcher liveness: every dispatcher, NATS worker and relay records a heartbeat row, so
readiness can tell whether anything is sending (whichever process and machine it runs on)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine, Integer, String, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bolo import clock
from bolo.store.db import Base, session_scope
from bolo.store.types import UtcDateTime

log = logging.getLogger(__name__)
BEAT_S = 10.0  # how often a running process writes its heartbeat, in seconds
ALIVE_S = 3 * BEAT_S  # a heartbeat older than this (seconds) means the process is gone


class Role(StrEnum):
    """What a sending process does."""

    DISPATCHER = "dispatcher"  # claims the outbox itself (in-process backend)
    WORKER = "worker"  # sends what the NATS relay published
    RELAY = "relay"  # publishes the outbox to NATS, runs escalations


class DispatcherBeat(Base):
    """The last sign of life of one sending process."""

    __tablename__ = "dispatch_heartbeats"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


def beat(session: Session, *, name: str, role: Role, started_at: datetime) -> None:
    """Record that process ``name`` (of ``role``) is alive now."""
    row = session.get(DispatcherBeat, name)
    if row is None:
        row = DispatcherBeat(
            name=name,
            role=role.value,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=started_at,
            seen_at=clock.now(),
        )
        session.add(row)
    row.role, row.seen_at = role.value, clock.now()


def alive_roles(session: Session, *, within_s: float = ALIVE_S) -> dict[str, int]:
    """How many processes of each role wrote a heartbeat in the last ``within_s`` seconds."""
    since = clock.now() - timedelta(seconds=within_s)
    found: dict[str, int] = {}
    for role in session.execute(
        select(DispatcherBeat.role).where(DispatcherBeat.seen_at >= since)
    ).scalars():
        found[role] = found.get(role, 0) + 1
    return found


def roles_needed(broker_url: str) -> tuple[Role, ...]:
    """The roles that must be alive for alerts to be sent: a dispatcher, or with a broker a
    relay and a worker."""
    return (Role.RELAY, Role.WORKER) if broker_url else (Role.DISPATCHER,)


class Runner(Protocol):
    """Dispatcher, NatsWorker and Relay: run until ``stop`` is set."""

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set."""
        ...


@dataclass
class Beating:
    """Runs ``runner`` and writes its heartbeat every ``BEAT_S`` seconds while it runs."""

    runner: Runner
    engine: Engine
    name: str
    role: Role

    def _beat(self, started_at: datetime) -> None:
        with session_scope(self.engine) as session:
            beat(session, name=self.name, role=self.role, started_at=started_at)

    async def _beats(self, stop: asyncio.Event) -> None:
        started_at = clock.now()
        while not stop.is_set():
            try:
                await asyncio.to_thread(self._beat, started_at)
            except SQLAlchemyError as exc:  # the database is down: readiness shows it
                log.warning("heartbeat of %s not written: %s", self.name, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), BEAT_S)

    async def run(self, stop: asyncio.Event) -> None:
        """Run the wrapped process until ``stop`` is set (or it ends), beating meanwhile."""
        beats = asyncio.create_task(self._beats(stop))
        try:
            await self.runner.run(stop)
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats
