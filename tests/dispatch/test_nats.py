"""The NATS JetStream backend against the real server: relay -> workers -> explicit acks."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from sqlalchemy import func, select

from bolo.dispatch.channels import ChannelSet, InMemoryChannel, SendResult
from bolo.dispatch.channels.sender import Sender
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.model import Delivery, DeliveryStatus
from bolo.dispatch.nats.connection import Names
from bolo.dispatch.nats.relay import Relay, pick_unqueued
from bolo.dispatch.nats.worker import NatsWorker
from bolo.dispatch.outbox import enqueue_version
from bolo.dispatch.policy import Outcome
from bolo.posts.channel_kinds import ChannelKind
from bolo.store.db import session_scope
from tests.dispatch.factories import make_alert, make_post, make_version

POSTS = 40


def _issue(engine: Any) -> None:
    with session_scope(engine) as s:
        ids = [f"p{i}" for i in range(POSTS)]
        for pid in ids:
            make_post(s, pid)
        version = make_version(s, make_alert(s), 1, "Alert", ids)
        enqueue_version(s, version_id=version.id)


def _delivered(engine: Any) -> int:
    with session_scope(engine) as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.DELIVERED)
            )
            or 0
        )


async def test_relay_and_two_workers_deliver_each_post_once(
    sqlite_engine: Any, nats_url: str, nats_names: Names
) -> None:
    names = nats_names
    flaky = {"p3": 1}  # p3 fails once, then is retried through the relay

    def respond(message: Any) -> SendResult:
        if flaky.get(message.post_id, 0) > 0:
            flaky[message.post_id] -= 1
            return SendResult(Outcome.RETRY, error="HTTP 500", status_code=500)
        return SendResult(Outcome.DELIVERED, status_code=200)

    hooks = InMemoryChannel(responder=respond)
    settings = DispatchSettings(batch=16, poll_s=0.05)
    _issue(sqlite_engine)
    stop = asyncio.Event()
    workers = [
        NatsWorker(
            engine=sqlite_engine,
            url=nats_url,
            names=names,
            settings=settings,
            sender=Sender(ChannelSet.of({ChannelKind.WEBHOOK: hooks}), limits={}),
            rng=random.Random(i),
            name=f"w{i}",
            fetchers=2,
        )
        for i in range(2)
    ]
    relay = Relay(engine=sqlite_engine, url=nats_url, names=names, settings=settings)
    tasks = [asyncio.create_task(x.run(stop)) for x in (relay, *workers)]
    try:
        for _ in range(200):
            if _delivered(sqlite_engine) == POSTS:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert _delivered(sqlite_engine) == POSTS
    per_post = [m.post_id for m in hooks.sent]
    assert per_post.count("p3") == 2
    assert len(per_post) == POSTS + 1  # no duplicates beyond the one retry


def test_republication_after_a_relay_crash_keeps_the_msg_id(sqlite_engine: Any) -> None:
    _issue(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        first = pick_unqueued(s, limit=5, requeue_after_s=60)
    with session_scope(sqlite_engine) as s:  # nothing was marked: the relay "died"
        again = pick_unqueued(s, limit=5, requeue_after_s=60)
    assert first == again and len(first) == 5
    assert all(mid.startswith(f"{d}:1:") for d, _, mid in first)
