"""The lock rule: no request holds the database's write lock while it computes.

A real server (uvicorn in a subprocess, SQLite in WAL mode as deployed) serves the triage page
and the queue API of a case with hundreds of reports, over and over, to a viewer in another
process, while this process stores tips one transaction at a time, as the public intake does.
No tip write may wait 100 ms or more for the write lock. What is measured is that wait alone
(``BEGIN IMMEDIATE`` refused while another connection holds the lock), not the write's own
time, which a busy machine, a WAL checkpoint or this interpreter's other threads can stretch.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.clock import now
from bolo.reports import service
from bolo.reports.intake import TipIn
from bolo.reports.worker import cluster_all
from bolo.store.db import engine_for, session_scope
from tests.store.migrate import sqlite_data_dir

MAX_WAIT_S = 0.1
PASSWORD = "a long enough test password 1"
SERVER = (
    "import sys, uvicorn; from bolo.api import create_app; "
    "uvicorn.run(create_app(timers=False), host='127.0.0.1', port=int(sys.argv[1]), "
    "log_level='warning')"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, Path]]:
    """A server over a case of 400 clustered tips: (base URL, API token, case id, database
    file). One for the module: its start (a process importing bolo) is most of its cost, and
    each test only adds tips."""
    data_dir = tmp_path_factory.mktemp("write-lock") / "bolo-data"
    data_dir.mkdir()
    with sqlite_data_dir(data_dir) as sqlite_engine:
        yield from _serve(sqlite_engine, data_dir, data_dir / "test.db")


def _serve(
    sqlite_engine: Engine, data_dir: Path, database: Path
) -> Iterator[tuple[str, str, str, Path]]:
    """Fill the database, start the server on it and yield what ``server`` gives."""
    with session_scope(sqlite_engine) as s:
        user = create_user(
            s, username="coord", role=Role.COORDINATOR, password=PASSWORD, actor=None
        )
        token = issue_token(s, user_id=user.id, actor=None)
        from tests.reports.factories import songchon_case

        case_id = songchon_case(s, user).id
        for i in range(400):
            service.submit_tip(
                s,
                tip=TipIn(
                    case_id=case_id,
                    place=["Kilju", "Hamhung", "Tanchon", "Hyesan"][i % 4],
                    what=f"couple with a small boy in a grey truck, heading north ({i})",
                    seen_at=now() - timedelta(minutes=i % 110),
                ),
            )
    cluster_all(sqlite_engine)
    port = _free_port()
    env = {
        **os.environ,
        "BOLO_DATA_DIR": str(data_dir),
        "BOLO_DATABASE_URL": f"sqlite:///{database}",
    }
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, token, case_id, database
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _views(
    base: str,
    paths: list[str],
    headers: dict[str, str],
    stop: EventType,
    viewed: Synchronized[int],
    login: bool,
) -> None:
    """View ``paths`` over and over until ``stop`` (in a process of its own), counting views."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        if login:
            answer = client.post("/login", data={"username": "coord", "password": PASSWORD})
            assert answer.status_code == 303, answer.text
        if paths == ["/console/events"]:
            with client.stream("GET", "/console/events") as stream:
                for line in stream.iter_lines():
                    if line == "event: hello":
                        viewed.value += 1
                        break
                stop.wait()
            return
        while not stop.is_set():
            for path in paths:
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                viewed.value += 1


def _write_lock_wait(conn: Connection) -> float:
    """Take the database's write lock (BEGIN IMMEDIATE) without SQLite's busy handler; returns
    how long another connection kept it from us (seconds; 0 when it was free at once). Only a
    lock held elsewhere counts: not this process's scheduling, nor the write's own work."""
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    refused_at: float | None = None
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            refused_at = refused_at if refused_at is not None else time.perf_counter()
            time.sleep(0.001)
            continue
        return 0.0 if refused_at is None else time.perf_counter() - refused_at


