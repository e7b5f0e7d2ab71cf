"""The retention purge also takes what the first version left: a tipster's place texts and the
photo's GPS position, the names on acknowledgements, other agencies' imported alerts once
ended, and report photo files no report refers to (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import Engine, select

from bolo.alerts.external import ExternalAlert, ExternalState
from bolo.clock import FakeClock, now, use_clock
from bolo.dispatch.acks import acknowledge
from bolo.dispatch.model import Acknowledgement, Delivery
from bolo.ops.retention import purge_due
from bolo.reports.intake import TipIn
from bolo.reports.model import Report
from bolo.reports.photo import clean_photo
from bolo.reports.service import submit_tip
from bolo.store.db import session_scope
from tests.security.factories import build_world
from tests.security.test_purge import _all_cells, _close, _leaks

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLACE = "behind the Quillane family's farmhouse"
RESOLVED = "Ulvenmark crossing"
ACK_NAME = "Sgt. Dornavil Haskettine"
EXTERNAL = "Tamsovi Brekkeland, 6, missing"


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (32, 32), (10, 120, 10))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (40.0, 57.0, 51.0), 3: "E", 4: (129.0, 19.0, 40.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _holding(engine: Engine) -> set[str]:
    """Which of the test's words some cell of the database still holds."""
    cells = [value for _, _, value in _all_cells(engine)]
    return {w for w in (PLACE, RESOLVED, ACK_NAME, EXTERNAL) if any(w in c for c in cells)}


def _external(db: object, *, state: str, expires: datetime | None, ident: str) -> None:
    db.add(
        ExternalAlert(  # type: ignore[attr-defined]
            sender="other@agency.example",
            identifier=ident,
            sent=now(),
            msg_type="Alert",
            status="Actual",
            state=state,
            headline=EXTERNAL,
            expires=expires,
            xml=f"<alert><headline>{EXTERNAL}</headline></alert>",
            imported_at=now(),
        )
    )


def test_the_purge_takes_places_photo_gps_ack_names_and_ended_imports(
    db_engine: Engine, data_dir: Path
) -> None:
    clock = FakeClock(START)
    with use_clock(clock):
        with session_scope(db_engine) as db:
            w = build_world(db)
            tip = TipIn.model_validate(
                {
                    "case_id": w.case_id,
                    "what": "a boy in a truck",
                    "place": PLACE,
                    "seen_at": now() - timedelta(hours=1),
                }
            )
            report = submit_tip(db, tip=tip, photo=clean_photo(_jpeg_with_gps()))
            report.place_resolved = RESOLVED
            assert report.photo_lat is not None
            acknowledge(db, version_id=w.version_id, post_id=w.posts[0], by=ACK_NAME)
            _external(db, state=ExternalState.CANCELLED, expires=None, ident="gone")
            _external(db, state=ExternalState.ACTIVE, expires=None, ident="still-on")
        assert _holding(db_engine) == {PLACE, RESOLVED, ACK_NAME, EXTERNAL}
        _close(db_engine, w, clock)
        clock.advance(days=31)
        result = purge_due(db_engine, days=30)
    assert result.cases == [w.case_id] and result.external_alerts == 1
    with session_scope(db_engine) as db:
        purged = db.get(Report, report.id)
        assert purged is not None
        assert (purged.place, purged.place_resolved) == ("", "")
        assert (purged.photo_lat, purged.photo_lon) == (None, None)
        assert purged.lat is not None  # the evidence's own position remains
        assert [a.by_name for a in db.scalars(select(Acknowledgement))] == [""]
        assert ACK_NAME not in {d.acknowledged_by for d in db.scalars(select(Delivery))}
        kept = {e.identifier: e for e in db.scalars(select(ExternalAlert))}
        assert kept["gone"].xml == kept["gone"].headline == ""
        assert kept["gone"].state == ExternalState.CANCELLED  # the row stays: no re-import
        assert EXTERNAL in kept["still-on"].xml  # an active alert is not touched
    assert _holding(db_engine) == {EXTERNAL}  # only in the active import
    assert _leaks(db_engine, data_dir) == []


def test_unreferenced_photo_files_go_once_a_day_old(db_engine: Engine, data_dir: Path) -> None:
    folder = data_dir / "report-photos"
    folder.mkdir(parents=True)
    stale = folder / ("a" * 64 + ".jpg")
    fresh = folder / ("b" * 64 + ".jpg")
    leftover = folder / ("c" * 64 + ".part")
    for path in (stale, fresh, leftover):
        path.write_bytes(b"photo bytes")
    day_ago = time.time() - 25 * 3600
    os.utime(stale, (day_ago, day_ago))
    os.utime(leftover, (day_ago, day_ago))
    with use_clock(FakeClock(START)):
        with session_scope(db_engine) as db:
            w = build_world(db)  # its tip's photo is referenced: it stays
        used = {p.name for p in folder.iterdir()} - {stale.name, fresh.name, leftover.name}
        for name in used:
            os.utime(folder / name, (day_ago, day_ago))
        result = purge_due(db_engine, days=30)
    assert result.cases == [] and result.photos_deleted == 2
    assert not stale.exists() and not leftover.exists()
    assert fresh.exists()  # may belong to a tip being stored right now
    assert all((folder / name).exists() for name in used)
    with session_scope(db_engine) as db:
        assert (
            db.scalars(select(Report.photo_path).where(Report.id == w.report_ids[0])).one()
            is not None
        )
