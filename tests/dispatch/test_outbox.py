"""The outbox on SQLite and PostgreSQL: rows per (version, post, channel); Cancel reaches all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bolo.clock import FakeClock, use_clock
from bolo.dispatch.model import Delivery, DeliveryStatus, Escalation, EscalationState, Phase
from bolo.dispatch.outbox import enqueue_version
from bolo.posts.model import Post
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post, make_version

TWO = [{"kind": "webhook", "url": "http://h/a"}, {"kind": "apprise", "url": "mailto://x@y"}]


def test_one_row_per_version_post_channel(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)), session_scope(db_engine) as s:
        make_post(s, "p1", TWO)
        make_post(s, "p2")
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", ["p1", "p2"])
        assert enqueue_version(s, version_id=version.id) == 3
        rows = s.scalars(select(Delivery).order_by(Delivery.post_id, Delivery.channel_index)).all()
        assert [(r.post_id, r.channel_index, r.phase) for r in rows] == [
            ("p1", 0, Phase.ACTIVE),
            ("p1", 1, Phase.STANDBY),
            ("p2", 0, Phase.ACTIVE),
        ]
        assert all(r.status == DeliveryStatus.PENDING for r in rows)
        escs = s.scalars(select(Escalation)).all()
        assert {e.post_id for e in escs} == {"p1", "p2"}
        assert all(e.due_at is not None and e.due_at > T0 for e in escs)
        with pytest.raises(IntegrityError), s.begin_nested():
            enqueue_version(s, version_id=version.id)


def test_exercise_never_reaches_public_posts(db_engine: Any) -> None:
    with session_scope(db_engine) as s:
        make_post(s, "pub", kind="public")
        make_post(s, "cp")
        alert = make_alert(s, cap_status="Exercise")
        version = make_version(s, alert, 1, "Alert", ["pub", "cp"])
        enqueue_version(s, version_id=version.id)
        assert set(s.scalars(select(Delivery.post_id))) == {"cp"}


def test_rollback_leaves_no_rows(db_engine: Any) -> None:
    with pytest.raises(RuntimeError), session_scope(db_engine) as s:
        make_post(s, "p1")
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", ["p1"])
        enqueue_version(s, version_id=version.id)
        raise RuntimeError("the approval failed after the outbox was written")
    with session_scope(db_engine) as s:
        assert s.scalars(select(Delivery)).all() == []


def test_cancel_stops_pending_and_reaches_everyone_who_got_any(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)), session_scope(db_engine) as s:
        for pid in ("a", "b", "c", "d"):
            make_post(s, pid)
        alert = make_alert(s)
        v1 = make_version(s, alert, 1, "Alert", ["a", "b"])
        enqueue_version(s, version_id=v1.id)
        # a got v1; b's v1 is still pending
        first = s.scalars(select(Delivery).where(Delivery.post_id == "a")).one()
        first.attempts, first.status = 1, DeliveryStatus.DELIVERED
        v2 = make_version(s, alert, 2, "Update", ["c"])
        enqueue_version(s, version_id=v2.id)
        c_row = s.scalars(select(Delivery).where(Delivery.version_id == v2.id)).one()
        c_row.attempts, c_row.status = 1, DeliveryStatus.FAILED_TEMPORARY  # may have reached c
        cancel = make_version(s, alert, 3, "Cancel", ["d"])
        enqueue_version(s, version_id=cancel.id)
        s.flush()
        reached = set(s.scalars(select(Delivery.post_id).where(Delivery.version_id == cancel.id)))
        assert reached == {"a", "c", "d"}
        older = {
            r.post_id: r
            for r in s.scalars(select(Delivery).where(Delivery.version_id != cancel.id))
        }
        assert older["b"].phase == Phase.STOPPED
        assert older["c"].phase == Phase.STOPPED
        assert older["a"].status == DeliveryStatus.DELIVERED  # history kept
        states = set(s.scalars(select(Escalation.state).where(Escalation.version_id != cancel.id)))
        assert states == {EscalationState.STOPPED}
        assert s.scalars(select(Escalation).where(Escalation.version_id == cancel.id)).all() == []


def test_post_without_channel_is_recorded_as_unreachable(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)), session_scope(db_engine) as s:
        make_post(s, "mute", [])
        make_post(s, "ok")
        s.get(Post, "mute").channels = []  # type: ignore[union-attr]
        alert = make_alert(s)
        version = make_version(s, alert, 1, "Alert", ["mute", "ok"])
        enqueue_version(s, version_id=version.id)
        rows = {d.post_id: d for d in s.scalars(select(Delivery))}
        assert rows["mute"].status == DeliveryStatus.FAILED_PERMANENT
        assert rows["mute"].phase == Phase.STOPPED and rows["mute"].channel_kind == "none"
        assert "no channel" in (rows["mute"].last_error or "")
        assert rows["ok"].status == DeliveryStatus.PENDING
        # It is chased all the same: its escalation clock runs (to its supervisor).
        assert (
            s.scalars(select(Escalation.post_id).where(Escalation.version_id == version.id))
            .all()
            .count("mute")
            == 1
        )
