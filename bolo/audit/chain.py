"""Pure hash-chain arithmetic for the audit log: canonical content, entry hashes, verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainEntry:
    """What the chain covers of one audit entry."""

    seq: int
    at: datetime
    actor_id: str | None
    action: str
    entity: str
    entity_id: str
    data: str
    prev_hash: str
    entry_hash: str


def canonical_data(data: Mapping[str, Any]) -> str:
    """The canonical JSON text of an entry's data (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: str,
    data: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the previous hash and the canonical content of the entry."""
    content = json.dumps(
        [seq, at.astimezone(UTC).isoformat(), actor_id, action, entity, entity_id, data, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The verdict of a verification: ``first_bad`` is the 0-based index of the first bad entry."""

    entries: int
    first_bad: int | None
    reason: str

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return self.first_bad is None


def verify_chain(entries: Iterable[ChainEntry], *, head_seq: int | None = None) -> ChainReport:
    """Walk the entries in storage order and name the first that breaks the chain.

    Detects a modified entry (its hash no longer matches its content), a deleted one (a gap in
    ``seq`` or a broken link), a reordered or inserted one (a broken link), and a truncated tail
    (``head_seq`` beyond the last entry).
    """
    previous_hash = GENESIS
    expected_seq = 1
    count = 0
    for index, entry in enumerate(entries):
        count = index + 1
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            data=entry.data,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.entry_hash:
            reason = f"entry seq={entry.seq}: content does not match its hash"
            return ChainReport(count, index, reason)
        if entry.prev_hash != previous_hash:
            return ChainReport(
                count, index, f"entry seq={entry.seq}: does not link to the entry before it"
            )
        if entry.seq != expected_seq:
            return ChainReport(
                count, index, f"entry seq={entry.seq}: expected seq={expected_seq} (gap or reorder)"
            )
        previous_hash = entry.entry_hash
        expected_seq += 1
    if head_seq is not None and head_seq != count:
        return ChainReport(count, count, f"chain ends at seq={count}, head says seq={head_seq}")
    return ChainReport(count, None, "ok")
