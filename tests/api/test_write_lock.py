"""The lock rule: no request holds the database's write lock while it computes.

A real server (uvicorn in a subprocess, SQLite in WAL mode as deployed) serves the triage page
and the queue API of a case with hundreds of reports, over and over, while this process stores
tips one transaction at a time, as the public intake does. No tip write may wait more than 100 ms.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.clock import now
from bolo.reports import service
from bolo.reports.intake import TipIn
from bolo.reports.worker import cluster_all
from bolo.store.db import engine_for, session_scope

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


@pytest.fixture()
def server(sqlite_engine: Engine, data_dir: Path) -> Iterator[tuple[str, str, str]]:
    """A server over a case of 400 clustered tips: (base URL, API token, case id)."""
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
        "BOLO_DATABASE_URL": f"sqlite:///{data_dir / 'test.db'}",
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
        yield base, token, case_id
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _views(
    base: str,
    paths: list[str],
    headers: dict[str, str],
    stop: threading.Event,
    counts: list[int],
    login: bool,
) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        if login:
            answer = client.post("/login", data={"username": "coord", "password": PASSWORD})
            assert answer.status_code == 303, answer.text
        if paths == ["/console/events"]:
            with client.stream("GET", "/console/events") as stream:
                counts.extend(1 for line in stream.iter_lines() if line == "event: hello")
                stop.wait()
            return
        while not stop.is_set():
            for path in paths:
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                counts.append(1)


def _tip_waits(engine: Engine, case_id: str, seconds: float) -> list[float]:
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
        start = time.perf_counter()
        with engine.begin() as conn:
            service.store_rows(conn, [row], {})
        waits.append(time.perf_counter() - start)
        time.sleep(0.02)
    return waits


@pytest.mark.parametrize("who", ["console", "api", "events"])
def test_page_views_never_block_a_tip_write(
    server: tuple[str, str, str], data_dir: Path, who: str
) -> None:
    base, token, case_id = server
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
    stop, counts = threading.Event(), []  # type: ignore[var-annotated]
    reader = threading.Thread(
        target=_views, args=(base, paths, headers, stop, counts, who != "api")
    )
    reader.start()
    engine = engine_for(f"sqlite:///{data_dir / 'test.db'}")
    try:
        time.sleep(0.5)  # the reader is signed in and viewing
        waits = _tip_waits(engine, case_id, 4.0)
    finally:
        stop.set()
        reader.join(60)
        engine.dispose()
    assert len(counts) >= (1 if who == "events" else 5), "no page was viewed meanwhile"
    assert max(waits) < MAX_WAIT_S, f"a tip write waited {max(waits) * 1000:.0f} ms"
