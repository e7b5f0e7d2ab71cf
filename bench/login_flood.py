"""Failed logins against the database pool: 100 concurrent wrong-password sign-ins on a real
`bolo serve` while a signed-in API client keeps reading /api/v1/me.

    .venv/bin/python bench/login_flood.py [--flood 100] [--json]

Prints the reader's p99 (nearest rank: one stall counts) during the flood beside its p99 with no
flood in the same run (the baseline), their ratio, and the flood's answers by status. The goal:
p99 during the flood under 1 s and no 5xx. Quote the machine's load beside the figures:
two cores shared with anything else make the p99 move.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.security.live_server import bolo, environment, serving  # noqa: E402


def p99(times: list[float]) -> float:
    """The nearest-rank 99th percentile of ``times`` (seconds)."""
    return sorted(times)[math.ceil(0.99 * len(times)) - 1]


async def _reader(base: str, token: str, done: asyncio.Event, least: int) -> list[float]:
    times: list[float] = []
    async with httpx.AsyncClient(
        base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        while not done.is_set() or len(times) < least:
            start = time.perf_counter()
            answer = await client.get("/api/v1/me")
            answer.raise_for_status()
            times.append(time.perf_counter() - start)
    return times


async def _flood(base: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/login",
                    data={"username": "ana", "password": f"guess number {i}"},
                    headers={"Accept": "text/html"},
                )
                for i in range(count)
            )
        )
    return [a.status_code for a in answers]


async def _measure(base: str, token: str, flood: int) -> dict[str, object]:
    done = asyncio.Event()
    done.set()
    quiet = await _reader(base, token, done, 50)
    done = asyncio.Event()
    reader = asyncio.create_task(_reader(base, token, done, 50))
    await asyncio.sleep(0.2)
    statuses = await _flood(base, flood)
    done.set()
    loaded = await reader
    return {
        "flood": flood,
        "me_p99_s": round(p99(loaded), 4),
        "baseline_me_p99_s": round(p99(quiet), 4),
        "ratio": round(p99(loaded) / p99(quiet), 2),
        "me_requests": len(loaded),
        "flood_statuses": dict(sorted(Counter(statuses).items())),
        "server_errors": sum(1 for s in statuses if s >= 500),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    """Run the measurement once and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = environment(Path(folder) / "data")
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
        if made.returncode != 0:
            sys.exit(made.stderr)
        token = json.loads(made.stdout)["token"]
        with serving(env) as base:
            figures = asyncio.run(_measure(base, token, args.flood))
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"/api/v1/me p99 during {args.flood} failed logins: {figures['me_p99_s']} s "
        f"(no flood: {figures['baseline_me_p99_s']} s, ratio {figures['ratio']}); flood "
        f"answers {figures['flood_statuses']}; load {figures['load_average']:.2f}"
    )


if __name__ == "__main__":
    main()
