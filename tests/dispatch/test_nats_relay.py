"""The relay publishes due rows in parcels, marks them, and republishes a crash's parcels with
the same Nats-Msg-Id (JetStream drops them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.model import Delivery
from bolo.dispatch.nats.parcels import rows_of
from bolo.dispatch.nats.relay import Relay
from bolo.dispatch.outbox import enqueue_version
from bolo.store.db import session_scope
from tests.dispatch.factories import make_alert, make_post, make_version


class FakeJetStream:
    """Records publications."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, str]] = []

    async def publish(self, subject: str, body: bytes, headers: dict[str, str]) -> None:
        self.published.append((subject, body, headers["Nats-Msg-Id"]))


def _issue(engine: Any, posts: int) -> None:
    with session_scope(engine) as s:
        ids = [f"p{i}" for i in range(posts)]
        for pid in ids:
            make_post(s, pid)
        enqueue_version(s, version_id=make_version(s, make_alert(s), 1, "Alert", ids).id)


async def test_rows_go_out_in_parcels_once_and_are_marked(sqlite_engine: Any) -> None:
    _issue(sqlite_engine, 7)
    relay = Relay(
        engine=sqlite_engine, url="nats://unused", settings=DispatchSettings(rows_per_message=3)
    )
    js = FakeJetStream()
    assert await relay.publish_once(js) == 7
    assert [len(rows_of(body)) for _, body, _ in js.published] == [3, 3, 1]
    carried = [d for _, body, _ in js.published for d, _ in rows_of(body)]
    with session_scope(sqlite_engine) as s:
        marked = dict(s.execute(select(Delivery.id, Delivery.queued_attempt)).all())
    assert sorted(carried) == sorted(marked) and set(marked.values()) == {1}
    assert await relay.publish_once(js) == 0  # published rows are not published again


async def test_a_relay_that_died_before_marking_republishes_the_same_parcels(
    sqlite_engine: Any,
) -> None:
    _issue(sqlite_engine, 5)
    relay = Relay(
        engine=sqlite_engine, url="nats://unused", settings=DispatchSettings(rows_per_message=2)
    )
    first, again = FakeJetStream(), FakeJetStream()
    await relay.publish_once(first)
    with session_scope(sqlite_engine) as s:  # as if the marks were never committed
        s.execute(update(Delivery).values(queued_attempt=0, queued_at=None))
    await relay.publish_once(again)
    assert [m for _, _, m in again.published] == [m for _, _, m in first.published]
    assert len({m for _, _, m in first.published}) == 3
