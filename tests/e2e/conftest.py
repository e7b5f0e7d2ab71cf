"""Browser-test fixtures: a fresh bolo server on a free port and Debian's headless Chromium.

Chromium must be at /usr/bin/chromium (``make test`` installs it with apt). Missing Chromium
fails these tests; it never skips them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.seed import Cast, Login

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Running:
    """A running bolo server and the logins of its seeded users."""

    base: str
    cast: Cast


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A bolo server on a free port over a fresh BOLO_DATA_DIR, seeded by the server process
    itself (this process's environment and database stay untouched)."""
    folder = tmp_path_factory.mktemp("bolo-e2e")
    port, cast_file = _free_port(), folder / "cast.json"
    env = {**os.environ, "BOLO_DATA_DIR": str(folder / "data"),
           "BOLO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("BOLO_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, str(HERE / "serve_app.py"), str(port),
                             str(cast_file)], env=env, cwd=HERE.parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, base)
        raw = json.loads(cast_file.read_text(encoding="utf-8"))
        yield Running(base, Cast(**{role: Login(**login) for role, login in raw.items()}))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_up(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 150
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the bolo server did not start (exit code {proc.poll()})")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def server(running: Running) -> str:
    """The base URL of the running server."""
    return running.base


@pytest.fixture(scope="session")
def cast(running: Running) -> Cast:
    """The seeded users (coordinator, approver, post officer) and their passwords."""
    return running.cast
