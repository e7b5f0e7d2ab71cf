"""What happens, in the same transaction, when a version is issued: the outbox rows are written."""

from __future__ import annotations

from sqlalchemy.orm import Session


def on_version_issued(session: Session, *, version_id: str) -> None:
    """Write the deliveries of an issued version (the dispatcher's outbox) in this transaction."""
    from bolo.dispatch.outbox import enqueue_version

    enqueue_version(session, version_id=version_id)
