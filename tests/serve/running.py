"""A real ``bolo serve`` process over a data dir prepared by the test, on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BOLO = [sys.executable, "-c", "from bolo.cli import main; main()"]
START_S = 90.0


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A running ``bolo serve``: its base URL and process."""

    base: str
    proc: subprocess.Popen[bytes]
    log: Path


def bolo_env(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a bolo process over ``data_dir`` (its SQLite file unless ``extra``
    names BOLO_DATABASE_URL), loopback allowed."""
    env = {k: v for k, v in os.environ.items() if k != "BOLO_DATABASE_URL"}
    return {
        **env,
        "BOLO_DATA_DIR": str(data_dir),
        "BOLO_SECURITY_ALLOW_NETWORKS": "127.0.0.0/8",
        **(extra or {}),
    }


@contextmanager
def bolo_serve(
    data_dir: Path, *args: str, env: Mapping[str, str] | None = None
) -> Iterator[Served]:
    """Start ``bolo serve --port P ARGS`` and wait for /healthz; SIGTERM it afterwards."""
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*BOLO, "serve", "--port", str(port), *args],
            env=bolo_env(data_dir, env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", proc, log)
    try:
        _wait_until_up(served)
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_S
    while True:
        try:
            if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if served.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(
                f"bolo serve did not start (exit {served.proc.poll()}):\n"
                + served.log.read_text(errors="replace")[-3000:]
            )
        time.sleep(0.2)
