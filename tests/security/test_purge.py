"""Retention purge on a fake clock: close -> advance -> purge -> no row or file keeps the case's
personal data, counts remain, and the audit chain still verifies (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from bolo.audit.model import AuditEntry
from bolo.cases.model import Case, CaseState
from bolo.cli import app as bolo_app
from bolo.clock import FakeClock, use_clock
from bolo.ops.retention import purge_due
from bolo.security.cli import app as security_app
from bolo.store.db import session_scope
from tests.security.factories import PERSONAL, World, build_world, end_case

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _all_cells(engine: Engine) -> list[tuple[str, str, str]]:
    """Every non-null cell of every table as (table, column, text)."""
    found = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            result = conn.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                found += [
                    (table, c, str(v)) for c, v in zip(columns, row, strict=True) if v is not None
                ]
    return found


def _leaks(engine: Engine, data_dir: Path) -> list[str]:
    leaks = [
        f"{t}.{c}: {v[:80]!r}"
        for t, c, v in _all_cells(engine)
        if any(word in v for word in PERSONAL)
    ]
    for path in data_dir.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            leaks += [f"file {path.name}: {w!r}" for w in PERSONAL if w.encode() in raw]
    return leaks


def _close(engine: Engine, w: World, clock: FakeClock) -> None:
    with session_scope(engine) as db:
        end_case(db, w, clock)


def test_purge_after_retention(db_engine: Engine, data_dir: Path) -> None:
    clock = FakeClock(START)
    with use_clock(clock):
        with session_scope(db_engine) as db:
            w = build_world(db)
        photos = list((data_dir / "report-photos").glob("*"))
        assert len(photos) == 1
        assert _leaks(db_engine, data_dir), "the world must hold personal data to begin with"
        _close(db_engine, w, clock)

        clock.advance(days=29, hours=23)
        assert purge_due(db_engine, days=30).cases == []
        clock.advance(hours=2)
        report = purge_due(db_engine, days=30)

    assert report.cases == [w.case_id]
    assert report.reports == 2 and report.photos_deleted == 1
    assert not photos[0].exists()
    assert _leaks(db_engine, data_dir) == []
    with session_scope(db_engine) as db:
        case = db.get(Case, w.case_id)
        assert case is not None and case.state == CaseState.PURGED
        assert len(case.children) == 1 and len(case.suspects) == 2  # counts remain
        actions = list(db.execute(select(AuditEntry.action)).scalars())
        assert actions.count("case.purged") == 1 and "report.purged" in actions
    result = CliRunner().invoke(bolo_app, ["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_purge_is_idempotent_and_skips_open_cases(db_engine: Engine, data_dir: Path) -> None:
    clock = FakeClock(START)
    with use_clock(clock):
        with session_scope(db_engine) as db:
            w = build_world(db, with_reports=False)
        clock.advance(days=400)
        assert purge_due(db_engine, days=1).cases == []  # open: never purged
        _close(db_engine, w, clock)
        clock.advance(days=2)
        assert purge_due(db_engine, days=1).cases == [w.case_id]
        assert purge_due(db_engine, days=1).cases == []


def test_purge_cli(db_engine: Engine, data_dir: Path) -> None:
    clock = FakeClock(START)
    with use_clock(clock):
        with session_scope(db_engine) as db:
            w = build_world(db, with_reports=False)
        _close(db_engine, w, clock)
        clock.advance(days=8)
        result = CliRunner().invoke(security_app, ["purge-due", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert "purged 1 case(s)" in result.output and w.case_id in result.output
    # The children's photos live with the case; the file count is of tips' photos alone.
    assert "(their children's photos with them)" in result.output
    assert "0 report photo file(s)" in result.output
    bad = CliRunner().invoke(security_app, ["purge-due", "--days", "-1"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
