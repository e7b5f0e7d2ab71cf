"""The live-update stream ends with its session (a real server)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.seed import Cast

pytestmark = pytest.mark.e2e
HTML = {"Accept": "text/html"}


def test_the_stream_ends_when_its_session_ends(server: str, cast: Cast) -> None:
    who = cast.coordinator
    with httpx.Client(base_url=server, headers=HTML, timeout=httpx.Timeout(30, read=8)) as client:
        answer = client.post("/login", data={"username": who.username, "password": who.password})
        assert answer.status_code == 303, answer.text
        _stream_ends_at_logout(server, client)


def _stream_ends_at_logout(server: str, client: httpx.Client) -> None:
    with client.stream("GET", "/console/events") as stream:
        lines = stream.iter_lines()
        assert next(lines) == "retry: 3000" and next(lines) == "event: hello"
        csrf = httpx.get(f"{server}/console", cookies=client.cookies, headers=HTML).text
        token = csrf.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        out = httpx.post(
            f"{server}/logout", data={"csrf_token": token}, cookies=client.cookies, headers=HTML
        )
        assert out.status_code in (200, 303)
        started, events_seen = time.monotonic(), []
        for line in lines:
            if line.startswith("event:"):
                events_seen.append(line)
            if line == "event: ended":
                break
            assert time.monotonic() - started < 6, events_seen
        assert "event: ended" in events_seen
        assert list(lines) in ([], ["data: {}", ""], ["data: {}"])  # and the stream closed
