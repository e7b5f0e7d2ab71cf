"""Readiness: can this installation do its work now? The database answers, its migrations
are at this code's heads, the broker answers (when one is configured) and a dispatcher is
alive (a fresh heartbeat: the one in this process, or `bolo dispatcher` / `bolo relay`
processes elsewhere). Liveness (/healthz) asks none of this."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

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


async def readiness(engine: Engine, broker_url: str) -> list[Check]:
    """Every check, run concurrently; the database ones in threads. Ready when all pass."""

    def threaded(name: str, fn: Callable[[], Check]) -> Awaitable[Check]:
        return _guarded(name, asyncio.to_thread(fn))

    checks = [
        threaded("database", lambda: _database(engine)),
        threaded("migrations", lambda: _migrations(engine)),
        threaded("dispatcher", lambda: _dispatcher(engine, broker_url)),
    ]
    if broker_url:
        checks.append(_guarded("broker", _broker(broker_url)))
    return list(await asyncio.gather(*checks))
