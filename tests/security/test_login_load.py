"""Failed logins cannot starve the database: 100 concurrent wrong-password sign-ins against a
real `bolo serve` while a signed-in API client keeps reading /api/v1/me.

The p99 figure (goal: under 1 s) is measured by `bench/login_flood.py` beside its baseline; this
test checks what must hold on any machine: no 5xx, every read answered, and no stall of the
pool's length (the old code held every read ~30 s, the pool's wait, and answered 500)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx

from tests.security.live_server import bolo, environment, serving

FLOOD = 100
# Far above any p99 seen here under load (1.3 s), far below the pool stall (30 s).
STALL_S = 10.0


async def _flood(base: str) -> list[int]:
    limits = httpx.Limits(max_connections=FLOOD + 10, max_keepalive_connections=FLOOD + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/login",
                    data={"username": "ana", "password": f"guess number {i}"},
                    headers={"Accept": "text/html"},
                )
                for i in range(FLOOD)
            )
        )
    return [a.status_code for a in answers]


async def _reader(base: str, token: str, done: asyncio.Event) -> tuple[list[float], list[int]]:
    times: list[float] = []
    codes: list[int] = []
    async with httpx.AsyncClient(
        base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        while not done.is_set() or len(times) < 50:
            start = time.perf_counter()
            answer = await client.get("/api/v1/me")
            times.append(time.perf_counter() - start)
            codes.append(answer.status_code)
    return times, codes


async def _load(base: str, token: str) -> tuple[list[int], list[float], list[int]]:
    done = asyncio.Event()
    reader = asyncio.create_task(_reader(base, token, done))
    await asyncio.sleep(0.2)
    flood = await _flood(base)
    done.set()
    times, codes = await reader
    return flood, times, codes


def test_failed_login_flood_leaves_the_api_responsive(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    made = bolo(
        env,
        "user",
        "add",
        "ana",
        "coordinator",
        "--password-stdin",
        "--token",
        "--json",
        stdin="a long enough pass phrase",
    )
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    with serving(env) as base:
        flood, times, codes = asyncio.run(_load(base, token))
    assert all(code < 500 for code in flood), sorted(set(flood))
    assert set(flood) <= {401, 429}
    assert set(codes) == {200}
    assert max(times) < STALL_S, f"/api/v1/me stalled {max(times):.1f} s during the flood"
