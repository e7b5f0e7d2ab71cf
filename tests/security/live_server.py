"""A real `bolo serve` on a free port over a given data folder, and the `bolo` command itself,
for tests that must go through what an operator runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BOLO = str(Path(sys.executable).with_name("bolo"))


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a bolo process on ``data_dir`` (SQLite there, nothing else)."""
    env = {**os.environ, "BOLO_DATA_DIR": str(data_dir), **extra}
    env.pop("BOLO_DATABASE_URL", None)
    return env


def bolo(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``bolo ARGS`` as an operator would; returns the finished process."""
    return subprocess.run(
        [BOLO, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(proc: subprocess.Popen[bytes], base: str, *, seconds: float) -> None:
    """Return once ``base``/healthz answers 200; RuntimeError when the process ended first or
    ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"bolo serve did not start (exit code {proc.poll()})")
        time.sleep(0.2)


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """`bolo serve` on a free port; yields its base URL and stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**env, "BOLO_PUBLIC_BASE_URL": base}
    proc = subprocess.Popen(
        [BOLO, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(proc, base, seconds=120)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
