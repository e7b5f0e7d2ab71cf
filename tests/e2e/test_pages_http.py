"""The web pages' guards over plain HTTP (no browser): sign-in, roles, CSRF, static files, SSE."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.e2e.seed import Cast, Login

pytestmark = pytest.mark.e2e
HTML = {"Accept": "text/html"}


@contextmanager
def signed_in(server: str, who: Login) -> Iterator[httpx.Client]:
    """A client holding a session cookie of ``who``."""
    with httpx.Client(base_url=server, headers=HTML, timeout=30) as client:
        answer = client.post("/login", data={"username": who.username, "password": who.password})
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(client: httpx.Client, path: str) -> str:
    """The CSRF token in the forms of ``path``."""
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def test_console_needs_a_session(server: str) -> None:
    answer = httpx.get(f"{server}/console", headers=HTML)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/console")


def test_wrong_password_is_refused(server: str, cast: Cast) -> None:
    answer = httpx.post(
        f"{server}/login",
        headers=HTML,
        data={"username": cast.approver.username, "password": "not-the-password"},
    )
    assert answer.status_code == 401
    assert "bolo_session" not in answer.headers.get("set-cookie", "")


def test_forms_refuse_a_missing_or_wrong_csrf_token(server: str, cast: Cast) -> None:
    with signed_in(server, cast.coordinator) as client:
        good = csrf_of(client, "/console/cases/new")
        form = {
            "child_name": "Test",
            "lat": "39.2",
            "lon": "126.2",
            "time_earliest": "2020-01-01T10:00",
            "time_latest": "2020-01-01T11:00",
        }
        assert client.post("/console/cases", data=form).status_code == 403
        assert (
            client.post("/console/cases", data={**form, "csrf_token": "0" * 64}).status_code == 403
        )
        opened = client.post("/console/cases", data={**form, "csrf_token": good})
        assert opened.status_code == 303
        assert re.fullmatch(r"/console/cases/[0-9a-f-]{36}", opened.headers["location"])


def test_post_officer_is_kept_out_of_the_console(server: str, cast: Cast) -> None:
    with signed_in(server, cast.officer) as client:
        assert client.get("/console").status_code == 403
        assert client.get("/post").status_code == 200


def test_static_files_stay_inside_their_folder(server: str) -> None:
    assert httpx.get(f"{server}/static/vendor/leaflet/leaflet.js").status_code == 200
    for path in ("/static/../routes.py", "/static/%2e%2e/routes.py", "/static/nope.js"):
        assert httpx.get(f"{server}{path}").status_code == 404


def test_event_stream_greets_then_reports_changes(server: str, cast: Cast) -> None:
    with (
        signed_in(server, cast.coordinator) as client,
        client.stream("GET", "/console/events") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "retry: 3000"
        assert next(lines) == "event: hello"
        # Any audited change (here: another sign-in) must arrive as a change event.
        with signed_in(server, cast.approver):
            pass
        for line in lines:
            if line.startswith("event:"):
                assert line == "event: change"
                break


def test_unknown_public_alert_is_a_plain_404_page(server: str) -> None:
    answer = httpx.get(f"{server}/alerts/no-such-alert?lang=ko")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "경보를 찾을 수 없습니다" in answer.text
    cap = httpx.get(f"{server}/alerts/no-such-alert.cap")
    assert cap.status_code == 404 and cap.headers["content-type"] == "application/problem+json"
