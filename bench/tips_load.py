"""Load generators of bench/tips_bench.py: wrk with tips_wrk.lua (default), or an asyncio client.

Both keep one request in flight per keep-alive connection (closed loop), send distinct valid tips
from distinct client addresses, and count answers by status. wrk is a C program: on a 2-core
machine it leaves the server most of a core, where the asyncio client (Python) used about as much
CPU as the server it measured.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

LUA = Path(__file__).with_name("tips_wrk.lua")
TIP_PATH = "/api/v1/public/tips"
# wrk runs this much longer than the tips are sent, so every tip sent is answered and counted.
GRACE_S = 2.0


@dataclass
class Phase:
    """Counts and latencies (seconds) of one load phase."""

    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    retry_after_ok: bool = True
    server_cpu: float = 0.0
    p99_s: float | None = None  # from wrk's histogram, when wrk measured the phase

    def cpu_ms(self) -> float:
        """Server CPU milliseconds per answered request in this phase."""
        answered = self.count(0, 1000)
        return 1000.0 * self.server_cpu / answered if answered else 0.0

    def count(self, low: int, high: int) -> int:
        """Responses with a status in [low, high)."""
        return sum(n for s, n in self.statuses.items() if low <= s < high)

    def p99_ms(self) -> float:
        """99th-percentile latency in milliseconds."""
        if self.p99_s is not None:
            return 1000.0 * self.p99_s
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000.0 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def seen_at() -> str:
    """The sighting time every bench tip gives: 20 minutes ago, with its zone."""
    return (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0).isoformat()


def have_wrk() -> bool:
    """True when the wrk program is on PATH (``make bench-tools`` installs it)."""
    return shutil.which("wrk") is not None


def wrk_phase(
    port: int,
    *,
    mode: str,
    seconds: float,
    connections: int,
    first: int,
    case_id: str = "-",
    seen: str = "-",
) -> Phase:
    """Drive ``mode`` ('tips' or 'bare') with wrk for ``seconds``; every request sent in that
    time is answered and counted (see tips_wrk.lua for how)."""
    duration = math.ceil(seconds + GRACE_S)
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        f"{duration}s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        mode,
        f"{seconds:.3f}",
        str(first),
        case_id,
        seen,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [x for x in done.stdout.splitlines() if x.startswith("TIPS_JSON ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    data = json.loads(lines[-1].removeprefix("TIPS_JSON "))
    if data["socket_errors"]:
        raise SystemExit(f"wrk saw {data['socket_errors']} socket errors: {lines[-1]}")
    return Phase(
        statuses={int(k): int(v) for k, v in data["statuses"].items()},
        elapsed=seconds,
        retry_after_ok=data["retry_after_bad"] == 0,
        p99_s=data["p99_us"] / 1e6,
    )


def request_bytes(path: str, body: bytes, client_ip: str) -> bytes:
    """One HTTP/1.1 keep-alive POST with a JSON body, as from ``client_ip`` via the proxy."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Forwarded-For: {client_ip}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, dict[str, str]]:
    """Send one request and read its answer: (status, lower-cased headers)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


class TipMaker:
    """Distinct, valid tips for the asyncio client: varied text and places, each from a new
    client address (the same places as tips_wrk.lua)."""

    PLACES: ClassVar[list[str]] = [
        "Kilju",
        "Gilju",
        "Kilchu",
        "Hamhung",
        "Hamheung",
        "Songch'on",
        "Seongcheon",
        "Tanchon",
        "Kimchaek",
        "길주",
        "Hyesan",
        "Chongjin",
        "40.9642, 129.3278",
    ]

    def __init__(self, case_id: str, first: int = 0) -> None:
        self.case_id = case_id
        self.n = first
        self.seen = seen_at()

    def next(self) -> bytes:
        """The next request: a fresh tip from a fresh address."""
        self.n += 1
        n = self.n
        body = json.dumps(
            {
                "case_id": self.case_id,
                "seen_at": self.seen,
                "what": f"couple with a small boy in a grey truck, heading north (tip {n})",
                "place": self.PLACES[n % len(self.PLACES)],
            }
        ).encode()
        return request_bytes(TIP_PATH, body, f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}")


async def asyncio_phase(
    port: int, make: Callable[[], bytes], seconds: float, connections: int
) -> Phase:
    """Drive the server with ``connections`` asyncio clients for ``seconds``; each stops
    issuing at the deadline and waits for its last answer."""
    phase = Phase()
    deadline = time.perf_counter() + seconds

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                request = make()
                start = time.perf_counter()
                status, headers = await exchange(reader, writer, request)
                phase.latencies.append(time.perf_counter() - start)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                if status == 429 and not headers.get("retry-after", "").isdigit():
                    phase.retry_after_ok = False
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    phase.elapsed = time.perf_counter() - start
    return phase
