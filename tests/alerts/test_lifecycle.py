"""The alert rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bolo.alerts import public_reads, service, takedown
from bolo.alerts.model import AlertState, VersionState
from bolo.cap.codec import decode
from bolo.cap.schema import schema_errors
from bolo.errors import Conflict, Forbidden, InvalidInput
from bolo.network.graph import PostKind
from bolo.store.db import session_scope
from tests.alerts.factories import ATTESTED, a_case, content, draft, some_posts, staff


def _issued_alert(engine: Engine) -> tuple[str, list[str]]:
    with session_scope(engine) as db:
        coord, approver = staff(db)
        case = a_case(db, coord)
        posts = some_posts(db)
        v = service.draft_alert(db, case_id=case.id, data=draft(posts), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        return v.alert_id, posts


def test_author_cannot_approve_a_live_alert(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, _ = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        with pytest.raises(Forbidden, match="second person"):
            service.approve(db, version_id=v.id, sha256=v.sha256, approver=coord)
        assert service.get_version(db, version_id=v.id).state == VersionState.PENDING_APPROVAL


def test_an_edit_after_approval_request_voids_the_old_content(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, approver = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        seen = v.sha256
        service.edit_version(
            db, version_id=v.id, content=content([], "Edited headline"), author=coord
        )
        assert v.sha256 != seen and v.state == VersionState.DRAFT
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        with pytest.raises(Conflict, match="changed"):
            service.approve(db, version_id=v.id, sha256=seen, approver=approver)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        assert v.state == VersionState.ISSUED and v.approved_sha256 == v.sha256


def test_exercise_never_reaches_a_public_post_or_feed(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, approver = staff(db)
        case = a_case(db, coord)
        public = some_posts(db, 1, PostKind.PUBLIC)
        with pytest.raises(InvalidInput, match="never reaches a public"):
            service.draft_alert(db, case_id=case.id, data=draft(public, "Exercise"), author=coord)
        v = service.draft_alert(db, case_id=case.id, data=draft([], "Exercise"), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        assert service.get_alert(db, alert_id=v.alert_id).state == AlertState.ACTIVE
        assert v.alert_id not in {
            i.alert.id for i in public_reads.public_issues(db, include_ended=True)
        }
        assert decode(v.cap_xml.encode()).status == "Exercise"


def test_update_and_cancel_reference_every_earlier_version(db_engine: Engine) -> None:
    alert_id, posts = _issued_alert(db_engine)
    with session_scope(db_engine) as db:
        from bolo.auth.service import user_by_name

        coord, approver = user_by_name(db, username="coord"), user_by_name(db, username="approver")
        extra = some_posts(db, 2, PostKind.STATION)
        u = service.update_alert(db, alert_id=alert_id, content=content(extra), author=coord)
        service.submit_for_approval(db, version_id=u.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=u.id, sha256=u.sha256, approver=approver)
        takedown.cancel_alert(db, alert_id=alert_id, reason="Found safe.", actor=coord)
        versions = service.versions_of(db, alert_id=alert_id)
        assert [v.msg_type for v in versions] == ["Alert", "Update", "Cancel"]
        for i, version in enumerate(versions):
            message = decode(version.cap_xml.encode())
            assert schema_errors(version.cap_xml.encode()) == []
            assert {r.identifier for r in message.references} == {
                v.identifier for v in versions[:i]
            }
        cancel_targets = set(service.targets_of(db, version_id=versions[-1].id))
        assert cancel_targets == set(posts) | set(extra)
        assert service.get_alert(db, alert_id=alert_id).state == AlertState.CANCELLED


def test_one_coordinator_cancels_in_one_step_and_not_twice(db_engine: Engine) -> None:
    alert_id, _ = _issued_alert(db_engine)
    with session_scope(db_engine) as db:
        from bolo.auth.service import user_by_name

        coord = user_by_name(db, username="coord")
        takedown.cancel_alert(db, alert_id=alert_id, reason="False report.", actor=coord)
        with pytest.raises(Conflict, match="already cancelled"):
            takedown.cancel_alert(db, alert_id=alert_id, reason="again", actor=coord)
        with pytest.raises(Conflict, match="only an alert in force"):
            service.update_alert(db, alert_id=alert_id, content=content([]), author=coord)


def test_expiry_moves_an_alert_to_expired(db_engine: Engine) -> None:
    from bolo.clock import FakeClock, now, use_clock

    clock = FakeClock(now())
    with use_clock(clock):
        alert_id, _ = _issued_alert(db_engine)
        with session_scope(db_engine) as db:
            assert takedown.expire_due(db) == []
        clock.advance(hours=25)
        with session_scope(db_engine) as db:
            assert takedown.expire_due(db) == [alert_id]
            assert service.get_alert(db, alert_id=alert_id).state == AlertState.EXPIRED


def test_invalid_transitions_are_refused(db_engine: Engine) -> None:
    with session_scope(db_engine) as db:
        coord, approver = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        with pytest.raises(Conflict, match="not pending approval"):
            service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        with pytest.raises(InvalidInput, match="unknown post"):
            service.edit_version(db, version_id=v.id, content=content(["nope"]), author=coord)
