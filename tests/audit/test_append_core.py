"""The Core ``append`` writes the same entries as ``record``: same rows, same hash chain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

from sqlalchemy import Engine, select

from bolo.audit.model import AuditEntry, AuditHead
from bolo.audit.service import HEAD_ID, append, record, verify
from bolo.store.db import engine_for, session_scope, upgrade_database

_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "action",
    "entity",
    "entity_id",
    "data",
    "prev_hash",
    "entry_hash",
)
_AT = datetime(2026, 4, 1, 5, 6, 7, 891_000, tzinfo=UTC)
_STEPS = [
    ("u1", "case.opened", "case", "c1", {"b": 2, "a": "Kilju 길주"}),
    (None, "report.received", "report", "r1", {"ids": ["r1", "r2"], "kinds": ["tip"]}),
    ("u2", "report.triaged", "report", "r2", None),
]


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with session_scope(engine) as db:
        entries = db.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
        rows = [tuple(getattr(e, f) for f in _FIELDS) for e in entries]
        head = db.get(AuditHead, HEAD_ID)
        assert head is not None
        rows.append((head.seq, head.entry_hash))
        return rows


def _write(engine: Engine, core: bool) -> None:
    write = append if core else record
    with patch("bolo.audit.service.now", return_value=_AT):
        for actor, action, entity, entity_id, data in _STEPS:
            with session_scope(engine) as db:  # one transaction each, as the callers do
                write(
                    db, actor_id=actor, action=action, entity=entity, entity_id=entity_id, data=data
                )


def test_append_chains_exactly_as_record(db_engine: Engine, tmp_path: Path) -> None:
    _write(db_engine, core=False)
    other = engine_for(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        upgrade_database(other)
        _write(other, core=True)
        assert _rows(other) == _rows(db_engine)
        with session_scope(other) as db:
            assert verify(db).ok
    finally:
        other.dispose()


def test_append_over_a_connection_and_mixed_with_record_in_one_session(db_engine: Engine) -> None:
    with db_engine.begin() as conn:
        assert append(conn, actor_id=None, action="a", entity="e", entity_id="1")[0] == 1
    with session_scope(db_engine) as db:
        record(db, actor_id="u", action="b", entity="e", entity_id="2")
        seq, digest = append(db, actor_id=None, action="c", entity="e", entity_id="3")
        record(db, actor_id="u", action="d", entity="e", entity_id="4")
    assert seq == 3
    with session_scope(db_engine) as db:
        report = verify(db)
        assert (report.ok, report.entries) == (True, 4)
        assert db.get(AuditHead, HEAD_ID) is not None
        assert (
            db.execute(select(AuditEntry.entry_hash).where(AuditEntry.seq == 3)).scalar_one()
            == digest
        )