def _tip_waits(engine: Engine, case_id: str, seconds: float) -> list[float]:
    """Store a tip every 20 ms for ``seconds``, each in a transaction of its own as the public
    intake does; returns how long each waited for the write lock (seconds)."""
    waits = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        row = service.tip_row(
            TipIn(
                case_id=case_id,
                what=f"another tip {n}",
                place="Kilju",
                seen_at=now() - timedelta(minutes=5),
            )
        )
        with engine.connect() as conn:
            waits.append(_write_lock_wait(conn))
            service.store_rows(conn, [row], {})
            conn.commit()
        time.sleep(0.02)
    return waits


def _holding_the_lock(path: Path, stop: threading.Event, hold_s: float) -> None:
    """Hold the database's write lock ``hold_s`` seconds at a time until ``stop``."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        while not stop.is_set():
            holder.execute("BEGIN IMMEDIATE")
            time.sleep(hold_s)
            holder.execute("COMMIT")
            time.sleep(0.01)
    finally:
        holder.close()


def test_the_measure_sees_a_held_write_lock(sqlite_engine: Engine, data_dir: Path) -> None:
    """The measure below is not blind: a connection that holds the write lock 300 ms at a time
    shows in the tip writes' waits."""
    with session_scope(sqlite_engine) as s:
        user = create_user(
            s, username="coord", role=Role.COORDINATOR, password=PASSWORD, actor=None
        )
        from tests.reports.factories import songchon_case

        case_id = songchon_case(s, user).id
    stop = threading.Event()
    holder = threading.Thread(target=_holding_the_lock, args=(data_dir / "test.db", stop, 0.3))
    holder.start()
    engine = engine_for(f"sqlite:///{data_dir / 'test.db'}")
    try:
        waits = _tip_waits(engine, case_id, 1.0)
    finally:
        stop.set()
        holder.join(10)
        engine.dispose()
    assert max(waits) >= MAX_WAIT_S, f"the longest wait seen was {max(waits) * 1000:.0f} ms"


@pytest.mark.parametrize("who", ["console", "api", "events"])
def test_page_views_never_block_a_tip_write(server: tuple[str, str, str, Path], who: str) -> None:
    """While another process views pages (the server computes them in a third), no tip write
    waits 100 ms or more for the database's write lock."""
    base, token, case_id, database = server
    if who == "console":
        paths = [
            "/console/triage",
            f"/console/triage?case={case_id}",
            "/console",
            "/console/deliveries",
            "/console/posts",
            f"/console/cases/{case_id}",
        ]
        headers = {"Accept": "text/html"}
    elif who == "events":
        paths = ["/console/events"]
        headers = {"Accept": "text/event-stream"}
    else:
        paths = [f"/api/v1/reports/queue?case_id={case_id}&limit=200"]
        headers = {"Authorization": f"Bearer {token}"}
    spawn = multiprocessing.get_context("spawn")
    stop, viewed = spawn.Event(), spawn.Value("i", 0)
    # The viewer is a process of its own: a thread here would share this interpreter's lock
    # with the writer, and its JSON parsing would count as the writer's wait.
    reader = spawn.Process(target=_views, args=(base, paths, headers, stop, viewed, who != "api"))
    reader.start()
    engine = engine_for(f"sqlite:///{database}")
    try:
        started = time.monotonic()
        while viewed.value == 0 and reader.is_alive() and time.monotonic() - started < 120:
            time.sleep(0.05)  # the viewer is starting, signing in
        waits = _tip_waits(engine, case_id, 4.0)
    finally:
        stop.set()
        reader.join(60)
        engine.dispose()
    assert reader.exitcode == 0, "the viewer failed (its traceback is above)"
    assert viewed.value >= (1 if who == "events" else 3), "no page was viewed meanwhile"
    assert max(waits) < MAX_WAIT_S, f"a tip write waited {max(waits) * 1000:.0f} ms for the lock"
