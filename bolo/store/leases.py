"""Leases: at most one process at a time does a named job against a database.

A lease is a row (``leases``): the job's name, who holds it and until when. A process takes it
when nobody holds it or the holder let it expire, and renews it inside the transaction that
writes its work, so a holder that stalled past its lease and lost it commits nothing. Plain
rows and conditional updates: the same on SQLite and PostgreSQL, across processes and machines.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, String, delete, or_, update
from sqlalchemy.orm import Mapped, mapped_column

from bolo import clock
from bolo.store.db import Base, insert_or_ignore
from bolo.store.types import UtcDateTime


class Lease(Base):
    """Who does the job ``name``, until ``expires_at``."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


def holder_name() -> str:
    """A name for this process as a lease holder: host, process id and a random part (a
    restarted process with a reused id is another holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def hold(conn: Connection, *, name: str, holder: str, ttl_s: float) -> bool:
    """Take or renew the lease ``name`` for ``holder`` for ``ttl_s`` seconds, in ``conn``'s
    transaction (it takes effect when that commits). True when ``holder`` holds it now;
    False while another holder's lease runs."""
    moment = clock.now()
    until = moment + timedelta(seconds=ttl_s)
    conn.execute(
        insert_or_ignore(conn, Lease, ["name"]).values(name=name, holder=holder, expires_at=until)
    )
    # Concurrent takers serialise on the row: the second sees the first's holder and time.
    taken = conn.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < moment))
        .values(holder=holder, expires_at=until)
    )
    return taken.rowcount == 1


def take(engine: Engine, *, name: str, holder: str, ttl_s: float) -> bool:
    """``hold`` in a transaction of its own."""
    with engine.begin() as conn:
        return hold(conn, name=name, holder=holder, ttl_s=ttl_s)


def release(engine: Engine, *, name: str, holder: str) -> None:
    """Give the lease up at once (when ``holder`` holds it), so another process need not wait
    for it to expire."""
    with engine.begin() as conn:
        conn.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
