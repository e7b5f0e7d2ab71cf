"""A browser that hits an error on a page gets a readable HTML page; the API keeps its JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user
from bolo.posts.model import Post
from bolo.store.db import session_scope

HTML = {"Accept": "text/html,application/xhtml+xml"}
PASSWORD = "correct horse battery staple 7"


@pytest.fixture()
def client(sqlite_engine: Engine) -> TestClient:
    with session_scope(sqlite_engine) as db:
        db.add(Post(id="gate-1", kind="police", name="Gate 1", lat=39.0, lon=125.7))
        db.flush()
        create_user(
            db,
            username="officer",
            role=Role.POST_OFFICER,
            post_id="gate-1",
            password=PASSWORD,
            actor=None,
        )
        create_user(db, username="viewer", role=Role.VIEWER, password=PASSWORD, actor=None)
    return TestClient(create_app(timers=False), headers=HTML)


def _sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def test_forbidden_console_page_is_html_with_the_reason(client: TestClient) -> None:
    _sign_in(client, "officer")
    answer = client.get("/console")
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "You may not do this" in answer.text
    assert 'href="/console"' in answer.text


def test_unknown_case_page_is_an_html_404(client: TestClient) -> None:
    _sign_in(client, "viewer")
    answer = client.get("/console/cases/no-such-case")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "There is nothing here" in answer.text


def test_unknown_page_is_an_html_404_and_unknown_api_path_json(client: TestClient) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404 and api.json()["detail"] == "Not Found"
    assert api.headers["content-type"] == "application/problem+json"


def test_message_is_escaped(client: TestClient) -> None:
    answer = client.get("/<script>alert(1)</script>")
    assert answer.status_code == 404
    assert "<script>alert(1)</script>" not in answer.text


def test_sign_in_redirect_is_kept(client: TestClient) -> None:
    answer = client.get("/console", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/console")


def test_api_errors_stay_json_even_for_a_browser(client: TestClient) -> None:
    answer = client.get("/api/v1/cases")
    assert answer.status_code == 401
    assert "Bearer" in answer.json()["detail"]


def test_one_accept_test_decides_html_for_the_sign_in_redirect_and_the_error_pages(
    client: TestClient,
) -> None:
    # wants_page builds on auth's wants_html: a JSON client of a page gets no HTML and no
    # redirect; a browser does, on any web route, even one answering JSON (map.json).
    from bolo.auth import deps
    from bolo.web import errors

    assert errors.wants_html is deps.wants_html
    as_json = client.get("/console", headers={"Accept": "application/json"}, follow_redirects=False)
    assert as_json.status_code == 401 and "detail" in as_json.json()
    map_json = client.get("/console/cases/c1/map.json", follow_redirects=False)
    assert map_json.status_code == 303
    assert map_json.headers["location"] == "/login?next=/console/cases/c1/map.json"
    missing = client.get("/console/no-such-page.json")
    assert missing.status_code == 404 and missing.json()["detail"] == "Not Found"
