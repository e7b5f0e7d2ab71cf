"""Tips that name no case are purged by the retention purge once they are older than the
retention period (no case's closing would ever purge them); younger ones and case tips stay."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import Engine, func, select

from bolo.audit.model import AuditEntry
from bolo.clock import FakeClock, now, use_clock
from bolo.ops.retention import purge_due
from bolo.reports.intake import TipIn
from bolo.reports.model import Report, ReportContact
from bolo.reports.photo import clean_photo
from bolo.reports.service import submit_tip
from bolo.store.db import session_scope
from tests.reports.factories import coordinator, songchon_case

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (7, 8, 9)).save(out, format="PNG")
    return out.getvalue()


def _tip(what: str, case_id: str | None = None) -> TipIn:
    return TipIn(
        case_id=case_id,
        what=what,
        place="Kilju",
        contact="tipster +850 5550 11111",
        seen_at=now() - timedelta(minutes=30),
    )


def test_caseless_tips_are_purged_after_the_retention_period(
    db_engine: Engine, data_dir: Path
) -> None:
    clock = FakeClock(START)
    with use_clock(clock):
        with session_scope(db_engine) as db:
            case_id = songchon_case(db, coordinator(db)).id
            old = submit_tip(
                db, tip=_tip("Kim Ok-sun saw the boy at the market"), photo=clean_photo(_png())
            ).id
            with_case = submit_tip(
                db, tip=_tip("Kim Ok-sun again, about the case", case_id=case_id)
            ).id
        photo_files = list((data_dir / "report-photos").glob("*"))
        clock.advance(days=20)
        with session_scope(db_engine) as db:
            young = submit_tip(db, tip=_tip("Ri Chol-ho saw a grey truck")).id

        clock.advance(days=9, hours=23)  # the old tip is 29 d 23 h old: kept
        assert purge_due(db_engine, days=30).reports == 0
        clock.advance(hours=2)
        report = purge_due(db_engine, days=30)
        again = purge_due(db_engine, days=30)

    assert (report.reports, report.photos_deleted, again.reports) == (1, 1, 0)
    assert len(photo_files) == 1 and not photo_files[0].exists()
    with session_scope(db_engine) as db:
        texts = {row.id: row.text for row in db.execute(select(Report.id, Report.text))}
        contacts = set(db.execute(select(ReportContact.report_id)).scalars())
        purged = db.get(Report, old)
        assert purged is not None and purged.photo_path is None and purged.lat is not None
        assert texts[old] == "" and old not in contacts  # personal data gone, position kept
        assert texts[young].startswith("Ri Chol-ho") and young in contacts
        assert texts[with_case].startswith("Kim") and with_case in contacts  # the case's purge
        purges = db.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "report.purged")
        ).scalar_one()
        assert purges == 1
