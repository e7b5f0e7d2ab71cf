"""Acknowledgement links: once per (version, post), only for the current version of an active
alert, stopping escalations of that version (and the ones it supersedes) only, honouring the
secret rotation's end; malformed bodies answer 4xx, never 500."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bolo.alerts.model import Alert
from bolo.api import create_app
from bolo.clock import FakeClock, use_clock
from bolo.dispatch.acks import AckNotTaken, AckRefused, acknowledge, acknowledge_by_link
from bolo.dispatch.keys import ROTATION_GRACE_S, rotate_post_secret
from bolo.dispatch.messages import ack_token
from bolo.dispatch.model import Acknowledgement, Delivery, Escalation, EscalationState, PostKey
from bolo.dispatch.outbox import enqueue_version
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post, make_version


def _issue(engine: Any, *, versions: int = 1) -> tuple[str, list[str]]:
    """An active alert with ``versions`` issued versions (Alert, then Updates) to posts a and
    b; returns (alert id, version ids)."""
    with session_scope(engine) as s:
        make_post(s, "a")
        make_post(s, "b")
        alert = make_alert(s)
        ids = []
        for seq in range(1, versions + 1):
            version = make_version(s, alert, seq, "Alert" if seq == 1 else "Update", ["a", "b"])
            enqueue_version(s, version_id=version.id)
            ids.append(version.id)
        return alert.id, ids


def _link(engine: Any, version_id: str, post_id: str = "a") -> tuple[str, str]:
    with session_scope(engine) as s:
        delivery = s.scalars(
            select(Delivery).where(Delivery.version_id == version_id, Delivery.post_id == post_id)
        ).one()
        key = s.get(PostKey, post_id)
        assert key is not None
        return delivery.id, ack_token(key.secret, delivery.id)


def _states(engine: Any) -> dict[tuple[str, str], str]:
    with session_scope(engine) as s:
        return {(e.version_id, e.post_id): e.state for e in s.scalars(select(Escalation))}


def test_a_link_acknowledges_once(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)):
        _, (v1,) = _issue(db_engine)
        delivery_id, token = _link(db_engine, v1)
        with session_scope(db_engine) as s:
            acknowledge_by_link(s, delivery_id=delivery_id, token=token, by="Lt. Ri")
        with session_scope(db_engine) as s, pytest.raises(AckNotTaken, match=r"Lt\. Ri"):
            acknowledge_by_link(s, delivery_id=delivery_id, token=token, by="Somebody Else")
        with session_scope(db_engine) as s, pytest.raises(AckNotTaken):
            acknowledge(s, version_id=v1, post_id="a", by="officer")
        # The post page renders every AckRefused as its own error page (409 here).
        assert issubclass(AckNotTaken, AckRefused) and AckNotTaken.status == 409
        with session_scope(db_engine) as s:
            assert [a.by_name for a in s.scalars(select(Acknowledgement))] == ["Lt. Ri"]
            assert s.scalars(
                select(Delivery.acknowledged_by).where(Delivery.post_id == "a")
            ).all() == ["Lt. Ri"]


def test_a_superseded_version_takes_no_ack_and_cannot_stop_the_update(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)):
        _, (v1, v2) = _issue(db_engine, versions=2)
        delivery_id, token = _link(db_engine, v1)
        with session_scope(db_engine) as s, pytest.raises(AckNotTaken, match="superseded"):
            acknowledge_by_link(s, delivery_id=delivery_id, token=token, by="Replayer")
        assert _states(db_engine)[(v2, "a")] == EscalationState.PENDING
        # The Update's own link stops its escalation and the earlier version's, for that
        # post only.
        delivery_id, token = _link(db_engine, v2)
        with session_scope(db_engine) as s:
            acknowledge_by_link(s, delivery_id=delivery_id, token=token, by="Lt. Ri")
        states = _states(db_engine)
        assert states[(v2, "a")] == states[(v1, "a")] == EscalationState.ACKNOWLEDGED
        assert states[(v2, "b")] == states[(v1, "b")] == EscalationState.PENDING


@pytest.mark.parametrize("state", ["cancelled", "expired"])
def test_an_ended_alert_takes_no_ack(db_engine: Any, state: str) -> None:
    with use_clock(FakeClock(T0)):
        alert_id, (v1,) = _issue(db_engine)
        with session_scope(db_engine) as s:
            alert = s.get(Alert, alert_id)
            assert alert is not None
            alert.state = state
        delivery_id, token = _link(db_engine, v1)
        with session_scope(db_engine) as s, pytest.raises(AckNotTaken, match=state):
            acknowledge_by_link(s, delivery_id=delivery_id, token=token, by="Lt. Ri")
        with session_scope(db_engine) as s:
            assert s.scalars(select(Acknowledgement)).all() == []


def test_an_alert_past_its_expiry_takes_no_ack_before_the_expiry_job(db_engine: Any) -> None:
    clock = FakeClock(T0)
    with use_clock(clock):
        alert_id, (v1,) = _issue(db_engine)
        with session_scope(db_engine) as s:
            alert = s.get(Alert, alert_id)
            assert alert is not None
            alert.expires_at = T0 + timedelta(hours=1)
        delivery_id, token = _link(db_engine, v1)
        clock.advance(hours=2)  # the stored state is still "active"
        with session_scope(db_engine) as s, pytest.raises(AckNotTaken, match="expired"):
            acknowledge_by_link(s, delivery_id=delivery_id, token=token, by="Lt. Ri")
        with session_scope(db_engine) as s:
            assert s.scalars(select(Acknowledgement)).all() == []


def test_a_rotated_out_secret_signs_links_only_until_the_rotation_ends(db_engine: Any) -> None:
    clock = FakeClock(T0)
    with use_clock(clock):
        _, (v1,) = _issue(db_engine)
        a_id, old_a = _link(db_engine, v1, "a")
        b_id, old_b = _link(db_engine, v1, "b")
        with session_scope(db_engine) as s:
            rotate_post_secret(s, post_id="a")
            rotate_post_secret(s, post_id="b")
        clock.advance(seconds=ROTATION_GRACE_S - 60)
        with session_scope(db_engine) as s:
            acknowledge_by_link(s, delivery_id=a_id, token=old_a, by="within the grace")
        clock.advance(seconds=120)
        with session_scope(db_engine) as s, pytest.raises(AckRefused, match="not valid"):
            acknowledge_by_link(s, delivery_id=b_id, token=old_b, by="after the grace")
        _, new_b = _link(db_engine, v1, "b")
        with session_scope(db_engine) as s:
            acknowledge_by_link(s, delivery_id=b_id, token=new_b, by="with the new secret")


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(timers=False))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"by": 5}', "application/json"),
        (b'{"by": ["a"]}', "application/json"),
        (b'{"by": {"x": 1}}', "application/json"),
    ],
)
def test_malformed_ack_bodies_answer_4xx(
    sqlite_engine: Any, client: TestClient, body: bytes, content_type: str
) -> None:
    with use_clock(FakeClock(T0)):
        _, (v1,) = _issue(sqlite_engine)
        delivery_id, token = _link(sqlite_engine, v1)
    answer = client.post(
        f"/api/v1/dispatch/ack/{delivery_id}",
        params={"t": token},
        content=body,
        headers={"content-type": content_type},
    )
    assert 400 <= answer.status_code < 500, answer.text
    with session_scope(sqlite_engine) as s:
        assert s.scalars(select(Acknowledgement)).all() == []


def test_a_non_ascii_token_is_refused_not_a_500(sqlite_engine: Any, client: TestClient) -> None:
    with use_clock(FakeClock(T0)):
        _, (v1,) = _issue(sqlite_engine)
        delivery_id, _ = _link(sqlite_engine, v1)
    answer = client.post(
        f"/api/v1/dispatch/ack/{delivery_id}", params={"t": "é" * 24}, data={"by": "Lt. Ri"}
    )
    assert answer.status_code == 403


def test_the_form_sends_the_token_in_its_body(sqlite_engine: Any, client: TestClient) -> None:
    with use_clock(FakeClock(T0)):
        _, (v1,) = _issue(sqlite_engine)
        delivery_id, token = _link(sqlite_engine, v1)
        url = f"/api/v1/dispatch/ack/{delivery_id}"
        page = client.get(url, params={"t": token})
        assert page.status_code == 200
        assert f'action="{url}"' in page.text and f'name="t" value="{token}"' in page.text
        ok = client.post(url, data={"t": token, "by": "Lt. Ri"})
        assert ok.status_code == 200, ok.text
        again = client.post(url, params={"t": token}, json={"by": "Replayer"})
        assert again.status_code == 409 and "already acknowledged" in again.text


def test_two_acknowledgements_at_once_record_one(db_engine: Any) -> None:
    with use_clock(FakeClock(T0)):  # one process-wide clock: the threads share it
        _, (v1,) = _issue(db_engine)
        delivery_id, token = _link(db_engine, v1)
        barrier = threading.Barrier(4)
        outcomes: list[str] = []

        def ack(name: str) -> None:
            barrier.wait()
            try:
                with session_scope(db_engine) as s:
                    acknowledge_by_link(s, delivery_id=delivery_id, token=token, by=name)
                outcomes.append("recorded")
            except AckNotTaken:
                outcomes.append("refused")

        threads = [threading.Thread(target=ack, args=(f"officer {i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(outcomes) == ["recorded", "refused", "refused", "refused"]
    with session_scope(db_engine) as s:
        assert len(s.scalars(select(Acknowledgement)).all()) == 1
