"""Escalation on a fake clock: next channel, then supervisor; acks stop it; restarts keep it."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bolo.alerts.model import Alert
from bolo.clock import FakeClock, use_clock
from bolo.dispatch.acks import AckRefused, acknowledge, acknowledge_by_link
from bolo.dispatch.channels import ChannelSet, InMemoryChannel
from bolo.dispatch.channels.sender import Sender
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.messages import ack_token
from bolo.dispatch.model import (
    Delivery,
    DeliveryStatus,
    Escalation,
    EscalationState,
    Phase,
    PostKey,
)
from bolo.dispatch.outbox import enqueue_version
from bolo.dispatch.runner.inprocess import Dispatcher
from bolo.posts.channel_kinds import ChannelKind
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post, make_version

T_S = dispatch_settings().escalate_after_s
CHANNELS = [
    {"kind": "webhook", "url": "http://h/a"},
    {"kind": "apprise", "url": "mailto://a@example.org"},
]


def _new_dispatcher(engine: Any, hooks: InMemoryChannel, mail: InMemoryChannel) -> Dispatcher:
    """A fresh dispatcher object each time: nothing survives in memory, as after a restart."""
    channels = ChannelSet.of({ChannelKind.WEBHOOK: hooks, ChannelKind.APPRISE: mail})
    return Dispatcher(
        engine=engine,
        sender=Sender(channels, limits={}),
        settings=DispatchSettings(),
        rng=random.Random(1),
    )


def _setup(engine: Any) -> str:
    with session_scope(engine) as s:
        make_post(s, "chief", [{"kind": "webhook", "url": "http://h/chief"}])
        make_post(s, "a", CHANNELS, supervisor_id="chief")
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", ["a"])
        enqueue_version(s, version_id=version.id)
        return version.id


def _sent_to(channel: InMemoryChannel) -> list[str]:
    return [m.url for m in channel.sent]


async def test_escalates_next_channel_then_supervisor_across_restarts(db_engine: Any) -> None:
    clock = FakeClock(T0)
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    with use_clock(clock):
        _setup(db_engine)
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        assert _sent_to(hooks) == ["http://h/a"] and mail.sent == []
        clock.advance(seconds=T_S - 1)
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        assert mail.sent == []  # not yet
        clock.advance(seconds=2)
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        assert _sent_to(mail) == ["mailto://a@example.org"]
        assert _sent_to(hooks) == ["http://h/a"]
        clock.advance(seconds=T_S)
        await _new_dispatcher(db_engine, hooks, mail).run_once()  # escalates, writes chief's rows
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        assert _sent_to(hooks) == ["http://h/a", "http://h/chief"]
        with session_scope(db_engine) as s:
            chief = s.scalars(select(Delivery).where(Delivery.post_id == "chief")).one()
            assert chief.origin_post_id == "a" and chief.status == DeliveryStatus.DELIVERED
            own = s.scalars(select(Escalation).where(Escalation.post_id == "a")).one()
            assert own.state == EscalationState.EXHAUSTED and own.step == 2


@pytest.mark.parametrize("ending", ["cancelled", "expired", "past expiry"])
async def test_an_alert_no_longer_in_force_escalates_nobody(db_engine: Any, ending: str) -> None:
    clock = FakeClock(T0)
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    with use_clock(clock):
        _setup(db_engine)
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        with session_scope(db_engine) as s:
            alert = s.scalars(select(Alert)).one()
            if ending == "past expiry":  # the expiry job has not stored it yet
                alert.expires_at = T0 + timedelta(seconds=60)
            else:
                alert.state = ending
        clock.advance(seconds=3 * T_S)
        for _ in range(3):
            await _new_dispatcher(db_engine, hooks, mail).run_once()
        assert _sent_to(hooks) == ["http://h/a"] and mail.sent == []
        with session_scope(db_engine) as s:
            esc = s.scalars(select(Escalation)).one()
            assert esc.state == EscalationState.STOPPED and esc.due_at is None


async def test_acknowledgement_stops_escalation(db_engine: Any) -> None:
    clock = FakeClock(T0)
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    with use_clock(clock):
        version_id = _setup(db_engine)
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        clock.advance(seconds=60)
        with session_scope(db_engine) as s:
            ack = acknowledge(s, version_id=version_id, post_id="a", by="Sgt. Ri")
            assert ack.at == clock()
        clock.advance(seconds=10 * T_S)
        for _ in range(3):
            await _new_dispatcher(db_engine, hooks, mail).run_once()
        assert _sent_to(hooks) == ["http://h/a"] and mail.sent == []
        with session_scope(db_engine) as s:
            rows = {
                d.channel_index: d
                for d in s.scalars(select(Delivery).where(Delivery.post_id == "a"))
            }
            assert rows[0].status == DeliveryStatus.DELIVERED
            assert rows[0].acknowledged_by == "Sgt. Ri"
            delivered, acked = rows[0].delivered_at, rows[0].acknowledged_at
            assert delivered is not None and acked is not None and delivered < acked
            assert rows[1].phase == Phase.STOPPED
            esc = s.scalars(select(Escalation)).one()
            assert esc.state == EscalationState.ACKNOWLEDGED and esc.due_at is None


async def test_ack_link_needs_the_right_token_and_a_name(sqlite_engine: Any) -> None:
    with use_clock(FakeClock(T0)):
        _setup(sqlite_engine)
        with session_scope(sqlite_engine) as s:
            delivery = s.scalars(select(Delivery).where(Delivery.channel_index == 0)).one()
            secret = s.get(PostKey, "a").secret  # type: ignore[union-attr]
            with pytest.raises(AckRefused):
                acknowledge_by_link(s, delivery_id=delivery.id, token="forged", by="X")
            token = ack_token(secret, delivery.id)
            with pytest.raises(AckRefused):
                acknowledge_by_link(s, delivery_id=delivery.id, token=token, by="  ")
            ack = acknowledge_by_link(s, delivery_id=delivery.id, token=token, by="Cpl. Kim")
            assert ack.via == "link" and ack.by_name == "Cpl. Kim"


async def test_cancel_reaching_a_post_retires_its_standby_channels(db_engine: Any) -> None:
    clock = FakeClock(T0)
    hooks, mail = InMemoryChannel(), InMemoryChannel(ChannelKind.APPRISE)
    with use_clock(clock):
        with session_scope(db_engine) as s:
            make_post(s, "a", CHANNELS)
            alert = make_alert(s)
            enqueue_version(s, version_id=make_version(s, alert, 1, "Alert", ["a"]).id)
            alert_id = alert.id
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        with session_scope(db_engine) as s:
            alert = s.get(type(alert), alert_id)
            assert alert is not None
            cancel = make_version(s, alert, 2, "Cancel", ["a"])
            enqueue_version(s, version_id=cancel.id)
            cancel_id = cancel.id
        with session_scope(db_engine) as s:
            standby = s.scalars(
                select(Delivery).where(
                    Delivery.version_id == cancel_id, Delivery.channel_index == 1
                )
            ).one()
            assert standby.phase == Phase.STANDBY  # the Cancel is not delivered yet
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        # Retired where the Cancel's delivery was recorded, not by a later escalation round.
        with session_scope(db_engine) as s:
            rows = {
                d.channel_index: d
                for d in s.scalars(select(Delivery).where(Delivery.version_id == cancel_id))
            }
            assert rows[0].status == DeliveryStatus.DELIVERED
            assert rows[1].phase == Phase.STOPPED and rows[1].status == DeliveryStatus.PENDING
            assert rows[1].last_error == "stopped: the Cancel reached the post"
        clock.advance(seconds=10 * T_S)
        await _new_dispatcher(db_engine, hooks, mail).run_once()
        assert _sent_to(mail) == []  # the standby channel was never used
