"""Per-destination rate limits shared by every worker of a deployment (the database's buckets):
two workers together send at the configured rate, not twice it (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from bolo.dispatch.channels import ChannelSet, InMemoryChannel, Message
from bolo.dispatch.channels.limits import RateLimits, SharedBuckets, SharedLimiter, lease_size
from bolo.dispatch.channels.sender import Sender
from bolo.posts.channel_kinds import ChannelKind

GATEWAY = "twilio://gateway"


def test_a_bucket_hands_out_its_burst_then_its_rate(db_engine: Any) -> None:
    now = [1000.0]
    buckets = SharedBuckets(db_engine, clock=lambda: now[0])
    assert [buckets.take("sms", 2.0, 3.0)[0] for _ in range(3)] == [1, 1, 1]
    got, wait = buckets.take("sms", 2.0, 3.0)
    assert got == 0 and 0.5 <= wait <= 0.51
    now[0] += 0.5
    assert buckets.take("sms", 2.0, 3.0) == (1, 0.0)
    now[0] += 100.0  # refilled to the burst, not beyond
    assert buckets.take("sms", 2.0, 3.0, want=5) == (1, 0.0)
    assert buckets.take("sms", 2.0, 3.0, want=2) == (2, 0.0)
    assert buckets.take("other", 2.0, 3.0)[0] == 1  # each destination has its own


def test_a_lease_covers_a_tenth_of_a_second_of_the_rate() -> None:
    assert lease_size(2.0, 5.0) == 1
    assert lease_size(500.0, 100.0) == 50
    assert lease_size(5000.0, 20.0) == 20


def _worker(engine: Any, sends: int, finished: list[float]) -> None:
    """One dispatcher worker: its own event loop, channel and Sender, the shared buckets."""
    channel = InMemoryChannel(ChannelKind.APPRISE)
    sender = Sender(
        ChannelSet.of({ChannelKind.APPRISE: channel}),
        limits={ChannelKind.APPRISE: RateLimits(default_rate_per_s=20.0, default_burst=2.0)},
        shared=SharedLimiter(SharedBuckets(engine)),
    )

    async def run() -> None:
        for i in range(sends):
            await sender.send(
                "apprise",
                Message(msg_id=f"m{i}", post_id="p", url=GATEWAY, body=b"{}", title="t", text="x"),
            )

    asyncio.run(run())
    assert len(channel.sent) == sends
    finished.append(time.monotonic())


@pytest.mark.timeout(60)
def test_two_workers_together_keep_the_configured_rate(db_engine: Any) -> None:
    # 2 x 10 sends at 20/s with a burst of 2: at least (20 - 2) / 20 = 0.9 s in all; each
    # worker alone would be done in (10 - 2) / 20 = 0.4 s.
    finished: list[float] = []
    started = time.monotonic()
    workers = [threading.Thread(target=_worker, args=(db_engine, 10, finished)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(finished) == 2
    assert max(finished) - started >= 0.85
