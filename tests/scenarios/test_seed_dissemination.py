"""The reference replay disseminates for real: deliveries, acknowledgements by name, escalation of
a silent post and a Cancel to every post that got any version, checked on the stored rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bolo.alerts.model import AlertTarget, MsgType
from bolo.clock import FakeClock
from bolo.dispatch.model import (
    Acknowledgement,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Escalation,
    EscalationState,
)
from bolo.dispatch.signing import key_from_string, new_secret, sign_headers
from bolo.scenarios.seed_checks import ReplayFailed, check_dissemination
from bolo.scenarios.seed_incident import KILJU_GUARD_POST, Timeline
from bolo.scenarios.seed_posts import LoopbackPosts, PostChannel
from tests.scenarios.http import post_status

Replayed = tuple[Timeline, str]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    """One replay on a fresh SQLite database for the whole module (it takes seconds)."""
    from bolo.scenarios.seed_run import run_replay
    from bolo.settings import reset_settings
    from bolo.store.db import set_default_engine

    root = tmp_path_factory.mktemp("replay")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOLO_DATA_DIR", str(root / "data"))
        mp.delenv("BOLO_DATABASE_URL", raising=False)
        mp.delenv("BOLO_SECURITY_ALLOW_NETWORKS", raising=False)
        reset_settings()
        set_default_engine(None)
        tl = run_replay(out=root / "out", fresh=True)
        yield tl, str(root / "data" / "bolo.db")
        set_default_engine(None)
        reset_settings()


@pytest.fixture()
def db(replayed: Replayed) -> Iterator[Session]:
    """A session on the replay's database that never commits (mutations are rolled back)."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{replayed[1]}")
    with Session(engine) as session:
        yield session
        session.rollback()
    engine.dispose()


def _issued(tl: Timeline) -> list[str]:
    return [v.id for v in tl.versions if v.msg_type != MsgType.CANCEL]


def _delivered(db: Session, version_id: str) -> set[str]:
    return set(
        db.scalars(
            select(Delivery.post_id).where(
                Delivery.version_id == version_id, Delivery.status == DeliveryStatus.DELIVERED
            )
        )
    )


def test_every_targeted_post_has_a_delivered_row_of_each_version(
    replayed: Replayed, db: Session
) -> None:
    tl = replayed[0]
    assert [v.msg_type for v in tl.versions] == ["Alert", "Update", "Cancel"]
    for version_id in _issued(tl):
        targets = set(
            db.scalars(select(AlertTarget.post_id).where(AlertTarget.version_id == version_id))
        )
        assert len(targets) == 20
        assert targets <= _delivered(db, version_id)
    # Every delivered row went through a real HTTP attempt that the post answered 204.
    codes = set(db.scalars(select(DeliveryAttempt.status_code)))
    assert codes == {204}


def test_the_cancel_reached_every_post_that_received_any_version(
    replayed: Replayed, db: Session
) -> None:
    tl = replayed[0]
    received = set().union(*(_delivered(db, v) for v in _issued(tl)))
    assert len(received) >= 20
    assert received <= _delivered(db, tl.versions[-1].id)


def test_acknowledging_posts_are_recorded_by_the_named_person(
    replayed: Replayed, db: Session
) -> None:
    tl = replayed[0]
    for version_id in _issued(tl):
        rows = {
            p: (name, via)
            for p, name, via in db.execute(
                select(Acknowledgement.post_id, Acknowledgement.by_name, Acknowledgement.via).where(
                    Acknowledgement.version_id == version_id
                )
            )
        }
        assert rows[KILJU_GUARD_POST] == ("kilju-officer", "api")
        expected = {p: n for (v, p), n in tl.acks.items() if v == version_id}
        assert len(expected) == 19
        assert {p: n for p, (n, _) in rows.items()} == expected
        assert sum(via == "link" for _, via in rows.values()) == 18
        on_rows = dict(
            db.execute(
                select(Delivery.post_id, Delivery.acknowledged_by).where(
                    Delivery.version_id == version_id, Delivery.acknowledged_by.is_not(None)
                )
            ).all()
        )
        assert on_rows == expected


def test_the_silent_posts_were_escalated_and_one_stayed_unacknowledged(
    replayed: Replayed, db: Session
) -> None:
    tl = replayed[0]
    for version_id in _issued(tl):
        silent = tl.silent[version_id]
        assert len(silent) == 2 and KILJU_GUARD_POST not in silent
        clocks = {
            p: (step, state)
            for p, step, state in db.execute(
                select(Escalation.post_id, Escalation.step, Escalation.state).where(
                    Escalation.version_id == version_id
                )
            )
        }
        escalated = {p for p, (step, _) in clocks.items() if step >= 1}
        assert escalated == set(silent)
        late, never = silent
        assert clocks[late] == (1, EscalationState.ACKNOWLEDGED)
        assert clocks[never] == (2, EscalationState.EXHAUSTED)
        second = dict(
            db.execute(
                select(Delivery.post_id, Delivery.status).where(
                    Delivery.version_id == version_id,
                    Delivery.channel_index == 1,
                    Delivery.escalation_step >= 1,
                )
            ).all()
        )
        assert second == {late: DeliveryStatus.DELIVERED, never: DeliveryStatus.DELIVERED}
        acked = set(
            db.scalars(
                select(Acknowledgement.post_id).where(Acknowledgement.version_id == version_id)
            )
        )
        assert late in acked and never not in acked


