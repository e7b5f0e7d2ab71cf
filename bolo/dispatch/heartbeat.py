"""Heartbeats: posts check in; ok / slow / expired is visible before any alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo import clock
from bolo.dispatch.config import dispatch_settings
from bolo.errors import NotFound
from bolo.posts.model import Post

SLOW_FACTOR = 2.0
EXPIRED_FACTOR = 6.0


class HeartbeatState(StrEnum):
    """How recently a post checked in, relative to its expected interval."""

    OK = "ok"
    SLOW = "slow"
    EXPIRED = "expired"


def heartbeat_state(last: datetime | None, *, now: datetime, interval_s: float) -> HeartbeatState:
    """ok within 2 intervals, slow within 6, expired after (or never seen); seconds."""
    if last is None:
        return HeartbeatState.EXPIRED
    age = (now - last).total_seconds()
    if age <= SLOW_FACTOR * interval_s:
        return HeartbeatState.OK
    if age <= EXPIRED_FACTOR * interval_s:
        return HeartbeatState.SLOW
    return HeartbeatState.EXPIRED


def record_heartbeat(session: Session, *, post_id: str) -> datetime:
    """Store a check-in of ``post_id`` at bolo's current time; return that time."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"no post {post_id}")
    post.heartbeat_at = clock.now()
    return post.heartbeat_at


@dataclass(frozen=True)
class PostHeartbeat:
    """One line of the heartbeat board."""

    post_id: str
    name: str
    last: datetime | None
    state: HeartbeatState


def heartbeat_board(session: Session, *, interval_s: float | None = None) -> list[PostHeartbeat]:
    """Every active post with its heartbeat state, worst first."""
    interval = interval_s or dispatch_settings().heartbeat_interval_s
    when = clock.now()
    order = {HeartbeatState.EXPIRED: 0, HeartbeatState.SLOW: 1, HeartbeatState.OK: 2}
    board = [
        PostHeartbeat(
            p.id,
            p.name,
            p.heartbeat_at,
            heartbeat_state(p.heartbeat_at, now=when, interval_s=interval),
        )
        for p in session.scalars(select(Post).where(Post.active.is_(True)))
    ]
    return sorted(board, key=lambda b: (order[b.state], b.post_id))
