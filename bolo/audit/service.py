"""Appending to and verifying the audit log, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from bolo.audit.chain import (
    GENESIS,
    ChainEntry,
    ChainReport,
    canonical_data,
    entry_hash,
    verify_chain,
)
from bolo.audit.model import AuditEntry, AuditHead
from bolo.clock import now

HEAD_ID = 1
_ENTRIES = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)


def record(
    session: Session,
    *,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: str,
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain in the caller's transaction (ids only, never names);
    returns it as an ORM object (``append`` is the same without one)."""
    session.flush()  # the chain head must be read after this session's earlier writes
    seq, _digest = append(
        session, actor_id=actor_id, action=action, entity=entity, entity_id=entity_id, data=data
    )
    return session.execute(select(AuditEntry).where(AuditEntry.seq == seq)).scalar_one()


def append(
    db: Session | Connection,
    *,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: str,
    data: Mapping[str, Any] | None = None,
) -> tuple[int, str]:
    """Append one entry to the chain in the caller's transaction, as ``record`` does (same
    row, same hash), through Core statements without ORM objects; returns (seq, entry_hash).

    For hot paths (the tip writer appends once per batch): building the ORM entry costs
    several times the hashing and the three statements. A head loaded as an ORM object in
    this session is expired here, so it is never read stale.
    """
    head = db.execute(
        select(_HEAD.c.seq, _HEAD.c.entry_hash).where(_HEAD.c.id == HEAD_ID).with_for_update()
    ).first()
    if head is None:
        db.execute(insert(_HEAD), {"id": HEAD_ID, "seq": 0, "entry_hash": GENESIS})
        prev_seq, prev_hash = 0, GENESIS
    else:
        prev_seq, prev_hash = int(head[0]), str(head[1])
    at = now().astimezone(UTC).replace(microsecond=0)
    text = canonical_data(data or {})
    seq = prev_seq + 1
    digest = entry_hash(
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        data=text,
        prev_hash=prev_hash,
    )
    db.execute(
        insert(_ENTRIES),
        {
            "seq": seq,
            "at": at,
            "actor_id": actor_id,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "data": text,
            "prev_hash": prev_hash,
            "entry_hash": digest,
        },
    )
    db.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=seq, entry_hash=digest))
    if isinstance(db, Session):
        # A head ``record`` loaded earlier in this session is now stale: reload it next time.
        loaded = db.identity_map.get(identity_key(AuditHead, HEAD_ID))
        if loaded is not None:
            db.expire(loaded)
    return seq, digest


def verify(session: Session) -> ChainReport:
    """Verify the whole chain as stored, in storage (seq) order, against the head row."""
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    entries = (
        ChainEntry(
            seq=r.seq,
            at=r.at,
            actor_id=r.actor_id,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            data=r.data,
            prev_hash=r.prev_hash,
            entry_hash=r.entry_hash,
        )
        for r in rows
    )
    head = session.get(AuditHead, HEAD_ID)
    return verify_chain(entries, head_seq=head.seq if head else None)


def entries_for(session: Session, *, entity: str, entity_id: str) -> list[AuditEntry]:
    """Every entry about one entity, oldest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.seq)
    )
    return list(session.execute(stmt).scalars())
