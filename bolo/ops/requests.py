"""ASGI middleware of every request: a request id (the caller's ``X-Request-ID`` when it is
sane, else a new one) bound to every log line of the request and returned as a header; the
access log line (path without its query string, so ack tokens and other query secrets never
reach the log); request and tip metrics by route template."""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import structlog

from bolo.ops.metrics import HTTP_LATENCY, HTTP_REQUESTS, TIPS, tip_result

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
# The public tip intake (JSON API and the HTML form): counted as accepted / refused / 429.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
TIP_ROUTES = frozenset({("POST", "/api/v1/public/tips"), ("POST", "/tips/new")})
# A standard-library logger: silent until a process sets logging up (bolo.ops.logs), which
# renders the extra fields and the bound request id like every other line.
access_log = logging.getLogger("bolo.access")


# The labelled children, looked up once per label set (labels() validates and locks each
# time; routes, methods and statuses are few, so the caches stay small).
@functools.cache
def _counted(method: str, route: str, status: int) -> Any:
    return HTTP_REQUESTS.labels(method, route, str(status))


@functools.cache
def _timed(method: str, route: str) -> Any:
    return HTTP_LATENCY.labels(method, route)


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-ID when it is short and plain, else a fresh random id."""
    for key, value in scope.get("headers", ()):
        if key == REQUEST_ID_HEADER and _SANE_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return os.urandom(12).hex()


def route_of(scope: Scope) -> str:
    """The matched route's path template (``/alerts/{alert_id}``), never the raw path, so
    metrics keep a bounded set of labels; "unmatched" for a 404 outside every route."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


@dataclass
class RequestMiddleware:
    """Wraps the application: request id, access log, metrics."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request through the app, recording what it took."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, rid.encode("ascii")),
                ]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            structlog.contextvars.reset_contextvars(**tokens)

    @staticmethod
    def _record(scope: Scope, status: int, elapsed_s: float) -> None:
        method, route = str(scope.get("method", "")), route_of(scope)
        if method not in METHODS:  # the client names the method: keep the label set bounded
            method = "other"
        _counted(method, route, status).inc()
        _timed(method, route).observe(elapsed_s)
        if (method, route) in TIP_ROUTES:
            TIPS.labels(tip_result(status)).inc()
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "http.request",
                extra={
                    "method": method,
                    "path": str(scope.get("path", "")),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed_s * 1000, 1),
                },
            )
