"""All live-update streams of a process share one database poll a second."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bolo.web import events


def test_many_streams_share_one_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    polls: list[Any] = []

    def counted(since: Any) -> events.Tick:
        polls.append(since)
        return events.Tick(len(polls), "test", frozenset())

    monkeypatch.setattr(events, "_poll", counted)

    async def listen() -> list[int]:
        hub = events.Hub(poll_s=0.05)
        queues = [hub.listen() for _ in range(20)]
        await asyncio.sleep(0.5)
        got = [q.qsize() for q in queues]
        for q in queues:
            hub.leave(q)
        await asyncio.sleep(0.15)
        return got

    sizes = asyncio.run(listen())
    # About ten polls in half a second for twenty streams together, and every stream saw them.
    assert 5 <= len(polls) <= 14 and min(sizes) >= 5, (len(polls), sizes)
