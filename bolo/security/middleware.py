"""ASGI middleware: security headers, ``Cache-Control: no-store`` on personal data, and a
request body size limit (413) that also holds for chunked bodies without Content-Length."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException

from bolo.problems import PROBLEM_JSON, problem_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MIB = 1024 * 1024
DEFAULT_MAX_BODY = 1 * MIB
# Photo uploads of the public tip form: the reports domain enforces its own finer limits below
# this ceiling.
UPLOAD_PREFIXES: dict[str, int] = {
    "/api/v1/public/tips": 8 * MIB,
    "/tips/": 8 * MIB,
    "/api/v1/posts/import": 32 * MIB,
}
# A child's photo uploaded to a case (API and console); bolo.cases.photos allows 5 MiB of it.
UPLOAD_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"/api/v1/cases/[^/]+/children/[0-9]+/photo|/console/cases/[^/]+/photo"), 8 * MIB),
)
# Public, non-personal content that caches may keep for a minute.
PUBLIC_CACHEABLE = ("/feed/", "/static/", "/healthz", "/favicon.ico")

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(self), camera=(self), microphone=(), payment=()"),
)
DOCS_PATHS = ("/docs", "/redoc")


@dataclass
class SecurityMiddleware:
    """Wraps an ASGI app. ``max_body`` bytes for ordinary requests, ``upload_limits`` per path
    prefix; ``hsts`` adds Strict-Transport-Security (when served over https)."""

    app: ASGIApp
    max_body: int = DEFAULT_MAX_BODY
    upload_limits: dict[str, int] = field(default_factory=lambda: dict(UPLOAD_PREFIXES))
    hsts: bool = False

    def limit_for(self, path: str) -> int:
        """The body limit in bytes for a request path."""
        for prefix, limit in self.upload_limits.items():
            if path.startswith(prefix):
                return limit
        for pattern, limit in UPLOAD_PATTERNS:
            if pattern.fullmatch(path):
                return limit
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared size, count the streamed size, and add headers to the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        query = bytes(scope.get("query_string", b""))
        if "\x00" in path or b"%00" in query or b"\x00" in query:
            # No id, name or search bolo keeps can hold a NUL, and PostgreSQL refuses one in
            # any text: answer what is wrong instead of failing in the database.
            await _refuse(
                send, 422, "a NUL character (%00) is not accepted in a URL", self._headers(path, ())
            )
            return
        limit = self.limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(
                send, 413, f"request body larger than {limit} bytes", self._headers(path, ())
            )
            return
        seen = 0
        form = _is_urlencoded_form(scope)
        tail = b""

        async def counted_receive() -> Message:
            nonlocal seen, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > limit:
                    # An HTTPException passes through FastAPI's body parsing untouched and
                    # becomes the 413 answer.
                    raise HTTPException(413, f"request body larger than {limit} bytes")
                if form and (b"%00" in tail + chunk or b"\x00" in chunk):
                    raise HTTPException(422, "a NUL character (%00) is not accepted in a form")
                tail = chunk[-2:]
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = self._headers(path, message.get("headers", []))
                if message.get("status") == 405:
                    headers = _fix_allow(headers, scope)
                message["headers"] = headers
            await send(message)

        await self.app(scope, counted_receive, send_with_headers)

    def _headers(self, path: str, existing: Any) -> list[tuple[bytes, bytes]]:
        headers = [(bytes(k).lower(), bytes(v)) for k, v in existing]
        names = {k for k, _ in headers}
        for name, value in BASE_HEADERS:
            if name not in names:
                headers.append((name, value))
        if b"content-security-policy" not in names and not path.startswith(DOCS_PATHS):
            # Swagger UI loads its assets from a CDN; it gets no CSP rather than a broken page.
            headers.append((b"content-security-policy", CSP.encode()))
        if self.hsts:
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        public = path.startswith(PUBLIC_CACHEABLE) or _is_public_alert(path)
        if not public:
            headers = [(k, v) for k, v in headers if k not in (b"cache-control", b"pragma")]
            headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
        elif b"cache-control" not in names:
            headers.append((b"cache-control", b"public, max-age=60"))
        return headers


def _route_methods(app: Any, path: str) -> set[str]:
    """The methods of the most specific routes of ``app`` matching ``path``."""
    matches: list[tuple[int, set[str]]] = []
    pending = list(getattr(getattr(app, "router", None), "routes", []))
    while pending:
        route = pending.pop()
        if hasattr(route, "effective_candidates"):
            pending.extend(route.effective_candidates())
            continue
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            template = str(getattr(route, "path", ""))
            matches.append((template.count("{"), set(getattr(route, "methods", None) or ())))
    if not matches:
        return set()
    # The resource is the most specific template: /reports/sightings, not /reports/{id}.
    fewest = min(n for n, _ in matches)
    return set().union(*(m for n, m in matches if n == fewest))


def _fix_allow(headers: list[tuple[bytes, bytes]], scope: Scope) -> list[tuple[bytes, bytes]]:
    # Starlette's 405 names only the first route matching the path; with one route per method
    # (GET and PUT on /posts/{id}) the Allow header must list them all.
    methods = _route_methods(scope.get("app"), str(scope.get("path", "")))
    if not methods:
        return headers
    value = ", ".join(sorted(methods)).encode()
    return [(k, v) for k, v in headers if k != b"allow"] + [(b"allow", value)]


def _is_public_alert(path: str) -> bool:
    # /alerts and /alerts/{id}(.cap): public alert pages carry public fields only.
    return path == "/alerts" or (path.startswith("/alerts/") and path.count("/") == 2)


def _is_urlencoded_form(scope: Scope) -> bool:
    # Only URL-encoded forms: multipart bodies carry files, where NUL bytes are ordinary.
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).lower().startswith(b"application/x-www-form-urlencoded")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Answer ``status`` with a problem document saying ``detail`` and close, without calling
    the app."""
    body = problem_bytes(status, detail)
    headers = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
    headers += [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: Any, *, hsts: bool = False) -> None:
    """Harden a FastAPI ``app``: the middleware and an OpenAPI schema that documents every
    refusal. The strict input check is a route dependency (``bolo.auth.deps.strict_json_body``),
    which ``create_app`` adds, since for token routes it runs after authentication."""
    from bolo.security.openapi import install_openapi

    app.add_middleware(SecurityMiddleware, hsts=hsts)
    install_openapi(app)
