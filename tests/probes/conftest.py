"""One incident shared by the HTTP probes of a module: every probe is a refused request, so
the world they are tried on does not change (each probe module checks that it does not)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.sessions import COOKIE_NAME, CSRF_HEADER, create_session, csrf_token_for
from bolo.store.db import session_scope
from tests.security.factories import World, build_world


@dataclass
class Probed:
    """The incident, its database, and clients: the API as an admin, the console as an admin,
    the post page as a post officer, and an anonymous caller."""

    engine: Engine
    world: World
    ids: dict[str, str]
    api: TestClient
    console: TestClient
    post_page: TestClient
    anonymous: TestClient


def probed_world(engine: Engine) -> Probed:
    """Build the incident on ``engine`` and the clients that probe it."""
    with session_scope(engine) as db:
        w = build_world(db)
        admin = create_session(db, user_id=w.users["admin"].id)
        officer = create_session(db, user_id=w.users["post_officer"].id)
    app = create_app(timers=False)

    def page_client(sid: str) -> TestClient:
        headers = {CSRF_HEADER: csrf_token_for(sid), "Accept": "text/html"}
        return TestClient(
            app, raise_server_exceptions=False, cookies={COOKIE_NAME: sid}, headers=headers
        )

    ids = {
        "case_id": w.case_id,
        "alert_id": w.alert_id,
        "version_id": w.version_id,
        "post_id": w.posts[0],
        "user_id": w.users["second_coordinator"].id,
        "token_id": "no-such-token",
        "report_id": w.report_ids[0],
        "child_index": "0",
        "external_id": "no-such-external-alert",
        "delivery_id": "no-such-delivery",
        "name": "no-such-photo.jpg",
    }
    bearer = {"Authorization": f"Bearer {w.tokens['admin']}"}
    return Probed(
        engine=engine,
        world=w,
        ids=ids,
        api=TestClient(app, raise_server_exceptions=False, headers=bearer),
        console=page_client(admin),
        post_page=page_client(officer),
        anonymous=TestClient(app, raise_server_exceptions=False),
    )


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probed]:
    """A migrated SQLite database with a whole incident, for one module's probes."""
    from bolo.settings import reset_settings
    from bolo.store.db import engine_for, set_default_engine, upgrade_database

    folder = tmp_path_factory.mktemp("probes")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BOLO_DATA_DIR", str(folder))
        patch.delenv("BOLO_DATABASE_URL", raising=False)
        reset_settings()
        engine = engine_for(f"sqlite:///{folder / 'probes.db'}")
        upgrade_database(engine)
        set_default_engine(engine)
        yield probed_world(engine)
        set_default_engine(None)
        engine.dispose()
    reset_settings()
