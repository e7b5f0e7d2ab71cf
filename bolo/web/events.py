"""Live updates by server-sent events: a ``change`` event whenever the audit log grows.

Every state change in bolo appends to the audit log in its own transaction, so the log's last
sequence number is a complete change signal. Pages subscribe and refresh their live parts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from bolo.audit.model import AuditEntry
from bolo.store.db import session_scope
from bolo.web.auth import PageUser, PostUser

router = APIRouter(include_in_schema=False)
POLL_S = 1.0
KEEPALIVE_S = 15.0


def last_change() -> tuple[int, str]:
    """The audit log's last sequence number and action (0, "" when empty)."""
    with session_scope() as db:
        row = db.execute(select(AuditEntry.seq, AuditEntry.action)
                         .where(AuditEntry.seq == select(func.max(AuditEntry.seq))
                                .scalar_subquery())).first()
    return (int(row[0]), str(row[1])) if row else (0, "")


async def changes(request: Request, *, poll_s: float = POLL_S) -> AsyncIterator[str]:
    """SSE frames: ``change`` with the new sequence and action, comments as keep-alives."""
    seen, _ = await asyncio.to_thread(last_change)
    yield f"retry: 3000\nevent: hello\ndata: {json.dumps({'seq': seen})}\n\n"
    quiet = 0.0
    while not await request.is_disconnected():
        await asyncio.sleep(poll_s)
        seq, action = await asyncio.to_thread(last_change)
        if seq != seen:
            seen, quiet = seq, 0.0
            yield f"event: change\ndata: {json.dumps({'seq': seq, 'action': action})}\n\n"
        else:
            quiet += poll_s
            if quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"


def _stream(request: Request) -> StreamingResponse:
    return StreamingResponse(changes(request), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/console/events")
def console_events(request: Request, _user: PageUser) -> StreamingResponse:
    """The console's live-update stream (signed-in staff only)."""
    return _stream(request)


@router.get("/post/events")
def post_events(request: Request, _user: PostUser) -> StreamingResponse:
    """The post page's live-update stream."""
    return _stream(request)
