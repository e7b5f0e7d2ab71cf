"""Migration 0007 on SQLite and PostgreSQL: attempts stored twice before it are stored once
after it (the first row kept), and a repeat is refused from then on; standby channels of
Cancels that already reached their post are retired."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bolo.dispatch.model import Delivery, DeliveryAttempt, DeliveryStatus, Phase
from bolo.dispatch.outbox import enqueue_version
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post, make_version
from tests.store.migrate import alembic

REVISION = "0007_dispatch_attempt_number"


def _attempt(delivery_id: str, number: int, minutes: int) -> dict[str, Any]:
    return {
        "delivery_id": delivery_id,
        "number": number,
        "at": T0 + timedelta(minutes=minutes),
        "duration_s": 0.1,
        "outcome": "retry",
        "worker": "w1",
    }


def test_duplicate_attempts_are_merged_then_refused(db_engine: Any) -> None:
    # The rows are made with today's models, then the schema goes back to before 0007 (the
    # models have columns later migrations added, so they cannot write to the old schema).
    with session_scope(db_engine) as s:
        make_post(s, "a")
        make_post(s, "b")
        enqueue_version(s, version_id=make_version(s, make_alert(s), 1, "Alert", ["a", "b"]).id)
        a, b = (s.scalars(select(Delivery.id).where(Delivery.post_id == p)).one() for p in "ab")
    alembic(db_engine, "downgrade", f"{REVISION}-1")
    with session_scope(db_engine) as s:
        s.execute(
            insert(DeliveryAttempt),
            [
                _attempt(a, 1, 0),
                _attempt(a, 1, 5),
                _attempt(a, 2, 6),
                _attempt(a, 1, 9),
                _attempt(b, 1, 1),
                _attempt(b, 2, 2),
            ],
        )
    alembic(db_engine, "upgrade", "heads")
    with session_scope(db_engine) as s:
        kept = s.execute(
            select(
                DeliveryAttempt.delivery_id, DeliveryAttempt.number, DeliveryAttempt.at
            ).order_by(DeliveryAttempt.id)
        ).all()
        assert [(d, n, at - T0) for d, n, at in kept] == [
            (a, 1, timedelta(0)),
            (a, 2, timedelta(minutes=6)),
            (b, 1, timedelta(minutes=1)),
            (b, 2, timedelta(minutes=2)),
        ]
    with pytest.raises(IntegrityError), session_scope(db_engine) as s:
        s.execute(insert(DeliveryAttempt), [_attempt(b, 2, 3)])


def test_standbys_of_cancels_that_reached_their_post_are_retired(db_engine: Any) -> None:
    two = [{"kind": "webhook", "url": "http://h/1"}, {"kind": "apprise", "url": "mailto://a@b"}]
    with session_scope(db_engine) as s:
        make_post(s, "got", two)
        make_post(s, "not_yet", two)
        alert = make_alert(s)
        enqueue_version(s, version_id=make_version(s, alert, 1, "Alert", ["got", "not_yet"]).id)
        cancel = make_version(s, alert, 2, "Cancel", ["got", "not_yet"])
        enqueue_version(s, version_id=cancel.id)
        cancel_id = cancel.id
    alembic(db_engine, "downgrade", f"{REVISION}-1")  # made with today's models, then back
    with session_scope(db_engine) as s:
        s.execute(
            update(Delivery)
            .where(Delivery.post_id == "got", Delivery.channel_index == 0)
            .values(status=DeliveryStatus.DELIVERED, attempts=1)
        )
    alembic(db_engine, "upgrade", "heads")
    with session_scope(db_engine) as s:
        standbys = s.execute(
            select(
                Delivery.post_id, Delivery.version_id, Delivery.phase, Delivery.last_error
            ).where(Delivery.channel_index == 1)
        )
        assert {(p, v == cancel_id, phase, error) for p, v, phase, error in standbys} == {
            ("got", True, Phase.STOPPED, "stopped: the Cancel reached the post"),
            ("not_yet", True, Phase.STANDBY, None),
            ("got", False, Phase.STOPPED, "stopped: alert cancelled"),
            ("not_yet", False, Phase.STOPPED, "stopped: alert cancelled"),
        }
