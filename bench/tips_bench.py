"""Public tip intake under a surge, beside a bare FastAPI endpoint in the same server and run.

    .venv/bin/python bench/tips_bench.py [--seconds 10] [--connections 32] [--json]

Starts bolo's app (with the reports routers and one bare endpoint) in a uvicorn subprocess on
loopback over a fresh SQLite file, then drives it with an asyncio HTTP/1.1 keep-alive client:
1. bare: ``POST /bench/bare`` (returns a constant) for S/2 seconds: ``bare_per_s``;
2. surge: ``POST /api/v1/public/tips`` for S seconds, each tip distinct and from its own client
   address (X-Forwarded-For from a trusted loopback proxy: thousands of people answering a public
   alert); above the overall limit the server answers 429;
3. one client: a single address sends 40 tips at once: its bucket lets ``burst`` through, the
   rest get 429 with Retry-After.
Each phase stops issuing at its deadline and waits for every answer, so ``responses_2xx`` can be
compared exactly with ``stored`` (rows in the database afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


@dataclass
class Phase:
    """Counts and latencies (seconds) of one load phase."""

    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    retry_after_ok: bool = True
    server_cpu: float = 0.0

    def cpu_ms(self) -> float:
        """Server CPU milliseconds per answered request in this phase."""
        answered = self.count(0, 1000)
        return 1000.0 * self.server_cpu / answered if answered else 0.0

    def count(self, low: int, high: int) -> int:
        """Responses with a status in [low, high)."""
        return sum(n for s, n in self.statuses.items() if low <= s < high)

    def p99_ms(self) -> float:
        """99th-percentile latency in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000.0 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _request(path: str, body: bytes, client_ip: str) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Forwarded-For: {client_ip}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> tuple[int, dict[str, str]]:
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
    """Distinct, valid tips: varied text and places, each from a new client address."""

    PLACES: ClassVar[list[str]] = [
        "Kilju", "Gilju", "Kilchu", "Hamhung", "Hamheung", "Songch'on", "Seongcheon", "Tanchon",
        "Kimchaek", "길주", "Hyesan", "Chongjin", "40.9642, 129.3278"]

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.n = 0
        self.seen = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()

    def next(self, path: str) -> bytes:
        """The next request: a fresh tip from a fresh address."""
        self.n += 1
        n = self.n
        body = json.dumps({
            "case_id": self.case_id, "seen_at": self.seen,
            "what": f"couple with a small boy in a grey truck, heading north (tip {n})",
            "place": self.PLACES[n % len(self.PLACES)],
        }).encode()
        return _request(path, body, f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}")


async def _drive(port: int, make: Any, seconds: float, connections: int) -> Phase:
    phase = Phase()
    deadline = time.perf_counter() + seconds

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                request = make()
                start = time.perf_counter()
                status, headers = await _exchange(reader, writer, request)
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(folder: Path) -> tuple[dict[str, str], str]:
    env = dict(os.environ, BOLO_DATA_DIR=str(folder),
               BOLO_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}")
    os.environ.update(env)
    from bolo.cases.schemas import CaseCreate, LastKnown, Person
    from bolo.cases.service import open_case
    from bolo.settings import reset_settings
    from bolo.store.db import session_scope, upgrade_database

    reset_settings()
    upgrade_database()
    seen = datetime.now(UTC) - timedelta(hours=3)
    with session_scope() as session:
        case = open_case(session, actor_id="bench", data=CaseCreate(
            children=[Person(name="Bench Child", age=8)],
            last_known=LastKnown(place="Songchon", lat=39.2068, lon=126.2039,
                                 time_earliest=seen - timedelta(hours=1), time_latest=seen)))
        return env, case.id


