"""The audit chain names the first bad entry for each kind of tampering."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, select, update

from bolo.audit.model import AuditEntry
from bolo.audit.service import record, verify
from bolo.store.db import session_scope


def _chain(engine: Engine, n: int = 6) -> None:
    with session_scope(engine) as db:
        for i in range(n):
            record(
                db,
                actor_id="u1",
                action="test.step",
                entity="case",
                entity_id=f"c{i}",
                data={"i": i},
            )


def _verdict(engine: Engine) -> tuple[bool, int | None]:
    with session_scope(engine) as db:
        report = verify(db)
    return report.ok, report.first_bad


def test_an_untouched_chain_verifies(db_engine: Engine) -> None:
    _chain(db_engine)
    assert _verdict(db_engine) == (True, None)


def test_a_modified_entry_is_named(db_engine: Engine) -> None:
    _chain(db_engine)
    with session_scope(db_engine) as db:
        db.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(data='{"i":99}'))
    assert _verdict(db_engine) == (False, 2)


def test_a_deleted_entry_is_found_where_it_was(db_engine: Engine) -> None:
    _chain(db_engine)
    with session_scope(db_engine) as db:
        db.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    assert _verdict(db_engine) == (False, 3)


def test_a_deleted_last_entry_is_found(db_engine: Engine) -> None:
    _chain(db_engine)
    with session_scope(db_engine) as db:
        db.execute(delete(AuditEntry).where(AuditEntry.seq == 6))
    assert _verdict(db_engine) == (False, 5)


def test_reordered_entries_are_named(db_engine: Engine) -> None:
    _chain(db_engine)
    with session_scope(db_engine) as db:
        rows = {r.seq: r for r in db.execute(select(AuditEntry)).scalars()}
        a, b = rows[2], rows[3]
        fields = (
            "at",
            "actor_id",
            "action",
            "entity",
            "entity_id",
            "data",
            "prev_hash",
            "entry_hash",
        )
        saved = {f: getattr(a, f) for f in fields}
        for f in fields:
            setattr(a, f, getattr(b, f))
        for f in fields:
            setattr(b, f, saved[f])
    assert _verdict(db_engine) == (False, 1)


@pytest.mark.parametrize("position", [1, 3])
def test_an_inserted_entry_is_named(db_engine: Engine, position: int) -> None:
    _chain(db_engine)
    with session_scope(db_engine) as db:
        # Shift entries up to make room, then forge an entry with a self-consistent hash.
        for seq in range(6, position, -1):
            db.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
        from bolo.audit.chain import entry_hash
        from bolo.clock import now

        at = now().replace(microsecond=0)
        forged = entry_hash(
            seq=position + 1,
            at=at,
            actor_id="x",
            action="forged",
            entity="case",
            entity_id="c",
            data="{}",
            prev_hash="f" * 64,
        )
        db.add(
            AuditEntry(
                seq=position + 1,
                at=at,
                actor_id="x",
                action="forged",
                entity="case",
                entity_id="c",
                data="{}",
                prev_hash="f" * 64,
                entry_hash=forged,
            )
        )
    assert _verdict(db_engine) == (False, position)
