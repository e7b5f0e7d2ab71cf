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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.seed import Cast, Login
from tests.security.live_server import wait_until_up

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Running:
    """A running bolo server, the logins of its seeded users and its data folder (for a test
    that must act as an operator's command on the server's database)."""

    base: str
    cast: Cast
    data_dir: Path


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A bolo server on a free port over a fresh BOLO_DATA_DIR, seeded by the server process
    itself (this process's environment and database stay untouched)."""
    folder = tmp_path_factory.mktemp("bolo-e2e")
    port, cast_file, data_dir = _free_port(), folder / "cast.json", folder / "data"
    env = {
        **os.environ,
        "BOLO_DATA_DIR": str(data_dir),
        "BOLO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("BOLO_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "serve_app.py"), str(port), str(cast_file)],
        env=env,
        cwd=HERE.parent.parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_up(proc, base, seconds=150)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        raw = json.loads(cast_file.read_text(encoding="utf-8"))
        cast = Cast(**{role: Login(**login) for role, login in raw.items()})
        yield Running(base, cast, data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server(running: Running) -> str:
    """The base URL of the running server."""
    return running.base


@pytest.fixture(scope="session")
def cast(running: Running) -> Cast:
    """The seeded users (coordinator, approver, post officer) and their passwords."""
    return running.cast