def serve(port: int) -> None:
    """Run the app under test (called in the subprocess)."""
    import uvicorn
    from fastapi.responses import JSONResponse

    from bolo.api import create_app
    from bolo.reports.routes import public_router, router

    app = create_app(timers=False)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/public/tips" not in paths:
        app.include_router(public_router)
        app.include_router(router)

    @app.post("/bench/bare")
    async def bare() -> JSONResponse:
        return JSONResponse({"ok": True}, 201)

    fast = all(importlib.util.find_spec(m) for m in ("uvloop", "httptools"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                loop="uvloop" if fast else "auto", http="httptools" if fast else "auto")


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc; 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _phases(port: int, pid: int, case_id: str, seconds: float, connections: int,
                  burst: int) -> dict[str, Phase]:
    maker = TipMaker(case_id)
    bare_request = _request("/bench/bare", b"{}", "10.0.0.1")
    warmup = await _drive(port, lambda: maker.next("/api/v1/public/tips"), 1.0, 4)
    cpu = _cpu_seconds(pid)
    bare = await _drive(port, lambda: bare_request, seconds / 2, connections)
    bare.server_cpu, cpu = _cpu_seconds(pid) - cpu, _cpu_seconds(pid)
    tips = await _drive(port, lambda: maker.next("/api/v1/public/tips"), seconds, connections)
    tips.server_cpu = _cpu_seconds(pid) - cpu
    single = Phase()
    for i in range(burst + 35):
        body = json.dumps({"what": f"the same person again, tip {i}", "place": "Kilju",
                           "seen_at": maker.seen}).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, headers = await _exchange(reader, writer,
                                          _request("/api/v1/public/tips", body, "192.0.2.7"))
        writer.close()
        single.statuses[status] = single.statuses.get(status, 0) + 1
        if status == 429 and not headers.get("retry-after", "").isdigit():
            single.retry_after_ok = False
    return {"bare": bare, "tips": tips, "single": single, "warmup": warmup}


def _stored() -> int:
    from sqlalchemy import func, select

    from bolo.reports.model import Report
    from bolo.store.db import session_scope

    with session_scope() as session:
        return int(session.execute(select(func.count()).select_from(Report)).scalar_one())


def run(seconds: float, connections: int, overall_limit: float | None = None) -> dict[str, Any]:
    """Run the three phases and return the figures. ``overall_limit`` (tips per second) sets
    the server's overall rate limit, to watch the surge being cut to it with 429s."""
    from bolo.reports.config import TipSettings

    burst = TipSettings().per_client_burst
    with tempfile.TemporaryDirectory(prefix="tips-bench-") as tmp:
        env, case_id = _prepare(Path(tmp))
        if overall_limit:
            env["BOLO_TIPS_OVERALL_PER_SECOND"] = str(overall_limit)
            env["BOLO_TIPS_OVERALL_BURST"] = str(max(1, int(overall_limit)))
        port = _free_port()
        process = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
        try:
            _wait_ready(port, process)
            runner = asyncio.run
            if importlib.util.find_spec("uvloop"):
                import uvloop

                runner = uvloop.run
            result = runner(_phases(port, process.pid, case_id, seconds, connections,
                                        burst))
        finally:
            process.terminate()
            process.wait(timeout=30)
        stored = _stored()
    tips, bare = result["tips"], result["bare"]
    counted = [result["warmup"], tips, result["single"]]  # every phase that sent tips
    ok = sum(p.count(200, 300) for p in counted)
    limited = sum(p.count(429, 430) for p in counted)
    failed = sum(p.count(500, 600) for p in counted)
    return {
        "accepted_per_s": round(tips.count(200, 300) / tips.elapsed, 1),
        "p99_ms": round(tips.p99_ms(), 2),
        "responses_2xx": ok,
        "responses_429": limited,
        "responses_5xx": failed,
        "responses_other": sum(p.count(0, 1000) for p in counted) - ok - limited - failed,
        "stored": stored,
        "bare_per_s": round(bare.count(200, 300) / bare.elapsed, 1),
        "bare_p99_ms": round(bare.p99_ms(), 2),
        "surge_429": tips.count(429, 430),
        "server_cpu_ms_per_tip": round(tips.cpu_ms(), 3),
        "server_cpu_ms_per_bare": round(bare.cpu_ms(), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "retry_after_ok": all(p.retry_after_ok for p in counted),
        "seconds": seconds, "connections": connections, "overall_limit": overall_limit,
    }


def _table(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    ratio = figures["accepted_per_s"] / figures["bare_per_s"] if figures["bare_per_s"] else 0.0
    table = Table(title=f"public tip intake, {figures['seconds']:g} s, "
                        f"{figures['connections']} connections, SQLite")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    table.add_row("tips accepted per s", f"{figures['accepted_per_s']:,.0f}", ">= 1,000")
    table.add_row("bare FastAPI endpoint per s (baseline)", f"{figures['bare_per_s']:,.0f}", "")
    table.add_row("ratio tips / bare", f"{ratio:.0%}", ">= 30%")
    table.add_row("p99 latency of tips, ms", f"{figures['p99_ms']:.1f}", "<= 100")
    table.add_row("p99 latency of bare, ms", f"{figures['bare_p99_ms']:.1f}", "")
    table.add_row("2xx answers / rows stored",
                  f"{figures['responses_2xx']:,} / {figures['stored']:,}", "equal")
    table.add_row("429 answers (surge + one client)",
                  f"{figures['responses_429']:,} ({figures['surge_429']:,} + "
                  f"{figures['responses_429'] - figures['surge_429']})", "> 0")
    table.add_row("5xx answers", str(figures["responses_5xx"]), "0")
    table.add_row("server CPU ms per tip / per bare request",
                  f"{figures['server_cpu_ms_per_tip']:.2f} / "
                  f"{figures['server_cpu_ms_per_bare']:.2f}", "")
    table.add_row("load average (1 min) after the run", f"{figures['load_average_1min']:.1f}",
                  "< 2 for meaningful rates")
    table.add_row("other answers", str(figures["responses_other"]), "0")
    Console().print(table)


def main() -> None:
    """Parse arguments, run, print a table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the surge")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--overall-limit", type=float, default=None,
                        help="server's overall limit, tips/s (default: its setting, 2000)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    figures = run(args.seconds, args.connections, args.overall_limit)
    if args.json:
        print(json.dumps(figures))
    else:
        _table(figures)


if __name__ == "__main__":
    main()
