"""Browser-test fixtures: a fresh bolo server on a free port and Debian's headless Chromium.

Chromium must be at /usr/bin/chromium (``make test`` installs it with apt). Missing Chromium
fails these tests; it never skips them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.seed import Cast, seed

CHROMIUM = os.environ.get("BOLO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh BOLO_DATA_DIR shared by this process (seeding) and the server subprocess."""
    from bolo.settings import reset_settings

    path = tmp_path_factory.mktemp("bolo-e2e") / "data"
    old = {k: os.environ.get(k) for k in ("BOLO_DATA_DIR", "BOLO_DATABASE_URL")}
    os.environ["BOLO_DATA_DIR"] = str(path)
    os.environ.pop("BOLO_DATABASE_URL", None)
    reset_settings()
    yield path
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()


@pytest.fixture(scope="session")
def cast(e2e_data_dir: Path) -> Cast:
    """The seeded users (coordinator, approver, post officer)."""
    return seed()


@pytest.fixture(scope="session")
def server(cast: Cast, e2e_data_dir: Path) -> Iterator[str]:
    """The base URL of a bolo server running on the seeded data."""
    port = _free_port()
    env = {**os.environ, "BOLO_DATA_DIR": str(e2e_data_dir),
           "BOLO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, str(HERE / "serve_app.py"), str(port)], env=env,
                            cwd=HERE.parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the bolo server did not start (exit code {proc.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
