"""Console tests over HTTP without a browser: the security world and a client per role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.sessions import COOKIE_NAME, CSRF_HEADER, create_session, csrf_token_for
from bolo.store.db import session_scope
from tests.security.factories import World, build_world

HTML = {"Accept": "text/html"}
ClientFor = Callable[[str], TestClient]


@pytest.fixture()
def world(sqlite_engine: Engine) -> World:
    """The security tests' incident: every role, a case with distinctive names, a live alert."""
    with session_scope(sqlite_engine) as db:
        return build_world(db, with_reports=False)


@pytest.fixture()
def client_for(sqlite_engine: Engine, world: World) -> ClientFor:
    """A client signed in (cookie session, CSRF header) as the world's user of a role name."""
    app = create_app(timers=False)

    def make(role: str) -> TestClient:
        with session_scope(sqlite_engine) as db:
            sid = create_session(db, user_id=world.users[role].id)
        return TestClient(
            app,
            headers={**HTML, CSRF_HEADER: csrf_token_for(sid)},
            cookies={COOKIE_NAME: sid},
            follow_redirects=False,
        )

    return make
