"""Appending to and verifying the audit log, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def record(
    session: Session,
    *,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: str,
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain in the caller's transaction (ids only, never names)."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, entry_hash=GENESIS)
        session.add(head)
    at = now().astimezone(UTC).replace(microsecond=0)
    text = canonical_data(data or {})
    seq = head.seq + 1
    digest = entry_hash(
        seq=seq, at=at, actor_id=actor_id, action=action, entity=entity,
        entity_id=entity_id, data=text, prev_hash=head.entry_hash,
    )
    entry = AuditEntry(
        seq=seq, at=at, actor_id=actor_id, action=action, entity=entity, entity_id=entity_id,
        data=text, prev_hash=head.entry_hash, entry_hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.entry_hash = digest
    session.flush()
    return entry


def verify(session: Session) -> ChainReport:
    """Verify the whole chain as stored, in storage (seq) order, against the head row."""
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    entries = (
        ChainEntry(
            seq=r.seq, at=r.at, actor_id=r.actor_id, action=r.action, entity=r.entity,
            entity_id=r.entity_id, data=r.data, prev_hash=r.prev_hash, entry_hash=r.entry_hash,
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
