"""The case timeline says which post acknowledged (by name), who, and through which channel."""

from __future__ import annotations

from sqlalchemy import Engine

from bolo.dispatch.acks import AckVia, acknowledge
from bolo.store.db import session_scope
from tests.security.factories import World
from tests.web.conftest import ClientFor


def test_an_ack_from_the_post_page_shows_its_channel_and_name(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    officer = client_for("post_officer")
    done = officer.post("/post/ack", data={"version_id": world.version_id, "name": "Ri Su-jin"})
    assert done.status_code in (200, 303), done.text[:500]
    text = client_for("coordinator").get(f"/console/cases/{world.case_id}").text
    assert "acknowledged by Ri Su-jin through the post page" in text
    assert "(api)" not in text


def test_every_channel_is_named_in_english_and_korean(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    with session_scope(sqlite_engine) as db:
        acknowledge(
            db, version_id=world.version_id, post_id=world.posts[0], by="Kim", via=AckVia.API
        )
    coordinator = client_for("coordinator")
    english = coordinator.get(f"/console/cases/{world.case_id}").text
    assert "acknowledged by Kim through the API" in english
    # The line names the post as people know it, not by its id.
    assert "Checkpoint 0 acknowledged by Kim" in english
    assert f"{world.posts[0]} acknowledged by" not in english
    korean = coordinator.get(f"/console/cases/{world.case_id}?lang=ko").text
    assert "Kim" in korean and "through the API" not in korean
    assert "(Kim, API 경유)" in korean
