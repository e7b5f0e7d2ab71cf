"""Exercise and Test alerts never reach a public post, whatever path writes the delivery:
targets, and escalation to a supervisor (a public post stored as a supervisor before the posts
service refused it). The posts service refuses a public supervisor."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bolo.clock import FakeClock, use_clock
from bolo.dispatch.config import dispatch_settings
from bolo.dispatch.escalation import run_escalations
from bolo.dispatch.model import Delivery, Escalation, EscalationState
from bolo.dispatch.outbox import enqueue_version
from bolo.errors import InvalidInput
from bolo.network.graph import PostKind
from bolo.posts.schemas import PostIn
from bolo.posts.service import upsert_post
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post, make_version


@pytest.mark.parametrize("cap_status", ["Exercise", "Test"])
def test_escalation_never_sends_a_drill_to_a_public_supervisor(
    db_engine: Any, cap_status: str
) -> None:
    clock = FakeClock(T0)
    with use_clock(clock), session_scope(db_engine) as s:
        make_post(s, "sign", [{"kind": "webhook", "url": "http://h/sign"}], kind="public")
        make_post(s, "a", [{"kind": "webhook", "url": "http://h/a"}], supervisor_id="sign")
        version = make_version(s, make_alert(s, cap_status=cap_status), 1, "Alert", ["a", "sign"])
        enqueue_version(s, version_id=version.id)
        clock.advance(seconds=dispatch_settings().escalate_after_s + 1)
        assert run_escalations(s) == 1
        assert s.scalars(select(Delivery.post_id)).all() == ["a"]
        own = s.scalars(select(Escalation).where(Escalation.post_id == "a")).one()
        assert own.state == EscalationState.EXHAUSTED
        assert s.scalars(select(Escalation).where(Escalation.post_id == "sign")).all() == []


def test_an_actual_alert_still_escalates_to_any_supervisor(db_engine: Any) -> None:
    clock = FakeClock(T0)
    with use_clock(clock), session_scope(db_engine) as s:
        make_post(s, "sign", [{"kind": "webhook", "url": "http://h/sign"}], kind="public")
        make_post(s, "a", [{"kind": "webhook", "url": "http://h/a"}], supervisor_id="sign")
        version = make_version(s, make_alert(s), 1, "Alert", ["a"])
        enqueue_version(s, version_id=version.id)
        clock.advance(seconds=dispatch_settings().escalate_after_s + 1)
        run_escalations(s)
        assert sorted(s.scalars(select(Delivery.post_id))) == ["a", "sign"]


def _post(post_id: str, kind: PostKind, supervisor: str | None = None) -> PostIn:
    return PostIn(
        id=post_id, kind=kind, name=post_id, lat=40.0, lon=127.0, supervisor_id=supervisor
    )


def test_the_posts_service_refuses_a_public_supervisor(db_engine: Any) -> None:
    with session_scope(db_engine) as s:
        upsert_post(s, data=_post("sign", PostKind.PUBLIC), actor=None)
        upsert_post(s, data=_post("chief", PostKind.POLICE), actor=None)
        with pytest.raises(InvalidInput, match="public"):
            upsert_post(s, data=_post("a", PostKind.CHECKPOINT, "sign"), actor=None)
        upsert_post(s, data=_post("a", PostKind.CHECKPOINT, "chief"), actor=None)
        # Nor may a supervisor become public afterwards.
        with pytest.raises(InvalidInput, match="supervises"):
            upsert_post(s, data=_post("chief", PostKind.PUBLIC), actor=None)
