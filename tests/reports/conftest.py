"""Fixtures of the reports tests: an HTTP client on a migrated database, generous limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.reports.public import reset_public_state


def make_app() -> object:
    """The bolo app with the reports routers included (once, whether or not api.py has them)."""
    from bolo.api import create_app
    from bolo.reports.routes import public_router, router

    app = create_app(timers=False)
    present = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/public/tips" not in present:
        app.include_router(public_router)
    if "/api/v1/reports" not in present:
        app.include_router(router)
    return app


@pytest.fixture()
def limits(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """High rate limits so ordinary tests never see 429 (a test may lower them first)."""
    values = {"BOLO_TIPS_PER_CLIENT_BURST": "1000", "BOLO_TIPS_PER_CLIENT_PER_MINUTE": "6000"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture()
def client(sqlite_engine: Engine, limits: dict[str, str]) -> Iterator[TestClient]:
    """A TestClient on a fresh SQLite database."""
    reset_public_state()
    with TestClient(make_app()) as http:  # type: ignore[arg-type]
        yield http
    reset_public_state()


@pytest.fixture(scope="module")
def module_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One TestClient and SQLite database shared by a module's tests that store nothing
    (requests that must be refused): one migration instead of one per test."""
    from bolo.settings import reset_settings
    from bolo.store.db import engine_for, set_default_engine, upgrade_database

    folder = tmp_path_factory.mktemp("reports-shared")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BOLO_DATA_DIR", str(folder))
        patch.delenv("BOLO_DATABASE_URL", raising=False)
        patch.setenv("BOLO_TIPS_PER_CLIENT_BURST", "100000")
        patch.setenv("BOLO_TIPS_PER_CLIENT_PER_MINUTE", "100000")
        reset_settings()
        reset_public_state()
        engine = engine_for(f"sqlite:///{folder / 'shared.db'}")
        upgrade_database(engine)
        set_default_engine(engine)
        try:
            with TestClient(make_app()) as http:  # type: ignore[arg-type]
                yield http
        finally:
            set_default_engine(None)
            engine.dispose()
            reset_public_state()
            reset_settings()
