"""Shared test fixtures: where ../shared is, and which outside services are required."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bolo.dispatch.nats.connection import Names

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _services_required() -> bool:
    return os.environ.get("BOLO_TEST_SERVICES", "").lower() == "required" or bool(
        os.environ.get("CI")
    )


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or fail under BOLO_TEST_SERVICES=required) when a server is not listening."""
    if _port_open(host, port):
        return
    message = (
        f"{name} is not listening at {host}:{port}; start it, and set "
        "BOLO_TEST_SERVICES=required to make these tests mandatory"
    )
    if _services_required():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The workplace's ../shared folder; skip when absent (CI has it, so there it must exist)."""
    if SHARED.is_dir():
        return SHARED
    message = f"{SHARED} is absent: tests on the large shared data sets are skipped"
    if _services_required():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the test PostgreSQL server (BOLO_TEST_POSTGRES_URL or the local one)."""
    url = os.environ.get("BOLO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    need_service("PostgreSQL", "127.0.0.1", 5432)
    return url


@pytest.fixture(scope="session")
def nats_url() -> str:
    """URL of the test NATS JetStream server."""
    need_service("NATS", "127.0.0.1", 4222)
    return os.environ.get("BOLO_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture()
def nats_names(nats_url: str) -> Iterator[Names]:
    """Stream, subject and consumer names of one test on the shared NATS server, unique to
    this test run (process id and a random part), so tests and benchmarks of other processes
    on the same server never see or delete this test's stream; the stream (and its consumer)
    is deleted afterwards, whether or not the test created it."""
    import asyncio
    import uuid

    from bolo.dispatch.nats.connection import Names

    names = Names.with_suffix(f"t{os.getpid()}_{uuid.uuid4().hex[:12]}")
    yield names
    asyncio.run(_delete_stream(nats_url, names))


async def _delete_stream(url: str, names: Names) -> None:
    import nats

    nc = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
    try:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(names.stream)
    finally:
        await nc.close()


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh BOLO_DATA_DIR for one test, with settings re-read."""
    from bolo.settings import reset_settings
    from bolo.store.db import set_default_engine

    monkeypatch.setenv("BOLO_DATA_DIR", str(tmp_path / "bolo-data"))
    monkeypatch.delenv("BOLO_DATABASE_URL", raising=False)
    reset_settings()
    set_default_engine(None)
    yield tmp_path / "bolo-data"
    set_default_engine(None)
    reset_settings()


def _postgres_engine(url: str) -> Iterator[object]:
    import uuid

    from sqlalchemy import text

    from bolo.store.db import engine_for, upgrade_database

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = engine_for(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = engine_for(url, schema=schema)
    try:
        upgrade_database(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_engine(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[object]:
    """A freshly migrated engine: a SQLite file, or a fresh PostgreSQL schema."""
    from bolo.store.db import engine_for, set_default_engine, upgrade_database

    if request.param == "sqlite":
        engine = engine_for(f"sqlite:///{data_dir / 'test.db'}")
        upgrade_database(engine)
        set_default_engine(engine)
        yield engine
        set_default_engine(None)
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    for engine in _postgres_engine(url):
        set_default_engine(engine)  # type: ignore[arg-type]
        yield engine
        set_default_engine(None)


@pytest.fixture()
def sqlite_engine(data_dir: Path) -> Iterator[object]:
    """A freshly migrated SQLite engine only (for tests that need no PostgreSQL run)."""
    from bolo.store.db import engine_for, set_default_engine, upgrade_database

    engine = engine_for(f"sqlite:///{data_dir / 'test.db'}")
    upgrade_database(engine)
    set_default_engine(engine)
    yield engine
    set_default_engine(None)
    engine.dispose()


CHROMIUM = os.environ.get("BOLO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright (never Playwright's own download): one
    for the whole session, whichever folder its tests live in."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def uses_the_browser(item: pytest.Item) -> bool:
    """Whether a test needs the session's browser (directly or through its fixtures)."""
    return "browser" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last, wherever they live: Playwright's sync API keeps an event loop
    running in the main thread for as long as its session lasts, which other tests'
    asyncio.run() cannot share."""
    items.sort(key=uses_the_browser)
