"""The NATS worker's pipeline against an in-memory subscription: a parcel is acked only once
every row it carried is recorded; unreadable messages are terminated; rows already recorded
are not sent again."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from sqlalchemy import select

from bolo.dispatch.channels import ChannelSet, InMemoryChannel
from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.channels.sender import Sender
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.model import Delivery, DeliveryStatus
from bolo.dispatch.nats.parcels import PickedRow, parcel_of
from bolo.dispatch.nats.worker import NatsWorker
from bolo.dispatch.outbox import enqueue_version
from bolo.posts.channel_kinds import ChannelKind
from bolo.store.db import session_scope
from tests.dispatch.factories import make_alert, make_post, make_version


class FakeMsg:
    """A fetched JetStream message: its body, and what was done with it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.acks = 0
        self.terms = 0
        self.naks = 0
        self.progress = 0

    async def ack(self) -> None:
        self.acks += 1

    async def nak(self) -> None:
        self.naks += 1

    async def in_progress(self) -> None:
        self.progress += 1

    async def term(self) -> None:
        self.terms += 1


class FakeSub:
    """Hands out its messages, then times out like an empty stream."""

    def __init__(self, msgs: list[FakeMsg]) -> None:
        self.msgs = list(msgs)

    async def fetch(self, batch: int, timeout: float) -> list[FakeMsg]:
        if not self.msgs:
            await asyncio.sleep(min(timeout, 0.01))
            raise TimeoutError
        taken, self.msgs = self.msgs[:batch], self.msgs[batch:]
        return taken


class GatedChannel(InMemoryChannel):
    """Holds the send to one post until ``gate`` is set."""

    def __init__(self, held_post: str) -> None:
        super().__init__()
        self.held_post = held_post
        self.gate = asyncio.Event()

    async def send(self, message: Message) -> SendResult:
        if message.post_id == self.held_post:
            await self.gate.wait()
        return await super().send(message)


def _issue(engine: Any, posts: int) -> list[str]:
    with session_scope(engine) as s:
        ids = [f"p{i}" for i in range(posts)]
        for pid in ids:
            make_post(s, pid)
        enqueue_version(s, version_id=make_version(s, make_alert(s), 1, "Alert", ids).id)
    with session_scope(engine) as s:
        rows = s.execute(select(Delivery.id, Delivery.post_id).order_by(Delivery.post_id))
        return [d for d, _ in rows]


def _worker(engine: Any, channel: InMemoryChannel, ack_wait_s: float = 60.0) -> NatsWorker:
    return NatsWorker(
        engine=engine,
        url="nats://unused",
        name="w",
        settings=DispatchSettings(concurrency=8, poll_s=0.02, ack_wait_s=ack_wait_s),
        sender=Sender(ChannelSet.of({ChannelKind.WEBHOOK: channel}), limits={}),
        rng=random.Random(0),
        fetchers=1,
    )


def _statuses(engine: Any) -> list[str]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Delivery.status).order_by(Delivery.post_id)))


