"""Apprise URLs and the SSRF guard: an allow-list of schemes, the named host (an SMTP server
too) checked at registration, and every name Apprise resolves while sending checked as it is
resolved (a loopback listener must see nothing, a redirect to a private host is not followed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.dispatch.channels import Message
from bolo.dispatch.channels.apprise_channel import AppriseChannel
from bolo.dispatch.policy import Outcome
from bolo.errors import InvalidInput
from bolo.posts.model import Post
from bolo.security.urls import UnsafeUrl, check_channel_url, networks_allowed
from bolo.store.db import session_scope

PUBLIC = "93.184.216.34"


def _public(_host: str, _port: int) -> list[str]:
    return [PUBLIC]


class _Listener:
    """A loopback HTTP server counting requests; ``redirect`` makes it answer 307 there."""

    def __init__(self, host: str = "127.0.0.1", redirect: str = "") -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                outer.hits.append(self.path)
                if redirect:
                    self.send_response(307)
                    self.send_header("location", redirect)
                else:
                    self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            do_POST = do_GET = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    server = _Listener()
    yield server
    server.close()


def _message(url: str) -> Message:
    return Message(msg_id="d-1", post_id="p1", url=url, body=b"{}", title="Alert", text="text")


@pytest.mark.parametrize(
    "url",
    [
        "ntfy://127.0.0.1/topic",
        "ntfys://[::1]/topic",
        "gotify://169.254.169.254/token",
        "mmost://10.0.0.5/token",
        "mailto://user:pass@example.com?smtp=127.0.0.1",
        "mailtos://user:pass@example.com?smtp=[::ffff:10.0.0.1]",
        "json://2130706433/x",
        "matrix://user:pass@192.168.1.10/!room",
    ],
)
def test_host_naming_apprise_urls_to_private_hosts_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        check_channel_url("apprise", url)
    assert "non-public" in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "rsyslog://127.0.0.1",
        "syslog://",
        "file:///etc/passwd",
        "mqtt://127.0.0.1/topic",
        "kodi://127.0.0.1",
        "amqp://10.0.0.1/q",
        "windows://",
        "dbus://",
        "nothing-here",
    ],
)
def test_apprise_schemes_outside_the_allow_list_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="not allowed"):
        check_channel_url("apprise", url)


def test_allowed_apprise_urls_pass_and_unreadable_ones_are_invalid() -> None:
    check_channel_url("apprise", "tgram://123456789:abcdefg_hijklmnop/12315544/")
    check_channel_url("apprise", "ntfy://mytopic")  # ntfy.sh's own topics name no host
    check_channel_url("apprise", f"json://{PUBLIC}/x")
    # The SMTP server is what is checked for e-mail, not the address's domain.
    check_channel_url(
        "apprise", "mailto://user:pass@example.com?smtp=mail.example.org", resolve=_public
    )
    with pytest.raises(UnsafeUrl):
        check_channel_url(
            "apprise",
            "mailto://user:pass@example.com?smtp=mail.example.org",
            resolve=lambda _h, _p: [PUBLIC, "127.0.0.1"],
        )
    with pytest.raises(InvalidInput):
        check_channel_url("apprise", "tgram://bot/chat")


def test_registration_refuses_a_private_apprise_host(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="ri", role=Role.COORDINATOR, actor=None)
        headers = {"Authorization": f"Bearer {issue_token(db, user_id=user.id, actor=None)}"}
    client = TestClient(create_app(timers=False))
    post = {
        "id": "cp-1",
        "kind": "checkpoint",
        "name": "Checkpoint 1",
        "lat": 40.0,
        "lon": 127.0,
        "channels": [{"kind": "apprise", "url": "ntfy://127.0.0.1/alerts"}],
    }
    answer = client.put("/api/v1/posts/cp-1", json=post, headers=headers)
    assert answer.status_code == 403 and "non-public" in answer.text
    assert "127.0.0.1" not in answer.json()["detail"].replace("'127.0.0.1'", "")
    post["channels"] = [{"kind": "apprise", "url": "rsyslog://127.0.0.1"}]
    assert client.put("/api/v1/posts/cp-1", json=post, headers=headers).status_code == 403
    with session_scope(sqlite_engine) as db:
        assert db.get(Post, "cp-1") is None


async def test_a_send_to_a_loopback_apprise_host_never_reaches_it(listener: _Listener) -> None:
    url = f"ntfy://127.0.0.1:{listener.port}/alerts"
    result = await AppriseChannel().send(_message(url))
    assert result.outcome is Outcome.PERMANENT and "unsafe url" in (result.error or "")
    assert listener.hits == []
    # The same send where the operator allowed loopback does arrive: the test can see a hit.
    with networks_allowed("127.0.0.1/32"):
        assert (await AppriseChannel().send(_message(url))).outcome is Outcome.SENT
    assert len(listener.hits) == 1


async def test_a_name_that_resolves_to_loopback_at_send_time_is_not_reached(
    listener: _Listener,
) -> None:
    # "localhost" stands for a name that resolved to a public address at registration and
    # to loopback now (DNS rebinding): the resolution Apprise uses is the one checked.
    result = await AppriseChannel().send(_message(f"json://localhost:{listener.port}/hook"))
    assert result.outcome is Outcome.PERMANENT and "unsafe url" in (result.error or "")
    assert listener.hits == []


async def test_an_smtp_server_on_loopback_is_not_connected_to() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        url = (
            f"mailto://user:pass@example.com?smtp=127.0.0.1&port={port}"
            "&from=bolo@example.com&to=duty@example.com"
        )
        result = await AppriseChannel().send(_message(url))
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()
    assert result.outcome is Outcome.PERMANENT and "unsafe url" in (result.error or "")


async def test_a_redirect_to_a_host_outside_the_allowed_networks_is_not_followed() -> None:
    inner = _Listener("127.0.0.2")
    outer = _Listener(redirect=f"http://127.0.0.2:{inner.port}/internal")
    try:
        with networks_allowed("127.0.0.1/32"):
            result = await AppriseChannel().send(_message(f"json://127.0.0.1:{outer.port}/h"))
    finally:
        outer.close()
        inner.close()
    assert outer.hits == ["/h"]
    assert inner.hits == []
    assert result.outcome is Outcome.PERMANENT and "unsafe url" in (result.error or "")
