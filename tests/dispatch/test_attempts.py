"""Recording attempts on SQLite and PostgreSQL: a batch recorded twice (a retried record after
its commit, a redelivered parcel) stores each attempt once and moves no delivery further; a
Cancel recorded as having reached its post retires that post's standby channels at once."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bolo.alerts.model import AlertVersion
from bolo.clock import FakeClock, use_clock
from bolo.dispatch.attempts import Attempt, record_attempts
from bolo.dispatch.channels.base import SendResult
from bolo.dispatch.model import Delivery, DeliveryAttempt, DeliveryStatus, Phase
from bolo.dispatch.outbox import enqueue_version
from bolo.dispatch.policy import Outcome, RetryPolicy
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post, make_version

THREE = [
    {"kind": "webhook", "url": "http://h/one"},
    {"kind": "webhook", "url": "http://h/two"},
    {"kind": "webhook", "url": "http://h/three"},
]
OUTCOMES = {
    "ok": SendResult(Outcome.DELIVERED, status_code=200),
    "flaky": SendResult(Outcome.RETRY, status_code=500, error="HTTP 500"),
    "gone": SendResult(Outcome.DISABLE, status_code=410, error="HTTP 410"),
    "bad": SendResult(Outcome.PERMANENT, status_code=400, error="HTTP 400"),
}

RETIRED = (Phase.STOPPED, "stopped: the Cancel reached the post")
WAITING = (Phase.STANDBY, None)


def _first_channels(engine: Any) -> dict[str, str]:
    """Enqueue one alert to four posts of three channels; post id -> its active delivery id."""
    with session_scope(engine) as s:
        for post_id in OUTCOMES:
            make_post(s, post_id, THREE)
        version = make_version(s, make_alert(s), 1, "Alert", list(OUTCOMES))
        enqueue_version(s, version_id=version.id)
        return {
            d.post_id: d.id for d in s.scalars(select(Delivery).where(Delivery.channel_index == 0))
        }


def _record(engine: Any, batch: list[Attempt]) -> int:
    with session_scope(engine) as s:
        return record_attempts(
            s, batch, policy=RetryPolicy(max_attempts=5), rng=random.Random(1), worker="w1"
        )


def _state(s: Session) -> list[tuple[Any, ...]]:
    return [
        (
            d.post_id,
            d.channel_index,
            d.phase,
            d.status,
            d.attempts,
            d.next_attempt_at,
            d.sent_at,
            d.delivered_at,
            d.last_error,
        )
        for d in s.scalars(select(Delivery).order_by(Delivery.post_id, Delivery.channel_index))
    ]


def test_a_batch_recorded_twice_stores_each_attempt_once(db_engine: Any) -> None:
    clock = FakeClock(T0)
    with use_clock(clock):
        ids = _first_channels(db_engine)
        batch = [Attempt(ids[p], 1, result) for p, result in OUTCOMES.items()]
        assert _record(db_engine, batch) == 4
        with session_scope(db_engine) as s:
            before = _state(s)
        clock.advance(seconds=30)  # the repeat comes later, as a retry or redelivery does
        assert _record(db_engine, batch) == 0
        with session_scope(db_engine) as s:
            rows = s.execute(
                select(DeliveryAttempt.delivery_id, DeliveryAttempt.number, DeliveryAttempt.at)
            ).all()
            assert sorted((d, n) for d, n, _ in rows) == sorted((i, 1) for i in ids.values())
            assert {at for _, _, at in rows} == {T0}  # the first recording's rows are kept
            assert _state(s) == before


def test_a_repeated_failure_falls_back_to_one_channel_only(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)):
        ids = _first_channels(db_engine)
        batch = [Attempt(ids["bad"], 1, OUTCOMES["bad"])]
        _record(db_engine, batch)
        _record(db_engine, batch)
        with session_scope(db_engine) as s:
            phases = s.scalars(
                select(Delivery.phase)
                .where(Delivery.post_id == "bad")
                .order_by(Delivery.channel_index)
            ).all()
            assert phases == [Phase.ACTIVE, Phase.ACTIVE, Phase.STANDBY]


def test_later_attempts_of_a_delivery_are_all_kept(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)):
        ids = _first_channels(db_engine)
        _record(db_engine, [Attempt(ids["flaky"], 1, OUTCOMES["flaky"])])
        _record(db_engine, [Attempt(ids["flaky"], 2, OUTCOMES["ok"])])
        with session_scope(db_engine) as s:
            numbers = s.scalars(
                select(DeliveryAttempt.number)
                .where(DeliveryAttempt.delivery_id == ids["flaky"])
                .order_by(DeliveryAttempt.number)
            )
            assert numbers.all() == [1, 2]
            assert s.get(Delivery, ids["flaky"]).status == DeliveryStatus.DELIVERED  # type: ignore[union-attr]
            assert s.scalar(select(func.count()).select_from(DeliveryAttempt)) == 2


def _cancel_to(engine: Any, post_ids: list[str], channels: list[dict[str, str]]) -> dict[str, str]:
    """An Alert to ``post_ids`` then its Cancel; post id -> the Cancel's first-channel id."""
    with session_scope(engine) as s:
        for post_id in post_ids:
            make_post(s, post_id, channels)
        alert = make_alert(s)
        enqueue_version(s, version_id=make_version(s, alert, 1, "Alert", post_ids).id)
        cancel = make_version(s, alert, 2, "Cancel", post_ids)
        enqueue_version(s, version_id=cancel.id)
        return {
            d.post_id: d.id
            for d in s.scalars(
                select(Delivery).where(
                    Delivery.version_id == cancel.id, Delivery.channel_index == 0
                )
            )
        }