async def _until(check: Any, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_parcel_is_acked_only_when_its_last_row_is_recorded(sqlite_engine: Any) -> None:
    ids = _issue(sqlite_engine, 4)
    first = FakeMsg(parcel_of([PickedRow(d, 1, f"{d}:1:0") for d in ids[:3]]).body)  # holds p2
    second = FakeMsg(parcel_of([PickedRow(ids[3], 1, f"{ids[3]}:1:0")]).body)
    channel = GatedChannel(held_post="p2")
    worker = _worker(sqlite_engine, channel)
    stop = asyncio.Event()
    run = asyncio.create_task(worker._pipeline(FakeSub([first, second]), stop))
    try:
        await _until(lambda: second.acks == 1)
        await _until(lambda: _statuses(sqlite_engine).count(DeliveryStatus.DELIVERED) == 3)
        await asyncio.sleep(0.1)
        assert first.acks == 0  # p0 and p1 recorded, p2 still being sent
        channel.gate.set()
        await _until(lambda: first.acks == 1)
        assert _statuses(sqlite_engine) == [DeliveryStatus.DELIVERED] * 4
    finally:
        channel.gate.set()
        stop.set()
        await run
    assert (first.acks, second.acks) == (1, 1)
    assert sorted(m.post_id for m in channel.sent) == ["p0", "p1", "p2", "p3"]


async def test_unreadable_messages_are_terminated_and_the_rest_delivered(
    sqlite_engine: Any,
) -> None:
    ids = _issue(sqlite_engine, 2)
    garbage = FakeMsg(b"{not json")
    good = FakeMsg(parcel_of([PickedRow(d, 1, f"{d}:1:0") for d in ids]).body)
    channel = InMemoryChannel()
    stop = asyncio.Event()
    run = asyncio.create_task(
        _worker(sqlite_engine, channel)._pipeline(FakeSub([garbage, good]), stop)
    )
    try:
        await _until(lambda: good.acks == 1)
    finally:
        stop.set()
        await run
    assert (garbage.terms, garbage.acks) == (1, 0)
    assert _statuses(sqlite_engine) == [DeliveryStatus.DELIVERED] * 2


async def test_a_redelivered_parcel_of_recorded_rows_is_acked_without_sending(
    sqlite_engine: Any,
) -> None:
    ids = _issue(sqlite_engine, 3)
    body = parcel_of([PickedRow(d, 1, f"{d}:1:0") for d in ids]).body
    channel = InMemoryChannel()
    original, again = FakeMsg(body), FakeMsg(body)
    stop = asyncio.Event()
    run = asyncio.create_task(_worker(sqlite_engine, channel)._pipeline(FakeSub([original]), stop))
    try:
        await _until(lambda: original.acks == 1)
    finally:
        stop.set()
        await run
    stop = asyncio.Event()
    run = asyncio.create_task(_worker(sqlite_engine, channel)._pipeline(FakeSub([again]), stop))
    try:
        await _until(lambda: again.acks == 1)
    finally:
        stop.set()
        await run
    assert len(channel.sent) == 3  # the redelivery sent nothing
    assert json.loads(body)["rows"][0][0] == ids[0]


async def test_a_held_parcel_is_kept_alive_and_a_redelivery_joins_its_send(
    sqlite_engine: Any,
) -> None:
    # A send held longer than ack_wait: the parcel is reported in progress, and the same
    # parcel delivered again meanwhile waits for that send instead of sending the row twice.
    ids = _issue(sqlite_engine, 2)
    body = parcel_of([PickedRow(d, 1, f"{d}:1:0") for d in ids]).body
    first, redelivered = FakeMsg(body), FakeMsg(body)
    channel = GatedChannel(held_post="p1")
    sub = FakeSub([first])
    stop = asyncio.Event()
    run = asyncio.create_task(_worker(sqlite_engine, channel, ack_wait_s=0.15)._pipeline(sub, stop))
    try:
        await _until(lambda: first.progress >= 2)
        sub.msgs.append(redelivered)
        await _until(lambda: not sub.msgs)
        await asyncio.sleep(0.1)
        channel.gate.set()
        await _until(lambda: first.acks == 1 and redelivered.acks == 1)
    finally:
        channel.gate.set()
        stop.set()
        await run
    assert sorted(m.post_id for m in channel.sent) == ["p0", "p1"]  # p1 once, not twice


async def test_a_batch_that_cannot_be_loaded_is_given_back(
    sqlite_engine: Any, monkeypatch: Any
) -> None:
    ids = _issue(sqlite_engine, 1)
    msg = FakeMsg(parcel_of([PickedRow(ids[0], 1, f"{ids[0]}:1:0")]).body)
    worker = _worker(sqlite_engine, InMemoryChannel())

    async def broken(op: Any, *args: Any) -> Any:
        raise OSError("database unreachable")

    monkeypatch.setattr(worker, "_db", broken)
    stop = asyncio.Event()
    run = asyncio.create_task(worker._pipeline(FakeSub([msg]), stop))
    try:
        await _until(lambda: msg.naks == 1)
    finally:
        stop.set()
        await run
    assert msg.acks == 0
