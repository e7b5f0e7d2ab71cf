"""Fetching CAP from a URL for import, guarded against SSRF and oversized answers.

The SSRF guard is passed in (``install_url_guard``), as the import store is: this package
imports nothing from ``bolo.security``, whose ``fetchguard.install()`` installs its guard (the
``bolo`` command does at start). Until one is installed nothing is fetched.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES

MAX_REDIRECTS = 3
TIMEOUT_S = 10.0


class FetchError(Exception):
    """A URL was refused (scheme, private address, size) or could not be fetched."""


class UrlGuard(Protocol):
    """An SSRF guard: ``guard(url, allow_private=...)`` returns the checked address to connect
    to, or raises FetchError saying why the URL is refused."""

    def __call__(self, url: str, *, allow_private: bool) -> str:
        """The address to connect to for ``url``, or FetchError."""
        ...


def _no_guard(url: str, *, allow_private: bool) -> str:
    raise FetchError(f"no URL guard is installed, so nothing is fetched: {url}")


_guard: UrlGuard = _no_guard


def install_url_guard(guard: UrlGuard) -> None:
    """Check every URL fetched from now on (redirects included) with ``guard``, for the whole
    process (``bolo.security.fetchguard.install`` installs bolo's)."""
    global _guard
    _guard = guard


def check_url(url: str, *, allow_private: bool = False) -> str:
    """The installed guard's answer for ``url``: the checked address to connect to, or
    FetchError (bolo's guard refuses non-http(s) URLs, credentials in the URL and hosts
    resolving to any non-public address unless ``allow_private``); FetchError for every URL
    while no guard is installed."""
    return _guard(url, allow_private=allow_private)


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL aimed at the checked `address`, with the Host header and TLS server name of the
    original host: a second DNS answer (rebinding) cannot redirect the request."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    headers = {"Accept": "application/cap+xml", "Host": parts.netloc.rpartition("@")[2]}
    return parts._replace(netloc=netloc).geturl(), headers, {"sni_hostname": host}


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched resource: `status` 200 with `body`, or 304 (unchanged, empty body); the
    validators to send next time (`etag`, `last_modified`, as the server wrote them); `url`,
    where it came from after redirects (the base of its relative links)."""

    status: int
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    url: str = ""


def fetch(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = TIMEOUT_S,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = "application/cap+xml",
) -> Fetched:
    """Conditional GET of `url` (If-None-Match `etag`, If-Modified-Since `last_modified`):
    at most `max_bytes` bytes of body, reading stops beyond that.

    Each redirect is checked like the first URL (at most 3); the connection goes to the address
    that was checked. `timeout_s` (seconds) bounds each connect and read, and the whole answer
    (redirects included) may take at most twice that: a server that trickles its body is cut
    off. Any status but 200 and 304, an unreadable URL or a timeout raises FetchError.
    """
    deadline = time.monotonic() + 2 * timeout_s
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target, headers, extensions = _pinned(url, check_url(url, allow_private=allow_private))
        except ValueError as exc:  # a port out of range, an unclosed IPv6 bracket, ...
            raise FetchError(f"unreadable URL {url!r}: {exc}") from None
        headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        # The system's trust store (it honours SSL_CERT_FILE), not certifi's; no proxies, which
        # would undo the address pinning.
        tls = ssl.create_default_context()
        with httpx.Client(
            timeout=timeout_s, follow_redirects=False, trust_env=False, verify=tls
        ) as client:
            try:
                with client.stream("GET", target, headers=headers, extensions=extensions) as r:
                    if r.is_redirect and "location" in r.headers:
                        url = urljoin(url, r.headers["location"])
                        continue
                    if r.status_code not in (200, 304):
                        raise FetchError(f"HTTP {r.status_code} from {url}")
                    body = _read_limited(r, max_bytes, deadline) if r.status_code == 200 else b""
                    return Fetched(
                        r.status_code,
                        body,
                        r.headers.get("etag"),
                        r.headers.get("last-modified"),
                        url,
                    )
            except httpx.TimeoutException:
                raise FetchError(f"timed out after {timeout_s:g} s: {url}") from None
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                raise FetchError(f"fetch failed: {exc}") from exc
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def fetch_cap(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = TIMEOUT_S,
) -> bytes:
    """GET `url` (unconditionally) and return at most `max_bytes` bytes of body (`fetch`)."""
    return fetch(url, allow_private=allow_private, max_bytes=max_bytes, timeout_s=timeout_s).body


def _read_limited(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"too large: {declared} bytes > limit {max_bytes}")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"too large: more than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError("too slow: the body was still arriving past the time limit")
    return bytes(body)
