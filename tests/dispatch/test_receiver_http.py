"""The post-receiver's HTTP parsing, over raw sockets: a request it cannot read unambiguously
(negative, non-numeric or duplicate Content-Length, Content-Length beside Transfer-Encoding, a
broken request line or header) is answered 400 and the connection closed at once; it never
hangs, spins or raises. Well-formed keep-alive and pipelined requests keep working."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from bolo.dispatch.receiver.server import MAX_BODY, BackgroundReceiver, ReceiverApp
from bolo.dispatch.signing import HmacKey, new_secret, sign_headers

SECRET = new_secret()


@pytest.fixture
def receiver() -> Iterator[tuple[int, ReceiverApp]]:
    app = ReceiverApp(keys_for=lambda _post: [HmacKey(SECRET)])
    server = BackgroundReceiver(app)
    port = server.start()
    yield port, app
    server.stop()


def _exchange(port: int, raw: bytes, timeout_s: float = 3.0) -> tuple[bytes, bool]:
    """Send ``raw``; return everything answered and whether the server closed the connection
    (within ``timeout_s`` seconds)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
        conn.sendall(raw)
        answer = b""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                return answer, False
            if not chunk:
                return answer, True
            answer += chunk
        return answer, False


def _statuses(answer: bytes) -> list[int]:
    return [int(line.split()[1]) for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def _signed(msg_id: str = "msg-1") -> tuple[bytes, bytes]:
    body = json.dumps({"title": "x"}).encode()
    headers = sign_headers(
        msg_id=msg_id, timestamp=int(time.time()), body=body, keys=[HmacKey(SECRET)]
    )
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode(), body


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Length: -100000\r\n",
        b"Content-Length: abc\r\n",
        b"Content-Length: +2\r\n",
        b"Content-Length: 2, 2\r\n",
        b"Content-Length: 2\r\nContent-Length: 2\r\n",
        b"Content-Length: 2\r\nContent-Length: 3\r\n",
        b"Content-Length : 2\r\n",
        b"Content-Length: 99999999999999999999999999\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
        b"Content-Length: 2\r\n folded-continuation\r\n",
        b"X-Bad: a\x00b\r\nContent-Length: 2\r\n",
        b"Host: a\r\nHost: b\r\nContent-Length: 2\r\n",
    ],
)
def test_an_ambiguous_request_is_refused_400_and_closed(
    receiver: tuple[int, ReceiverApp], head: bytes
) -> None:
    port, app = receiver
    started = time.monotonic()
    answer, closed = _exchange(port, b"POST /hooks/p1 HTTP/1.1\r\n" + head + b"\r\nab")
    assert _statuses(answer) == [400] and closed
    assert time.monotonic() - started < 2.0
    assert app.received == 0  # nothing reached the handler


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"POST /x HTTP/1.1\nContent-Length: 2\n\nab",
        b"POST /x HTTP/9.9\r\nContent-Length: 0\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ],
)
def test_a_broken_request_line_is_refused(receiver: tuple[int, ReceiverApp], raw: bytes) -> None:
    answer, closed = _exchange(receiver[0], raw)
    assert _statuses(answer) == [400] and closed


def test_limits_answer_and_close(receiver: tuple[int, ReceiverApp]) -> None:
    port, _ = receiver
    big = f"POST /h/p1 HTTP/1.1\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode()
    assert _exchange(port, big) == (
        b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n"
        b"content-type: application/json\r\nconnection: close\r\n\r\n",
        True,
    )
    chunked = b"POST /h/p1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
    answer, closed = _exchange(port, chunked)
    assert _statuses(answer) == [411] and closed
    huge_head = b"POST /h/p1 HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n"
    answer, closed = _exchange(port, huge_head)
    assert _statuses(answer) == [431] and closed


def test_keep_alive_and_pipelined_requests_still_work(receiver: tuple[int, ReceiverApp]) -> None:
    port, app = receiver
    one_head, one_body = _signed("msg-1")
    two_head, two_body = _signed("msg-2")
    raw = (
        b"POST /hooks/p1 HTTP/1.1\r\nHost: r\r\n"
        + one_head
        + f"Content-Length: {len(one_body)}\r\n\r\n".encode()
        + one_body
        + b"POST /hooks/p1 HTTP/1.1\r\nHost: r\r\n"
        + two_head
        + f"Content-Length: {len(two_body)}\r\n\r\n".encode()
        + two_body
        + b"GET /_stats HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n"
    )
    answer, closed = _exchange(port, raw)
    assert _statuses(answer) == [204, 204, 200] and closed
    assert app.unique == 2 and app.rejected == 0
    # A request split across many small packets is read whole.
    three_head, three_body = _signed("msg-3")
    with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
        whole = (
            b"POST /hooks/p1 HTTP/1.1\r\n"
            + three_head
            + f"Content-Length: {len(three_body)}\r\n\r\n".encode()
            + three_body
        )
        for i in range(0, len(whole), 7):
            conn.sendall(whole[i : i + 7])
        assert _statuses(conn.recv(4096)) == [204]
    assert app.unique == 3
