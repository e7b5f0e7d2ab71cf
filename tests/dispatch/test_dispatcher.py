"""The in-process dispatcher with the in-memory channel, on a fake clock."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bolo.clock import FakeClock, use_clock
from bolo.dispatch.channels import ChannelSet, InMemoryChannel, SendResult
from bolo.dispatch.channels.base import Message
from bolo.dispatch.channels.limits import RateLimits
from bolo.dispatch.channels.sender import Sender
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.keys import set_post_secret
from bolo.dispatch.model import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    DisabledEndpoint,
    Phase,
)
from bolo.dispatch.outbox import enqueue_version
from bolo.dispatch.policy import Outcome
from bolo.dispatch.receiver.verify import Deduper, verify_webhook
from bolo.dispatch.runner.database import DbOp
from bolo.dispatch.runner.inprocess import Dispatcher
from bolo.dispatch.signing import new_secret, sign_headers
from bolo.posts.channel_kinds import ChannelKind
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post, make_version

WEBHOOK_THEN_MAIL = [
    {"kind": "webhook", "url": "http://h/a"},
    {"kind": "apprise", "url": "mailto://a@example.org"},
]


def _dispatcher(engine: Any, hooks: InMemoryChannel, mail: InMemoryChannel) -> Dispatcher:
    channels = ChannelSet.of({ChannelKind.WEBHOOK: hooks, ChannelKind.APPRISE: mail})
    return Dispatcher(
        engine=engine,
        sender=Sender(channels, limits={}),
        settings=DispatchSettings(max_attempts=4),
        rng=random.Random(7),
    )


def _issue(engine: Any, channels: list[dict[str, Any]] | None = None) -> str:
    with session_scope(engine) as s:
        make_post(s, "a", channels or WEBHOOK_THEN_MAIL)
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", ["a"])
        enqueue_version(s, version_id=version.id)
        return version.id


def _rows(engine: Any) -> dict[int, Delivery]:
    with session_scope(engine) as s:
        return {d.channel_index: d for d in s.scalars(select(Delivery))}


async def test_delivers_signed_thin_payload_the_post_can_verify(db_engine: Any) -> None:
    clock = FakeClock(T0)
    secret = new_secret()
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    with use_clock(clock):
        _issue(db_engine)
        with session_scope(db_engine) as s:
            set_post_secret(s, post_id="a", secret=secret)
        assert await _dispatcher(db_engine, hooks, mail).run_once() == 1
        rows = _rows(db_engine)
        assert rows[0].status == DeliveryStatus.DELIVERED and rows[0].attempts == 1
        assert rows[1].phase == Phase.STANDBY and mail.sent == []
        message = hooks.sent[0]
        headers = sign_headers(
            msg_id=message.msg_id,
            timestamp=int(T0.timestamp()),
            body=message.body,
            keys=message.keys,
        )
        data = verify_webhook(message.body, headers, [secret], seen=Deduper(), now=T0)
        assert data is not None
        assert data["title"] == "AMBER alert v1"
        assert data["ack_url"].endswith(
            f"/api/v1/dispatch/ack/{message.msg_id}?t={data['ack_url'].split('t=')[1]}"
        )
        assert data["cap_url"].endswith(".cap")


async def test_410_disables_endpoint_and_falls_back_to_next_channel(sqlite_engine: Any) -> None:
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    hooks.script("http://h/a", SendResult(Outcome.DISABLE, status_code=410, error="HTTP 410"))
    with use_clock(FakeClock(T0)):
        _issue(sqlite_engine)
        dispatcher = _dispatcher(sqlite_engine, hooks, mail)
        await dispatcher.run_once()
        await dispatcher.run_once()
    rows = _rows(sqlite_engine)
    assert rows[0].status == DeliveryStatus.FAILED_PERMANENT
    assert rows[1].status == DeliveryStatus.DELIVERED and len(mail.sent) == 1
    with session_scope(sqlite_engine) as s:
        assert s.get(DisabledEndpoint, ("a", "http://h/a")) is not None
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", ["a"])
        enqueue_version(s, version_id=version.id)
        later = {
            d.channel_index: d
            for d in s.scalars(select(Delivery).where(Delivery.version_id == version.id))
        }
        assert later[0].status == DeliveryStatus.FAILED_PERMANENT  # never sent again
        assert later[1].phase == Phase.ACTIVE


async def test_429_with_retry_after_waits_then_retries(sqlite_engine: Any) -> None:
    clock = FakeClock(T0)
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    hooks.script(
        "http://h/a",
        SendResult(Outcome.SLOW_DOWN, status_code=429, error="HTTP 429", retry_after_s=120.0),
    )
    with use_clock(clock):
        _issue(sqlite_engine, [{"kind": "webhook", "url": "http://h/a"}])
        dispatcher = _dispatcher(sqlite_engine, hooks, mail)
        await dispatcher.run_once()
        row = _rows(sqlite_engine)[0]
        assert row.status == DeliveryStatus.FAILED_TEMPORARY
        assert row.next_attempt_at is not None
        assert row.next_attempt_at - T0 >= timedelta(seconds=120)
        clock.advance(seconds=60)
        assert await dispatcher.run_once() == 0  # not before Retry-After
        clock.advance(seconds=61 + 8)
        assert await dispatcher.run_once() == 1
    assert _rows(sqlite_engine)[0].status == DeliveryStatus.DELIVERED
    with session_scope(sqlite_engine) as s:
        attempts = s.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.number)).all()
        assert [(a.number, a.status_code) for a in attempts] == [(1, 429), (2, 200)]
        assert attempts[0].error == "HTTP 429"


async def test_gives_up_after_max_attempts(sqlite_engine: Any) -> None:
    clock = FakeClock(T0)
    hooks = InMemoryChannel(responder=lambda m: SendResult(Outcome.RETRY, error="timeout"))
    with use_clock(clock):
        _issue(sqlite_engine, [{"kind": "webhook", "url": "http://h/a"}])
        dispatcher = _dispatcher(sqlite_engine, hooks, InMemoryChannel(ChannelKind.APPRISE))
        for _ in range(10):
            await dispatcher.run_once()
            clock.advance(hours=1)
    row = _rows(sqlite_engine)[0]
    assert row.status == DeliveryStatus.FAILED_PERMANENT and row.attempts == 4
    assert len(hooks.sent) == 4
    assert len({m.msg_id for m in hooks.sent}) == 1  # webhook-id stable across retries


async def test_unconfirmed_channels_end_as_sent_not_delivered(sqlite_engine: Any) -> None:
    mail = InMemoryChannel(ChannelKind.APPRISE, responder=lambda m: SendResult(Outcome.SENT))
    with use_clock(FakeClock(T0)):
        _issue(sqlite_engine, [{"kind": "apprise", "url": "mailto://a@example.org"}])
        dispatcher = _dispatcher(sqlite_engine, InMemoryChannel(), mail)
        assert await dispatcher.run_once() == 1
        assert await dispatcher.run_once() == 0
    row = _rows(sqlite_engine)[0]
    assert row.status == DeliveryStatus.SENT and row.delivered_at is None


async def _run_until(dispatcher: Dispatcher, done: Any, timeout_s: float = 60.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        async with asyncio.timeout(timeout_s):
            while not done():
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task


@pytest.mark.parametrize("separate_process", [False, True])
async def test_pipelined_run_records_every_row(sqlite_engine: Any, separate_process: bool) -> None:
    # The real loop (claimer, senders, writer), database work on a thread or in a child
    # process: every row ends delivered, once, with one attempt each.
    hooks = InMemoryChannel()
    with session_scope(sqlite_engine) as s:
        for i in range(300):
            make_post(s, f"p{i}")
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", [f"p{i}" for i in range(300)])
        enqueue_version(s, version_id=version.id)
    dispatcher = Dispatcher(
        engine=sqlite_engine,
        sender=Sender(ChannelSet.of({ChannelKind.WEBHOOK: hooks}), limits={}),
        settings=DispatchSettings(batch=64, concurrency=8, in_flight_window=16, poll_s=0.05),
        separate_db_process=separate_process,
    )
    await _run_until(dispatcher, lambda: len(hooks.sent) >= 300)
    with session_scope(sqlite_engine) as s:
        statuses = [d.status for d in s.scalars(select(Delivery))]
        attempts = s.scalar(select(func.count()).select_from(DeliveryAttempt))
    assert statuses == [DeliveryStatus.DELIVERED] * 300 and attempts == 300
    assert len({m.msg_id for m in hooks.sent}) == 300


@pytest.mark.parametrize("failing", [DbOp.CLAIM, DbOp.RECORD])
async def test_a_database_failure_ends_the_run_instead_of_hanging(
    sqlite_engine: Any, monkeypatch: pytest.MonkeyPatch, failing: DbOp
) -> None:
    hooks = InMemoryChannel()
    with session_scope(sqlite_engine) as s:
        for i in range(20):
            make_post(s, f"p{i}")
        enqueue_version(
            s,
            version_id=make_version(s, make_alert(s), 1, "Alert", [f"p{i}" for i in range(20)]).id,
        )
    dispatcher = Dispatcher(
        engine=sqlite_engine,
        sender=Sender(ChannelSet.of({ChannelKind.WEBHOOK: hooks}), limits={}),
        settings=DispatchSettings(batch=8, concurrency=4, in_flight_window=8, poll_s=0.05),
    )
    real = dispatcher._db

    class Broken:
        """The real database runner, but ``failing`` raises."""

        async def __call__(self, op: DbOp, *args: Any) -> Any:
            if op is failing:
                raise RuntimeError("database gone")
            return await real(op, *args)

        def close(self) -> None:
            real.close()

        async def aclose(self) -> None:
            await real.aclose()

    monkeypatch.setattr(dispatcher, "_db", Broken())
    with pytest.raises(RuntimeError, match="database gone"):
        async with asyncio.timeout(30):
            await dispatcher.run(asyncio.Event())


async def test_sender_waits_for_the_rate_limit_of_limited_kinds_only() -> None:
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    sender = Sender(
        ChannelSet.of({ChannelKind.WEBHOOK: hooks, ChannelKind.APPRISE: mail}),
        limits={ChannelKind.APPRISE: RateLimits(default_rate_per_s=20.0, default_burst=1.0)},
    )
    message = Message(
        msg_id="d", post_id="p", url="mailto://a@example.org", body=b"{}", title="t", text="x"
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(5):
        assert (await sender.send("webhook", message)).outcome is Outcome.DELIVERED
    assert loop.time() - started < 0.04  # webhooks are not limited here
    started = loop.time()
    for _ in range(3):  # a burst of 1 at 20/s: the 2nd and 3rd wait 50 ms each
        assert (await sender.send("apprise", message)).outcome is Outcome.DELIVERED
    assert loop.time() - started >= 0.09
    assert len(mail.sent) == 3
    assert (await sender.send("carrier-pigeon", message)).outcome is Outcome.PERMANENT


async def test_closing_the_dispatcher_closes_its_channels(sqlite_engine: Any) -> None:
    # An open webhook session left behind logs "Unclosed client session" when serve stops.
    closed: list[str] = []

    class Closing(InMemoryChannel):
        async def aclose(self) -> None:
            closed.append("webhook")

    dispatcher = Dispatcher(
        engine=sqlite_engine,
        sender=Sender(ChannelSet.of({ChannelKind.WEBHOOK: Closing()}), limits={}),
    )
    await dispatcher.aclose()
    assert closed == ["webhook"]
