"""Parcels: how outbox rows travel through JetStream, several to a message.

One JetStream message per outbox row costs the broker a stored message, a delivery and an ack
per post, and the relay and workers a publish, a parse and an ack each; at 10,000 posts that
was a third of the fan-out's CPU. A parcel carries up to ``rows_per_message`` rows (delivery
id, attempt number). Its ``Nats-Msg-Id`` is derived from the ids of its rows (each row's id
already encodes the database state: delivery, attempt, when it was queued), so a relay that
dies between publishing and committing republishes the same parcel and JetStream drops it.

Pure: no broker, no database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple


class PickedRow(NamedTuple):
    """One due row picked for publication: which delivery, which attempt, and the row's
    publication id (``bolo.dispatch.nats.relay.msg_id``)."""

    delivery_id: str
    attempt: int
    msg_id: str


@dataclass(frozen=True)
class Parcel:
    """One JetStream message: its body and its de-duplication id."""

    msg_id: str
    body: bytes
    rows: tuple[PickedRow, ...]


def parcel_of(rows: Sequence[PickedRow]) -> Parcel:
    """The parcel carrying ``rows``; the same rows in the same order give the same msg_id."""
    digest = hashlib.sha256("\n".join(row.msg_id for row in rows).encode()).hexdigest()
    pairs = [[row.delivery_id, row.attempt] for row in rows]
    body = json.dumps({"rows": pairs}, separators=(",", ":")).encode()
    return Parcel(msg_id=f"parcel:{digest[:40]}", body=body, rows=tuple(rows))


def parcels(rows: Sequence[PickedRow], *, rows_per_message: int) -> Iterator[Parcel]:
    """``rows`` cut into parcels of at most ``rows_per_message`` rows, in order."""
    if rows_per_message < 1:
        raise ValueError("rows_per_message must be >= 1")
    for start in range(0, len(rows), rows_per_message):
        yield parcel_of(rows[start : start + rows_per_message])


def rows_of(body: bytes) -> list[tuple[str, int]]:
    """The (delivery id, attempt number) pairs of one message; ValueError when the body is
    not a parcel or a one-row message."""
    try:
        data = json.loads(body)
        pairs = data["rows"] if "rows" in data else [[data["id"], data["attempt"]]]
        return [(str(delivery_id), int(attempt)) for delivery_id, attempt in pairs]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a dispatch message: {exc!r}") from exc