def test_the_posts_receiver_verified_every_delivered_message(
    replayed: Replayed, db: Session
) -> None:
    tl = replayed[0]
    delivered = set(
        db.scalars(select(Delivery.id).where(Delivery.status == DeliveryStatus.DELIVERED))
    )
    assert tl.rejected == 0
    assert sorted(tl.received) == sorted(delivered)
    check_dissemination(db, tl)


@pytest.mark.parametrize("break_it", ["unack", "rename", "cancel", "escalation", "receiver"])
def test_the_checks_fail_when_the_rows_do_not_hold(
    replayed: Replayed, db: Session, break_it: str
) -> None:
    tl = replayed[0]
    alert, cancel = tl.versions[0].id, tl.versions[-1].id
    if break_it == "unack":
        db.execute(
            delete(Acknowledgement).where(
                Acknowledgement.version_id == alert, Acknowledgement.post_id == KILJU_GUARD_POST
            )
        )
    elif break_it == "rename":
        db.execute(
            update(Acknowledgement)
            .where(Acknowledgement.version_id == alert)
            .values(by_name="someone else")
        )
    elif break_it == "cancel":
        post = tl.silent[alert][1]
        db.execute(
            update(Delivery)
            .where(Delivery.version_id == cancel, Delivery.post_id == post)
            .values(status=DeliveryStatus.FAILED_PERMANENT)
        )
    elif break_it == "escalation":
        db.execute(update(Escalation).where(Escalation.version_id == alert).values(step=0))
    else:
        tl = Timeline(
            versions=tl.versions,
            acks=tl.acks,
            silent=tl.silent,
            unacknowledged=tl.unacknowledged,
            received=tl.received[1:],
        )
    with pytest.raises(ReplayFailed):
        check_dissemination(db, tl)


def test_receiver_checks_signature_and_the_replay_clock_not_the_wall_clock() -> None:
    replay_now = datetime(2023, 4, 1, 8, 20, tzinfo=UTC)
    posts = LoopbackPosts(FakeClock(replay_now))
    posts.secrets["p1"] = secret = new_secret()
    posts.start()
    try:
        url = posts.url_for("p1", PostChannel.SYSTEM)
        body = json.dumps({"version_id": "v1", "ack_url": "http://x/ack/d1?t=tok"}).encode()

        def signed(msg_id: str, when: datetime, key: str = secret) -> dict[str, str]:
            return sign_headers(
                msg_id=msg_id,
                timestamp=int(when.timestamp()),
                body=body,
                keys=[key_from_string(key)],
            )

        assert post_status(url, body, signed("m1", replay_now + timedelta(minutes=4))) == 204
        assert post_status(url, body, signed("m1", replay_now)) == 204  # duplicate: not recorded
        wall = datetime.now(UTC)
        assert post_status(url, body, signed("m2", wall)) == 401  # fresh by the wall clock: stale
        assert post_status(url, body, signed("m3", replay_now + timedelta(minutes=6))) == 401
        assert post_status(url, body, signed("m4", replay_now, new_secret())) == 401
        assert (
            post_status(posts.url_for("p2", PostChannel.SYSTEM), body, signed("m5", replay_now))
            == 404
        )
    finally:
        posts.stop()
    assert [a.webhook_id for a in posts.arrivals] == ["m1"]
    assert posts.arrival("p1", "v1", PostChannel.SYSTEM).ack_link() == ("d1", "tok")
    assert posts.duplicates == 1 and posts.rejected == 4


def test_replay_leaves_the_ssrf_guard_as_it_found_it(replayed: Replayed) -> None:
    import os

    from bolo.security.urls import security_settings

    assert "BOLO_SECURITY_ALLOW_NETWORKS" not in os.environ
    assert security_settings().allow_networks == ""


def _loopback_refused() -> bool:
    from bolo.security.urls import UnsafeUrl, check_public_url

    try:
        check_public_url("http://127.0.0.1:9/posts/p1/system")
    except UnsafeUrl:
        return True
    return False


def test_replay_allows_loopback_for_itself_only_and_not_after_it_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import threading

    from bolo.scenarios.seed_posts import loopback_allowed
    from bolo.security.urls import security_settings

    monkeypatch.delenv("BOLO_SECURITY_ALLOW_NETWORKS", raising=False)
    security_settings.cache_clear()
    environ = dict(os.environ)
    elsewhere: list[bool] = []
    with pytest.raises(ReplayFailed), loopback_allowed():
        assert not _loopback_refused()
        # The process is untouched: its environment, and a server thread's guard.
        assert dict(os.environ) == environ
        server = threading.Thread(target=lambda: elsewhere.append(_loopback_refused()))
        server.start()
        server.join()
        raise ReplayFailed("a check failed part-way")
    assert elsewhere == [True]
    assert _loopback_refused()
    assert dict(os.environ) == environ


def test_console_timeline_does_not_call_stopped_standby_rows_pending(db: Session) -> None:
    from bolo.cases.model import Case
    from bolo.web.timeline import case_timeline

    case = db.execute(select(Case)).scalar_one()
    summaries = [row.text for row in case_timeline(db, case) if row.text.startswith("deliveries")]
    assert len(summaries) == 3  # Alert, Update, Cancel
    assert not any("pending" in text for text in summaries), summaries
    assert any("stopped" in text for text in summaries), summaries
