"""A small asyncio HTTP/1.1 server for ``bolo post-receiver`` (and the benchmarks).

Requests are parsed by httptools (llhttp, as uvicorn's): anything malformed or ambiguous
answers 400 and closes the connection. Keep-alive, Content-Length bodies only (chunked
requests get 411). POST any path: verify, de-duplicate, answer 204 (a duplicate is also 204,
so the sender stops retrying), 401 for a bad signature or stale timestamp, 404 for a post it
has no key for. GET /_stats gives counts; GET /_arrivals the first arrival time (Unix seconds)
of every webhook-id when arrivals are recorded. ``BackgroundReceiver`` serves on its own event
loop thread (the reference replay).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

import httptools

from bolo.dispatch.receiver.verify import Deduper
from bolo.dispatch.signing import SYMMETRIC_PREFIX, Key, WebhookVerificationError, verify

log = logging.getLogger(__name__)
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    411: "Length Required",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
}

KeyResolver = Callable[[str], Sequence[Key]]
OnMessage = Callable[[str, bytes], None]
Clock = Callable[[], datetime]
STOP_TIMEOUT_S = 5.0


class UnknownPost(LookupError):
    """Raised by a ``keys_for`` that has no key for the post: the request is answered 404."""


class Handler(Protocol):
    """What ``serve`` hands every request to (a ReceiverApp, or a router in front of several)."""

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        """Answer one request: (status, JSON body or empty)."""
        ...


def derived_secret(master: str, post_id: str) -> str:
    """A per-post secret derived from a master string (benchmarks give every post its own)."""
    raw = hmac.new(master.encode(), post_id.encode(), hashlib.sha256).digest()[:24]
    return SYMMETRIC_PREFIX + base64.b64encode(raw).decode()


@dataclass
class ReceiverApp:
    """What the server does with a request; counts everything it sees.

    ``keys_for(post_id)`` gives the post's keys (the post id is the last path part; raise
    UnknownPost for 404). ``clock`` is what the +-5 minute timestamp window is checked against
    (default: bolo's clock). ``accept`` is called once per new verified message.
    """

    keys_for: KeyResolver
    deduper: Deduper = field(default_factory=Deduper)
    record_arrivals: bool = False
    on_message: OnMessage | None = None
    clock: Clock | None = None
    received: int = 0
    unique: int = 0
    duplicates: int = 0
    rejected: int = 0
    arrivals: dict[str, float] = field(default_factory=dict)

    def stats(self) -> dict[str, int]:
        """Counts so far."""
        return {
            "received": self.received,
            "unique": self.unique,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        """Answer one request: (status, JSON body or empty)."""
        if method == "GET" and path == "/_stats":
            return 200, json.dumps(self.stats()).encode()
        if method == "GET" and path == "/_arrivals":
            return 200, json.dumps(self.arrivals).encode()
        if method != "POST":
            return 404, b""
        self.received += 1
        post_id = path.rstrip("/").rsplit("/", 1)[-1]
        try:
            msg_id = verify(
                body,
                headers,
                self.keys_for(post_id),
                now=None if self.clock is None else self.clock(),
            )
        except UnknownPost as exc:
            return self._refuse(404, str(exc))
        except WebhookVerificationError as exc:
            return self._refuse(401, str(exc))
        if not self.deduper.check_and_add(msg_id):
            self.duplicates += 1
            return 204, b""
        arrived = time.time() if self.record_arrivals else 0.0
        try:
            self.accept(post_id, msg_id, body)
        except ValueError as exc:
            self.deduper.forget(msg_id)  # refused, not kept: the same id sent again is new
            return self._refuse(400, str(exc))
        self.unique += 1
        if self.record_arrivals:
            self.arrivals[msg_id] = arrived
        return 204, b""

    def accept(self, post_id: str, msg_id: str, body: bytes) -> None:
        """A new, verified message for ``post_id``: hand it to ``on_message``. A subclass may
        take it further; raising ValueError refuses the body (400, counted as rejected)."""
        if self.on_message is not None:
            self.on_message(msg_id, body)

    def _refuse(self, status: int, reason: str) -> tuple[int, bytes]:
        self.rejected += 1
        return status, json.dumps({"error": reason}).encode()


class _Refused(Exception):
    """A request answered with ``status`` and the connection closed."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# Headers a request may carry once: two of them (two bodies' lengths, two signatures, two
# hosts) mean a client or an intermediary disagrees about the request (smuggling).
SINGLE_HEADERS = frozenset(
    {
        b"content-length",
        b"transfer-encoding",
        b"host",
        b"content-type",
        b"webhook-id",
        b"webhook-timestamp",
        b"webhook-signature",
    }
)


class _Connection(asyncio.Protocol):
    """One client connection, parsed by httptools (llhttp, as uvicorn uses): a malformed
    request line or header, a Content-Length that is not one plain decimal number, two
    Content-Lengths, Content-Length beside Transfer-Encoding... answer 400 and close; chunked
    bodies 411, too large a head 431 or body 413, each closing the connection."""

    def __init__(self, app: Handler) -> None:
        self.app = app
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.head_size = 0
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.body_size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def _respond(self, status: int, body: bytes, *, close: bool = False) -> None:
        assert self.transport is not None
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
            f"content-length: {len(body)}\r\ncontent-type: application/json\r\n"
            f"{'connection: close' if close else 'connection: keep-alive'}\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        if close:
            self.transport.close()

    # httptools callbacks: raising _Refused aborts the parse (see data_received).
    def on_message_begin(self) -> None:
        self._reset()

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        key = name.lower()
        text = key.decode("latin-1")
        if text in self.headers:
            if key in SINGLE_HEADERS:
                raise _Refused(400)
            self.headers[text] += ", " + value.decode("latin-1")
        else:
            self.headers[text] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        if "transfer-encoding" in self.headers:
            raise _Refused(411)
        # llhttp has checked it is one plain decimal number.
        if int(self.headers.get("content-length", "0")) > MAX_BODY:
            raise _Refused(413)

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > MAX_BODY:
            raise _Refused(413)
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return  # a request pipelined behind one that closed the connection
        method = self.parser.get_method().decode("latin-1")
        target = self.url.decode("latin-1").split("?", 1)[0]
        status, answer = self.app.handle(method, target, self.headers, b"".join(self.body))
        self._respond(status, answer, close=not self.parser.should_keep_alive())

    def _count_head(self, size: int) -> None:
        self.head_size += size
        if self.head_size > MAX_HEAD:
            raise _Refused(431)

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            refused = exc.__context__
            if not isinstance(refused, _Refused):
                log.error("post-receiver: the handler failed", exc_info=refused)
            self._respond(refused.status if isinstance(refused, _Refused) else 500, b"", close=True)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._respond(400, b"", close=True)


async def serve(app: Handler, host: str, port: int) -> asyncio.Server:
    """Start listening; the caller owns the returned server."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(app), host, port, backlog=2048)


def run_forever(
    app: ReceiverApp, host: str, port: int, ready: Callable[[int], Any] | None = None
) -> None:
    """Serve until interrupted; ``ready`` is called with the bound port."""

    async def main() -> None:
        server = await serve(app, host, port)
        bound = server.sockets[0].getsockname()[1]
        if ready is not None:
            ready(bound)
        async with server:
            await server.serve_forever()

    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows): the default loop also works
        asyncio.run(main())
    else:
        uvloop.run(main())


class BackgroundReceiver:
    """``serve(app)`` on its own event loop in a daemon thread, for a caller that is not async
    (the reference replay): ``start()`` returns the bound port, ``stop()`` closes the server."""

    def __init__(self, app: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app, self.host, self.port = app, host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="post-receiver", daemon=True
        )
        self._server: asyncio.Server | None = None

    def start(self) -> int:
        """Listen; return the bound TCP port (the one asked for, or a free one for 0)."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(serve(self.app, self.host, self.port), self._loop)
        self._server = future.result(timeout=STOP_TIMEOUT_S)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def stop(self) -> None:
        """Stop listening, end the loop and its thread (waits at most 5 s for each)."""
        server = self._server
        if server is not None:

            async def close() -> None:
                server.close()
                await server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=STOP_TIMEOUT_S)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=STOP_TIMEOUT_S)
        self._loop.close()
