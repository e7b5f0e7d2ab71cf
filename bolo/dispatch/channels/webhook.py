"""Signed webhooks (Standard Webhooks 1.0) over one pooled aiohttp keep-alive connector.

Every connection is guarded against SSRF at connect time, not only at registration: a host name
is resolved by ``GuardedResolver``, which refuses the whole name when any address it resolves to
is not public (``bolo.security.urls``), so a DNS answer that changes after registration (DNS
rebinding) cannot reach a private address; IP-literal hosts are checked before each send.
"""

from __future__ import annotations

import socket
import time
from functools import lru_cache
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bolo import clock
from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.policy import Outcome, classify_status, parse_retry_after
from bolo.dispatch.signing import sign_headers, signed_headers
from bolo.posts.channel_kinds import ChannelKind
from bolo.security.urls import UnsafeUrl, check_public_url, security_settings

MAX_ANSWER_BYTES = 64 * 1024
JSON_HEADERS = {"content-type": "application/json"}
# A signature made ahead (``Message.signature``) is used while its timestamp is at most this
# old (seconds); an older one is made again at send time, so a post always sees a recent
# webhook-timestamp (it refuses those more than 5 minutes away).
PRESIGNED_MAX_AGE_S = 30


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing (UnsafeUrl) a host when any of its addresses is not public
    or in the operator's allowed networks (``BOLO_SECURITY_ALLOW_NETWORKS``)."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self.inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The addresses of ``host``, all of them checked."""
        found = await self.inner.resolve(host, port, family)
        addresses = [str(r["host"]) for r in found]
        check_public_url(f"http://{host}:{port or 80}/", resolve=lambda _h, _p: addresses)
        return found

    async def close(self) -> None:
        """Release the inner resolver."""
        await self.inner.close()


@lru_cache(maxsize=4096)
def _literal_guard(scheme: str, netloc: str, allowed: str) -> str | None:
    """The refusal reason for an IP-literal host aiohttp would connect to without resolving,
    None when the host is a public literal or a name (names are checked by the resolver).
    ``allowed`` (the operator's allowed networks) is only part of the cache key."""
    host = urlsplit(f"{scheme}://{netloc}/").hostname or ""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return None
    try:
        check_public_url(f"{scheme}://{netloc}/", resolve=lambda _h, _p: [host])
    except UnsafeUrl as exc:
        return str(exc)
    return None


def check_send_url(url: str) -> URL:
    """The parsed webhook URL; UnsafeUrl when its scheme is not http(s), it carries
    credentials, or its host is an IP literal that is not public (host names are checked when
    resolved at connect time); ValueError when it cannot be parsed."""
    # Parsed once, here: the same URL object is handed to aiohttp, which would otherwise
    # parse the string again on every request.
    parsed = URL(url)
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl(f"scheme {parsed.scheme!r} not allowed for webhooks")
    if parsed.raw_user or parsed.raw_password:
        raise UnsafeUrl("credentials in the URL are not allowed")
    reason = _literal_guard(parsed.scheme, parsed.raw_authority, security_settings().allow_networks)
    if reason is not None:
        raise UnsafeUrl(reason)
    return parsed


def _failed(outcome: Outcome, error: str, started: float) -> SendResult:
    """A send that got no HTTP answer, timed from ``started`` (``time.perf_counter``)."""
    return SendResult(outcome, error=error, duration_s=time.perf_counter() - started)


class WebhookChannel:
    """POSTs the thin JSON payload, signed with the post's key(s), over one pooled session
    (keep-alive, at most ``max_connections`` connections, redirects not followed)."""

    kind = ChannelKind.WEBHOOK

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        max_connections: int = 200,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_connections = max_connections
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The pooled session, created on first use inside the running loop."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections,
                limit_per_host=0,
                keepalive_timeout=30,
                resolver=self._resolver or GuardedResolver(),
            )
            # No cookie jar (a post's cookies are no business of the others on its host) and
            # no Accept/Accept-Encoding/User-Agent headers (the answer's body is unused): less work
            # per request on both sides.
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeout,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            )
        return self._session

    async def send(self, message: Message) -> SendResult:
        """One signed POST; timeouts and connection errors come back as RETRY, a URL the SSRF
        guard refuses as PERMANENT."""
        started = time.perf_counter()
        if not message.keys:
            return SendResult(
                Outcome.PERMANENT,
                error="no usable signing key for this post (a whsec_ or whsk_ secret is needed)",
            )
        now = int(clock.now().timestamp())
        if message.signature and 0 <= now - message.signed_at <= PRESIGNED_MAX_AGE_S:
            headers = signed_headers(message.msg_id, message.signed_at, message.signature)
        else:
            try:
                headers = sign_headers(
                    msg_id=message.msg_id, timestamp=now, body=message.body, keys=message.keys
                )
            except ValueError as exc:
                return SendResult(Outcome.PERMANENT, error=f"cannot sign: {exc}")
        headers.update(JSON_HEADERS)
        try:
            url = check_send_url(message.url)
        except UnsafeUrl as exc:
            return _failed(Outcome.PERMANENT, f"unsafe url: {exc}", started)
        except ValueError as exc:
            return _failed(Outcome.PERMANENT, f"invalid url: {exc}", started)
        try:
            async with self.session().post(
                url, data=message.body, headers=headers, allow_redirects=False
            ) as response:
                # Read a bounded answer (nothing uses it): an endpoint sending gigabytes
                # cannot make the dispatcher hold them; a longer one just loses keep-alive.
                await response.content.read(MAX_ANSWER_BYTES)
                status = response.status
                retry_header = response.headers.get("retry-after")
        except UnsafeUrl as exc:
            return _failed(Outcome.PERMANENT, f"unsafe url: {exc}", started)
        except TimeoutError as exc:
            return _failed(Outcome.RETRY, f"timeout: {exc!r}", started)
        except (aiohttp.ClientError, OSError) as exc:
            return _failed(Outcome.RETRY, f"transport: {exc!r}", started)
        outcome = classify_status(status)
        if outcome is Outcome.DELIVERED:
            # The common case: no Retry-After to read, no error text to format.
            return SendResult(outcome, status_code=status, duration_s=time.perf_counter() - started)
        retry_after = parse_retry_after(retry_header, now=clock.now()) if retry_header else None
        if retry_after is not None and outcome is Outcome.RETRY:
            outcome = Outcome.SLOW_DOWN
        return SendResult(
            outcome,
            status_code=status,
            error=f"HTTP {status}",
            retry_after_s=retry_after,
            duration_s=time.perf_counter() - started,
        )

    def destination(self, message: Message) -> str:
        """Rate-limit key: scheme://host:port of the endpoint."""
        parts = urlsplit(message.url)
        return f"{parts.scheme}://{parts.netloc}"

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
