"""The pages a team opens after an exercise or a case is over: once the case is purged (its
alerts' texts and CAP XML blanked), the console's alert page and the post page still answer."""

from __future__ import annotations

from sqlalchemy import Engine

from bolo.ops.retention import purge_due
from bolo.store.db import session_scope
from tests.security.factories import CHILD, World, end_case
from tests.web.conftest import ClientFor


def _purge(engine: Engine, w: World) -> None:
    """Cancel, resolve and close the world's case, then purge it at once (as `--days 0`)."""
    with session_scope(engine) as db:
        end_case(db, w)
    assert purge_due(engine, days=0).cases == [w.case_id]


def test_the_console_alert_page_of_a_purged_case_answers(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    _purge(sqlite_engine, world)
    answer = client_for("coordinator").get(f"/console/alerts/{world.alert_id}")
    assert answer.status_code == 200, answer.text[:500]
    assert CHILD not in answer.text


def test_the_post_page_after_its_alert_was_purged_answers(
    sqlite_engine: Engine, world: World, client_for: ClientFor
) -> None:
    """The cancelled alert stays on the post page for a day, unless its case is purged."""
    _purge(sqlite_engine, world)
    answer = client_for("post_officer").get("/post")
    assert answer.status_code == 200, answer.text[:500]
    assert world.alert_id not in answer.text
