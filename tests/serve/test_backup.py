"""`bolo db backup` / `bolo db restore` on SQLite and PostgreSQL: a restore brings back
exactly the rows backed up (same counts in every table), the audit chain verifies, and a file
that is not a backup is refused without touching the database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from bolo.cli import app as bolo_app
from bolo.ops.backup import table_counts
from bolo.store.db import session_scope
from tests.security.factories import build_world

runner = CliRunner()


def _bolo(*args: str) -> dict[str, object]:
    result = runner.invoke(bolo_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_backup_then_restore_gives_back_the_same_rows(db_engine: Engine, tmp_path: Path) -> None:
    with session_scope(db_engine) as db:
        w = build_world(db)
    before = table_counts(db_engine)
    assert before["cases"] == 1 and before["audit_log"] > 5
    made = _bolo("db", "backup", str(tmp_path / "bolo.backup"))
    assert made["rows"] == before
    with session_scope(db_engine) as db:  # work done after the backup is lost by a restore
        db.execute(text("DELETE FROM reports"))
        db.execute(text("UPDATE cases SET narrative = 'changed' WHERE id = :i"), {"i": w.case_id})
    assert table_counts(db_engine) != before
    restored = _bolo("db", "restore", str(tmp_path / "bolo.backup"), "--yes")
    assert restored["rows"] == before == table_counts(db_engine)
    with db_engine.connect() as conn:
        narrative = conn.execute(text("SELECT narrative FROM cases")).scalar_one()
    assert narrative != "changed"
    assert _bolo("audit", "verify")["ok"] is True


def test_restore_refuses_what_is_not_a_backup(db_engine: Engine, tmp_path: Path) -> None:
    with session_scope(db_engine) as db:
        build_world(db, with_reports=False)
    before = table_counts(db_engine)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all" * 100)
    for args in (
        ["db", "restore", str(junk), "--yes"],
        ["db", "restore", str(tmp_path / "missing"), "--yes"],
        ["db", "restore", str(junk)],
    ):
        result = runner.invoke(bolo_app, args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "--yes" in runner.invoke(bolo_app, ["db", "restore", str(junk)]).output
    assert table_counts(db_engine) == before
