"""Readiness: can this installation do its work now? The database answers, its migrations
are at this code's heads, the broker answers (when one is configured), a dispatcher is
alive (a fresh heartbeat: the one in this process, or `bolo dispatcher` / `bolo relay`
processes elsewhere) and a triage worker clusters new reports (it holds the clustering lease,
and this server's own worker process, when it runs one, is not dead). Liveness (/healthz)
asks none of this."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bolo import clock

if TYPE_CHECKING:
    from bolo.reports.worker import WorkerProcess

CHECK_TIMEOUT_S = 3.0  # each check; a slower answer counts as a failure


@dataclass(frozen=True)
class Check:
    """One readiness check: passed or not, and what was found (no secrets)."""

    name: str
    ok: bool
    detail: str


def _database(engine: Engine) -> Check:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return Check("database", True, engine.dialect.name)


def _migrations(engine: Engine) -> Check:
    from bolo.store.db import current_revisions, head_revisions

    current, heads = current_revisions(engine), head_revisions()
    if current == heads:
        return Check("migrations", True, "at head")
    return Check(
        "migrations",
        False,
        f"database at {sorted(current) or 'nothing'}, code at "
        f"{sorted(heads)}: run `bolo db upgrade`",
    )


def _dispatcher(engine: Engine, broker_url: str) -> Check:
    from bolo.dispatch.runner.liveness import alive_roles, roles_needed

    with Session(engine) as session:
        alive = alive_roles(session)
    missing = [role.value for role in roles_needed(broker_url) if not alive.get(role.value)]
    if missing:
        return Check(
            "dispatcher",
            False,
            f"no live {' or '.join(missing)} (no heartbeat in "
            "the last 30 s): run `bolo serve` without --no-dispatcher, or "
            + ("`bolo relay` and `bolo dispatcher`" if broker_url else "`bolo dispatcher`"),
        )
    return Check("dispatcher", True, ", ".join(f"{n} {r}" for r, n in sorted(alive.items())))


def triage_lease(session: Session) -> tuple[str, datetime] | None:
    """Who holds the triage clustering lease and until when (None: nobody took it, or the
    last holder gave it up). A lease past its time means its worker stopped renewing it."""
    from bolo.reports.worker import LEASE
    from bolo.store.leases import Lease

    row = session.execute(select(Lease.holder, Lease.expires_at).where(Lease.name == LEASE)).first()
    return None if row is None else (row.holder, row.expires_at)


def _ended(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exited with code {code}"


def _triage(engine: Engine, worker: WorkerProcess | None) -> Check:
    code = worker.exit_code() if worker is not None else None
    if code is not None:
        return Check(
            "triage",
            False,
            f"this server's triage worker process {_ended(code)}; the server restarts it "
            "(its log says why it ended)",
        )
    with Session(engine) as session:
        lease = triage_lease(session)
    advice = "new reports are not clustered: run `bolo serve` or `bolo report cluster --follow`"
    if lease is None:
        return Check("triage", False, f"no triage worker holds the clustering lease; {advice}")
    holder, until = lease
    late = (clock.now() - until).total_seconds()
    if late > 0:
        return Check(
            "triage",
            False,
            f"the triage worker {holder} stopped renewing the clustering lease "
            f"({late:.0f} s past its expiry); {advice}",
        )
    return Check("triage", True, f"clustering lease held by {holder}")


async def _broker(url: str) -> Check:
    import nats

    nc = await nats.connect(
        url, connect_timeout=CHECK_TIMEOUT_S, allow_reconnect=False, max_reconnect_attempts=0
    )
    try:
        await nc.jetstream().account_info()
    finally:
        await nc.close()
    return Check("broker", True, "NATS JetStream")


async def _guarded(name: str, check: Awaitable[Check]) -> Check:
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT_S)
    except TimeoutError:
        return Check(name, False, f"no answer within {CHECK_TIMEOUT_S:.0f} s")
    except Exception as exc:  # any failure of a dependency is "not ready", with its kind
        return Check(name, False, f"{type(exc).__name__}: {str(exc)[:200]}")


async def readiness(
    engine: Engine, broker_url: str, triage: WorkerProcess | None = None
) -> list[Check]:
    """Every check, run concurrently; the database ones in threads. Ready when all pass.
    ``triage``: the triage worker process this server runs (None: it runs none)."""

    def threaded(name: str, fn: Callable[[], Check]) -> Awaitable[Check]:
        return _guarded(name, asyncio.to_thread(fn))

    checks = [
        threaded("database", lambda: _database(engine)),
        threaded("migrations", lambda: _migrations(engine)),
        threaded("dispatcher", lambda: _dispatcher(engine, broker_url)),
        threaded("triage", lambda: _triage(engine, triage)),
    ]
    if broker_url:
        checks.append(_guarded("broker", _broker(broker_url)))
    return list(await asyncio.gather(*checks))
