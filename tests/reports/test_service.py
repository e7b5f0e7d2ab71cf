"""Report storage on SQLite and PostgreSQL: submissions, duplicates, triage, evidence, audit."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import Engine, func, select

from bolo.audit.service import entries_for, verify
from bolo.clock import now
from bolo.errors import Conflict, InvalidInput, NotFound
from bolo.reports import service
from bolo.reports.intake import ReportState, SearchResult, TipIn
from bolo.reports.model import Report, ReportContact
from bolo.reports.photo import clean_photo
from bolo.reports.worker import cluster_all
from bolo.settings import get_settings
from bolo.store.db import session_scope
from tests.reports.factories import KILJU, coordinator, post, songchon_case


def _tip(case_id: str | None, what: str, place: str | None = None, **extra: object) -> TipIn:
    return TipIn.model_validate(
        {
            "case_id": case_id,
            "what": what,
            "place": place,
            "seen_at": now() - timedelta(hours=1),
            **extra,
        }
    )


def test_tip_is_geocoded_stored_and_duplicate_refused(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        case = songchon_case(s, coordinator(s))
        report = service.submit_tip(
            s, tip=_tip(case.id, "A couple with a boy on a truck", "Gilju", contact="+850 123")
        )
        receipt, report_id = report.receipt, report.id
        assert report.state == ReportState.NEW
        assert report.place_resolved.startswith("Kilju")
        assert report.lat == pytest.approx(KILJU[0], abs=0.01)
        tip = TipIn.model_validate(
            {
                "case_id": case.id,
                "what": "A couple with a boy on a truck",
                "place": "Gilju",
                "seen_at": report.seen_at,
                "contact": "+850 123",
            }
        )
    with session_scope(db_engine) as s, pytest.raises(service.DuplicateSubmission) as dup:
        service.submit_tip(s, tip=tip)
    assert dup.value.receipt == receipt
    with session_scope(db_engine) as s:
        assert s.get(ReportContact, report_id) is not None
        assert s.execute(select(func.count()).select_from(Report)).scalar_one() == 1
    with session_scope(db_engine) as s, pytest.raises(InvalidInput, match="no case"):
        service.submit_tip(s, tip=_tip("no-such-case", "a boy and a couple", "Kilju"))


def test_triage_transitions_and_audit(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        coord = coordinator(s)
        case = songchon_case(s, coord)
        tip = service.submit_tip(s, tip=_tip(case.id, "boy with a couple, heading north", "Kumya"))
        with pytest.raises(Conflict):
            service.triage_report(
                s,
                report_id=tip.id,
                state=ReportState.CONFIRMED,
                reason="jumping the queue",
                actor=coord,
            )
        with pytest.raises(InvalidInput):
            service.triage_report(
                s, report_id=tip.id, state=ReportState.CREDIBLE, reason=" ", actor=coord
            )
        service.triage_report(
            s,
            report_id=tip.receipt,
            state=ReportState.CREDIBLE,
            reason="matches the heading",
            actor=coord,
        )
        done = service.triage_report(
            s,
            report_id=tip.id,
            state=ReportState.CONFIRMED,
            reason="checkpoint saw them",
            actor=coord,
        )
        assert (done.decided_by, done.decision_reason) == (coord.id, "checkpoint saw them")
        actions = [e.action for e in entries_for(s, entity="report", entity_id=tip.id)]
        assert actions == ["report.received", "report.triaged", "report.triaged"]
        assert verify(s).ok
        with pytest.raises(NotFound):
            service.get_report(s, report_id="T-NONE-NONE", reader=None)


def test_reports_change_the_search_evidence(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        coord = coordinator(s)
        case = songchon_case(s, coord, hours_ago=10)
        kilju = post(s, "kilju-guard", *KILJU)
        assert service.evidence_for_case(s, case_id=case.id) == []
        start = now() - timedelta(hours=5)
        service.submit_search_report(
            s,
            case_id=case.id,
            post_id=kilju,
            searched_from=start,
            searched_to=start + timedelta(hours=4),
            searched="all passengers travelling with children",
            actor_id=coord.id,
        )
        tip = service.submit_tip(
            s, tip=_tip(case.id, "a boy with two adults in an army truck", "Kimchaek")
        )
        evidence = service.evidence_for_case(s, case_id=case.id)
        assert [e["kind"] for e in evidence] == ["search"]
        assert evidence[0]["found"] is False and evidence[0]["post_id"] == kilju
        assert evidence[0]["from"].endswith("+00:00")
        service.triage_report(
            s, report_id=tip.id, state=ReportState.CREDIBLE, reason="consistent", actor=coord
        )
        service.submit_sighting(
            s,
            case_id=case.id,
            post_id=kilju,
            seen_at=now(),
            text="couple with the boy stopped at the guard post",
            intercepted=True,
            actor_id=coord.id,
        )
        evidence = service.evidence_for_case(s, case_id=case.id)
    kinds = [e["kind"] for e in evidence]
    assert kinds == ["search", "sighting", "sighting"]
    last = evidence[-1]
    assert (last["lat"], last["lon"]) == KILJU and last["radius_m"] == 500.0
    assert 0.0 < evidence[1]["credibility"] <= 1.0


def test_found_search_report_is_also_a_sighting(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        case = songchon_case(s, coordinator(s))
        kilju = post(s, "kilju-guard", *KILJU)
        start = now() - timedelta(hours=2)
        service.submit_search_report(
            s,
            case_id=case.id,
            post_id=kilju,
            searched_from=start,
            searched_to=start + timedelta(hours=1),
            searched="buses",
            result=SearchResult.FOUND,
        )
        evidence = service.evidence_for_case(s, case_id=case.id)
        with pytest.raises(service.DuplicateSubmission):
            service.submit_search_report(
                s,
                case_id=case.id,
                post_id=kilju,
                searched_from=start,
                searched_to=start + timedelta(hours=1),
                searched="buses",
                result=SearchResult.FOUND,
            )
    assert [(e["kind"], e.get("found")) for e in evidence] == [("search", True), ("sighting", None)]


def test_queue_deduplicates_a_surge_and_purge_removes_contacts(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        coord = coordinator(s)
        case = songchon_case(s, coord)
        texts = [
            "a couple with a small boy at Kilju station",
            "couple with small boy, Kilju stn",
            "a couple with a small boy at the Kilju station!",
        ]
        for text in texts:
            service.submit_tip(s, tip=_tip(case.id, text, "Kilju", contact="me@example.org"))
        photo = clean_photo(_png())
        with_photo = service.submit_tip(
            s, tip=_tip(case.id, "red car speeding south", "Pyongyang"), photo=photo
        )
        photo_file = get_settings().data_dir / str(with_photo.photo_path)
        assert photo_file.is_file()
    cluster_all(db_engine)
    with session_scope(db_engine) as s:
        queue = service.triage_queue(s, case_id=case.id, reader=None)
        assert sorted(e.cluster_size for e in queue) == [1, 3]
        surge = next(e for e in queue if e.cluster_size == 3)
        assert any("agree" in r for r in surge.report.reasons)
        assert all(r.text_key for r in s.execute(select(Report)).scalars())
        assert service.purge_contacts(s, case_id=case.id, actor_id=coord.id) == 4
        assert not any(r.text_key for r in s.execute(select(Report)).scalars())
        assert s.execute(select(func.count()).select_from(ReportContact)).scalar_one() == 0
    with session_scope(db_engine) as s:
        assert s.get(Report, with_photo.id).photo_path is None  # type: ignore[union-attr]
    assert photo_file.exists()  # the retention purge deletes it after its commit


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()
