"""A refused console or post-page request is an HTML page in the user's language, whatever the
browser put in Accept (a form post or a script sends ``*/*``); only a client naming JSON gets
the problem document."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bolo.auth.model import User
from bolo.store.db import session_scope
from tests.security.factories import World
from tests.web.conftest import ClientFor

ANY = {"Accept": "*/*"}


def _refusals(w: World) -> list[tuple[str, str, int]]:
    a = w.alert_id
    return [
        ("post", f"/console/alerts/{a}/approve", 404),  # nothing waits for approval
        ("post", f"/console/alerts/{a}/edit", 409),  # cancelled: no draft to edit
        ("post", f"/console/alerts/{a}/update", 409),
        ("post", "/console/alerts/no-such-alert/cancel", 404),
        ("post", "/console/external/no-such-alert/link", 404),
        ("post", "/console/triage/no-such-report", 422),
        ("post", "/console/users", 403),  # admins only
        ("post", "/account/language", 422),
        ("post", "/post/ack", 403),  # the post page is for post officers
        ("get", "/console/cases/no-such-case", 404),
        ("get", "/console/users", 403),
    ]


@pytest.fixture()
def cancelled(client_for: ClientFor, world: World) -> World:
    """The world after a blank form went through: its alert cancelled from the console."""
    answer = client_for("coordinator").post(f"/console/alerts/{world.alert_id}/cancel", data={})
    assert answer.status_code == 303, answer.text[:300]
    return world


def test_refusals_on_the_pages_are_html_for_any_accept(
    client_for: ClientFor, cancelled: World
) -> None:
    coordinator = client_for("coordinator")
    for method, url, status in _refusals(cancelled):
        data = {"language": "xx"} if url == "/account/language" else {}
        kwargs = {"data": data} if method == "post" else {}
        answer = coordinator.request(method, url, headers=ANY, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == status, (url, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html"), (url, answer.text[:300])


def test_a_client_naming_json_still_gets_the_problem(
    client_for: ClientFor, cancelled: World
) -> None:
    answer = client_for("coordinator").post(
        "/console/alerts/no-such-alert/cancel", headers={"Accept": "application/json"}
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_refusal_page_is_in_the_users_language(
    sqlite_engine: Engine, client_for: ClientFor, world: World
) -> None:
    with session_scope(sqlite_engine) as db:
        user = db.get(User, world.users["viewer"].id)
        assert user is not None
        user.language = "ko"
    answer = client_for("viewer").get("/console/users", headers={"Accept-Language": "en"})
    assert answer.status_code == 403
    assert answer.headers["content-language"] == "ko"
