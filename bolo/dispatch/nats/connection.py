"""The connection to NATS and the work-queue stream the relay (``bolo.dispatch.nats.relay``)
publishes parcels to and the workers (``bolo.dispatch.nats.worker``) pull them from (one
durable consumer; ``Nats-Msg-Id`` makes a re-publish after a relay crash a no-op)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import nats
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

log = logging.getLogger(__name__)
STREAM = "BOLO_DISPATCH"
SUBJECT = "bolo.dispatch.deliveries"
DURABLE = "bolo-dispatchers"
DUPLICATE_WINDOW_S = 600.0


async def connect(url: str) -> Any:
    """A NATS connection that keeps reconnecting (a server restart is an outage, not an end)."""
    return await nats.connect(
        url,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        error_cb=_log_error,
    )


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
    config = StreamConfig(
        name=names.stream,
        subjects=[names.subject],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    )
    try:
        await js.stream_info(names.stream)
    except nats.js.errors.NotFoundError:
        await js.add_stream(config)
