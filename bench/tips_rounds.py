"""The servers and surges of bench/tips_bench.py, and its rounds with and without a reader.

Each surge of a round runs against a server of its own over a copy of the same seeded case, so
every surge meets the same case size and a fresh process; the rounds alternate which surge goes
first (alone then with the reader, then the other way round), so a machine whose load drifts
during the run favours neither side.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tips_load import Phase, TipMaker, asyncio_phase, seen_at, wrk_phase
from triage_reader import TriageReader, page_figures

BENCH = Path(__file__).with_name("tips_bench.py")
DB_NAME = "bench.db"
# Every surge sends the same tips (numbers from here on), so every copy of the case grows alike.
SURGE_FIRST = 1_000_000_000


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start the app under test (tips_bench.py --serve) in a session of its own, and wait until
    it accepts connections (at most 30 s)."""
    process = subprocess.Popen(
        [sys.executable, str(BENCH), "--serve", str(port)], env=env, start_new_session=True
    )
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    stop_server(process)
    raise SystemExit("the server did not start")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server and its triage worker (its session), with no graceful shutdown: every
    tip answered 2xx must already be committed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc; 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, drive: Callable[[], Phase]) -> Phase:
    """Run one phase and attach the server's CPU seconds."""
    cpu = cpu_seconds(pid)
    phase = drive()
    phase.server_cpu = cpu_seconds(pid) - cpu
    return phase


def async_runner() -> Any:
    """uvloop.run when installed, else asyncio.run."""
    if importlib.util.find_spec("uvloop"):
        import uvloop

        return uvloop.run
    return asyncio.run


def tips_phase(
    port: int, case_id: str, first: int, seconds: float, connections: int, client: str
) -> Phase:
    """Send distinct tips numbered from ``first`` for ``seconds`` over ``connections``."""
    if client == "wrk":
        return wrk_phase(
            port,
            mode="tips",
            seconds=seconds,
            connections=connections,
            first=first,
            case_id=case_id,
            seen=seen_at(),
        )
    maker = TipMaker(case_id, first)
    return async_runner()(asyncio_phase(port, maker.next, seconds, connections))  # type: ignore[no-any-return]


def copy_case(template: Path, folder: Path) -> dict[str, str]:
    """Copy the seeded data folder (the database through SQLite's backup, consistent whatever
    its WAL holds) and return the server's environment for the copy."""
    shutil.copytree(template, folder, ignore=shutil.ignore_patterns(f"{DB_NAME}*"))
    with sqlite3.connect(template / DB_NAME) as source, sqlite3.connect(folder / DB_NAME) as copy:
        source.backup(copy)
    return dict(
        os.environ,
        BOLO_DATA_DIR=str(folder),
        BOLO_DATABASE_URL=f"sqlite:///{folder / DB_NAME}",
    )


def stored_reports(folder: Path) -> int:
    """Tips stored in the copy of the case in ``folder``."""
    with sqlite3.connect(folder / DB_NAME) as db:
        return int(db.execute("SELECT count(*) FROM reports").fetchone()[0])


def surge(
    folder: Path,
    env: dict[str, str],
    case_id: str,
    seconds: float,
    connections: int,
    client: str,
    reader: tuple[str, str, bool] | None,
) -> dict[str, Any]:
    """One surge on a fresh server over ``folder``: a 1 s warm-up, then ``seconds`` of tips,
    with ``reader`` = (username, password, idle) reading the triage page throughout."""
    port = free_port()
    process = start_server(env, port)
    watcher = None
    try:
        warmup = tips_phase(port, case_id, 0, 1.0, 4, client)
        if reader is not None:
            user, password, idle = reader
            watcher = TriageReader(f"http://127.0.0.1:{port}", case_id, user, password, idle=idle)
            watcher.start()
        try:
            tips = measured(
                process.pid,
                lambda: tips_phase(port, case_id, SURGE_FIRST, seconds, connections, client),
            )
        finally:
            if watcher is not None:
                watcher.stop()
    finally:
        stop_server(process)
    return {
        "phases": [warmup, tips],
        "tips": tips,
        "stored": stored_reports(folder),
        "watcher": watcher,
    }


def rounds(
    template: Path,
    scratch: Path,
    case_id: str,
    count: int,
    surge_args: dict[str, Any],
    reader: tuple[str, str, bool],
    extra_env: dict[str, str],
) -> list[dict[str, Any]]:
    """``count`` rounds of two surges (alone, with ``reader``), each over a fresh copy of
    ``template`` (its server's environment plus ``extra_env``); even rounds run alone first,
    odd rounds with the reader first."""
    done = []
    for number in range(count):
        order = ["alone", "reader"] if number % 2 == 0 else ["reader", "alone"]
        result: dict[str, Any] = {"order": order}
        for kind in order:
            folder = scratch / f"round-{number}-{kind}"
            env = copy_case(template, folder) | extra_env
            result[kind] = surge(
                folder, env, case_id, reader=reader if kind == "reader" else None, **surge_args
            )
            shutil.rmtree(folder, ignore_errors=True)
            result[kind]["load"] = round(os.getloadavg()[0], 2)
        done.append(result)
    return done


def round_figures(done: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-round figures (tips/s alone and with the reader, their ratio, order, load) and the
    medians over the rounds."""
    per_round = []
    for result in done:
        alone, read = result["alone"]["tips"], result["reader"]["tips"]
        alone_s = alone.count(200, 300) / alone.elapsed
        read_s = read.count(200, 300) / read.elapsed
        page = result["reader"]["watcher"].figures()
        per_round.append(
            {
                "order": "alone first" if result["order"][0] == "alone" else "reader first",
                "accepted_per_s_alone": round(alone_s, 1),
                "accepted_per_s_with_reader": round(read_s, 1),
                "ratio": round(read_s / alone_s, 3) if alone_s else None,
                "p99_ms_alone": round(alone.p99_ms(), 2),
                "p99_ms_with_reader": round(read.p99_ms(), 2),
                "reader_views": page.get("reader_views"),
                "reader_page_ms_median": page.get("reader_page_ms_median"),
                "load_average_1min": [result["alone"]["load"], result["reader"]["load"]],
            }
        )
    ratios = [r["ratio"] for r in per_round if r["ratio"] is not None]
    return {
        **page_figures([result["reader"]["watcher"] for result in done]),
        "rounds": per_round,
        "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
        "accepted_per_s_alone": statistics.median(r["accepted_per_s_alone"] for r in per_round),
        "accepted_per_s_with_reader": statistics.median(
            r["accepted_per_s_with_reader"] for r in per_round
        ),
    }