def _standbys(s: Session, seq: int) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(post, channel) -> (phase, last_error) of the later channels of version ``seq``."""
    rows = s.execute(
        select(Delivery.post_id, Delivery.channel_index, Delivery.phase, Delivery.last_error)
        .join(AlertVersion, AlertVersion.id == Delivery.version_id)
        .where(AlertVersion.seq == seq, Delivery.channel_index > 0)
    )
    return {(p, i): (phase, error) for p, i, phase, error in rows}


def test_a_cancel_recorded_delivered_retires_that_posts_standby_channels(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)):
        firsts = _cancel_to(db_engine, ["a", "b"], THREE)
        assert _record(db_engine, [Attempt(firsts["a"], 1, OUTCOMES["ok"])]) == 1
        with session_scope(db_engine) as s:
            assert _standbys(s, 2) == {
                ("a", 1): RETIRED,
                ("a", 2): RETIRED,  # in the same transaction
                ("b", 1): WAITING,
                ("b", 2): WAITING,
            }  # b's Cancel is not there yet


def test_a_cancel_handed_to_a_relay_retires_the_standby_channels_too(db_engine: Any) -> None:
    relay_first = [{"kind": "apprise", "url": "mailto://a@example.org"}, *THREE[:1]]
    with use_clock(FakeClock(T0)):
        firsts = _cancel_to(db_engine, ["a"], relay_first)
        _record(db_engine, [Attempt(firsts["a"], 1, SendResult(Outcome.SENT))])
        with session_scope(db_engine) as s:
            assert _standbys(s, 2) == {("a", 1): RETIRED}


def test_an_alert_recorded_delivered_keeps_its_standby_channels(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)):
        ids = _first_channels(db_engine)
        _record(db_engine, [Attempt(ids["ok"], 1, OUTCOMES["ok"])])
        with session_scope(db_engine) as s:
            phases = s.scalars(
                select(Delivery.phase).where(Delivery.post_id == "ok", Delivery.channel_index > 0)
            ).all()
            assert phases == [Phase.STANDBY, Phase.STANDBY]  # escalation may need them
