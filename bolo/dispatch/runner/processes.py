"""Assembling the sending processes from the settings: the in-process dispatcher, or with a
broker the NATS relay and workers; each writes a liveness heartbeat. ``bolo serve`` runs them in
its own event loop (``Embedded``); ``bolo dispatcher`` and ``bolo relay`` run one each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field

from sqlalchemy import Engine

from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.channels.limits import SharedBuckets, SharedLimiter, limits_from_settings
from bolo.dispatch.channels.sender import Sender, default_channels
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.runner.liveness import Beating, Role
from bolo.ops.metrics import SEND_ATTEMPTS, SEND_LATENCY

log = logging.getLogger(__name__)
STOP_WAIT_S = 15.0  # how long shutdown waits for the senders to record what is in flight


class MeteredSender(Sender):
    """A Sender that counts every attempt in this process's metrics (by channel, outcome)."""

    async def send(self, kind: str, message: Message) -> SendResult:
        """One attempt, counted."""
        result = await super().send(kind, message)
        SEND_ATTEMPTS.labels(kind, result.outcome.value).inc()
        SEND_LATENCY.labels(kind).observe(result.duration_s)
        return result


def make_sender(settings: DispatchSettings, engine: Engine | None = None) -> Sender:
    """The real channels under the configured rate limits (shared by every worker through
    ``engine`` when ``shared_rate_limits``), attempts counted in the metrics; ValueError names
    a bad limit."""
    try:
        limits = limits_from_settings(settings.rate_limits)
    except ValueError as exc:
        raise ValueError(f"BOLO_DISPATCH_RATE_LIMITS: {exc}") from None
    shared = (
        SharedLimiter(SharedBuckets(engine))
        if engine is not None and settings.shared_rate_limits
        else None
    )
    return MeteredSender(
        default_channels(timeout_s=settings.timeout_s, max_connections=settings.concurrency),
        limits=limits,
        shared=shared,
    )


def process_name(suffix: str = "") -> str:
    """A name for this process's heartbeat and attempts: host-pid[-suffix]."""
    base = f"{socket.gethostname()}-{os.getpid()}"
    return f"{base}-{suffix}" if suffix else base


def dispatcher(engine: Engine, settings: DispatchSettings, name: str) -> Beating:
    """An in-process dispatcher (database work in a child process when ``db_process``)."""
    from bolo.dispatch.runner.inprocess import Dispatcher

    return Beating(
        Dispatcher(
            engine=engine,
            sender=make_sender(settings, engine),
            settings=settings,
            name=name,
            separate_db_process=settings.db_process,
        ),
        engine,
        name,
        Role.DISPATCHER,
    )


def nats_worker(
    engine: Engine, settings: DispatchSettings, name: str, broker_url: str, suffix: str = ""
) -> Beating:
    """A NATS worker pulling parcels from the stream (``suffix``: a separate stream)."""
    from bolo.dispatch.nats.connection import Names
    from bolo.dispatch.nats.worker import NatsWorker

    names = Names.with_suffix(suffix) if suffix else Names()
    return Beating(
        NatsWorker(
            engine=engine,
            url=broker_url,
            sender=make_sender(settings, engine),
            settings=settings,
            names=names,
            name=name,
        ),
        engine,
        name,
        Role.WORKER,
    )


def relay(
    engine: Engine, settings: DispatchSettings, name: str, broker_url: str, suffix: str = ""
) -> Beating:
    """The NATS relay: publishes due outbox rows and runs escalations."""
    from bolo.dispatch.nats.connection import Names
    from bolo.dispatch.nats.relay import Relay

    names = Names.with_suffix(suffix) if suffix else Names()
    return Beating(
        Relay(engine=engine, url=broker_url, settings=settings, names=names),
        engine,
        name,
        Role.RELAY,
    )


@dataclass
class Embedded:
    """The sending side inside the serving process: the in-process dispatcher, or with
    ``broker_url`` the relay and one NATS worker. ``start`` in a running event loop, ``stop``
    before it ends."""

    engine: Engine
    broker_url: str = ""
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)

    def runners(self) -> list[Beating]:
        """What this process runs to send alerts."""
        if self.broker_url:
            suffix = self.settings.stream_suffix
            return [
                relay(self.engine, self.settings, process_name("relay"), self.broker_url, suffix),
                nats_worker(
                    self.engine, self.settings, process_name("worker"), self.broker_url, suffix
                ),
            ]
        return [dispatcher(self.engine, self.settings, process_name("dispatcher"))]

    def start(self) -> None:
        """Start every runner as a task of the running loop; a runner that fails is logged
        (readiness then reports no live dispatcher) and does not stop the server."""
        for runner in self.runners():
            self._tasks.append(asyncio.create_task(self._guarded(runner)))

    async def _guarded(self, runner: Beating) -> None:
        try:
            await runner.run(self._stop)
        except Exception:
            log.exception("the embedded %s stopped", runner.role.value)

    async def stop(self) -> None:
        """Ask every runner to finish what it sent, and wait for it (at most STOP_WAIT_S)."""
        self._stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=STOP_WAIT_S)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
