"""Live updates by server-sent events: a ``change`` event whenever the audit log grows, and the
end of the stream when its session ends.

Every state change in bolo appends to the audit log in its own transaction, so the log's last
sequence number is a complete change signal. One poller per event loop (``Hub``) reads it, and
the sessions ended since its last look, once a second for every open stream together; each
stream only re-checks its own session at its keep-alive (every 15 s: idle and absolute expiry).
A stream whose session was ended (sign-out, a password change, a disabled account) gets an
``ended`` event and closes at once.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bolo.audit.model import AuditEntry
from bolo.auth.deps import WebSessionId
from bolo.auth.sessions import ended_since, session_is_live, session_key
from bolo.clock import now
from bolo.store.db import session_scope
from bolo.web.auth import PageUser, PostUser

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)
POLL_S = 1.0
KEEPALIVE_S = 15.0


def last_change() -> tuple[int, str]:
    """The audit log's last sequence number and action (0, "" when empty)."""
    with session_scope() as db:
        row = db.execute(
            select(AuditEntry.seq, AuditEntry.action).where(
                AuditEntry.seq == select(func.max(AuditEntry.seq)).scalar_subquery()
            )
        ).first()
    return (int(row[0]), str(row[1])) if row else (0, "")


@dataclass(frozen=True)
class Tick:
    """What one poll saw: the log's last sequence number and action, the sessions ended."""

    seq: int
    action: str
    ended: frozenset[str]


def _poll(since: datetime) -> Tick:
    seq, action = last_change()
    with session_scope() as db:
        ended = frozenset(ended_since(db, since))
    return Tick(seq, action, ended)


class Hub:
    """One database poll a second for all the streams of an event loop; runs while any
    stream listens."""

    def __init__(self, poll_s: float = POLL_S) -> None:
        self.poll_s = poll_s
        self.listeners: set[asyncio.Queue[Tick]] = set()
        self._task: asyncio.Task[None] | None = None

    def listen(self) -> asyncio.Queue[Tick]:
        """A queue that receives every later tick (call ``leave`` when done)."""
        queue: asyncio.Queue[Tick] = asyncio.Queue(maxsize=64)
        self.listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return queue

    def leave(self, queue: asyncio.Queue[Tick]) -> None:
        """Stop sending ticks to ``queue``; the poller stops with its last listener."""
        self.listeners.discard(queue)

    async def _run(self) -> None:
        since = now()
        while self.listeners:
            await asyncio.sleep(self.poll_s)
            # A second of overlap: a session ended while the last poll ran is not missed.
            looked_at = now()
            try:
                tick = await asyncio.to_thread(_poll, since - timedelta(seconds=1))
            except SQLAlchemyError:
                # The database is away for a moment: the streams keep their keep-alives and
                # hear of the changes at the next poll that works.
                log.warning("live_poll_failed", exc_info=True)
                continue
            since = looked_at
            for queue in list(self.listeners):
                if queue.full():
                    queue.get_nowait()  # a stalled stream only needs the newest tick
                queue.put_nowait(tick)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub()
    return found


def _frame(event: str, data: dict[str, object]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def changes(request: Request, session_id: str) -> AsyncIterator[str]:
    """SSE frames: ``hello``, then ``change`` with the new sequence and action, comments as
    keep-alives, and ``ended`` (then the end of the stream) once the session is over."""
    shared = hub()
    queue = shared.listen()
    key = session_key(session_id)
    try:
        seen, _ = await asyncio.to_thread(last_change)
        yield f"retry: 3000\n{_frame('hello', {'seq': seen})}"
        while True:
            try:
                tick = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                if not await asyncio.to_thread(_still_live, session_id):
                    yield _frame("ended", {})
                    return
                yield ": keep-alive\n\n"
                continue
            if key in tick.ended:
                yield _frame("ended", {})
                return
            if tick.seq != seen:
                seen = tick.seq
                yield _frame("change", {"seq": tick.seq, "action": tick.action})
    finally:
        shared.leave(queue)


def _still_live(session_id: str) -> bool:
    with session_scope() as db:
        return session_is_live(db, session_id=session_id)


def _stream(request: Request, session_id: str) -> StreamingResponse:
    return StreamingResponse(
        changes(request, session_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/console/events")
def console_events(
    request: Request, _user: PageUser, session_id: WebSessionId
) -> StreamingResponse:
    """The console's live-update stream (signed-in staff only; ends with the session)."""
    return _stream(request, session_id)


@router.get("/post/events")
def post_events(request: Request, _user: PostUser, session_id: WebSessionId) -> StreamingResponse:
    """The post page's live-update stream (ends with the session)."""
    return _stream(request, session_id)
