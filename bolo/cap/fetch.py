"""Fetching CAP from a URL for import, guarded against SSRF and oversized answers."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from urllib.parse import urljoin, urlsplit

import httpx

from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES

MAX_REDIRECTS = 3
TIMEOUT_S = 10.0


class FetchError(Exception):
    """A URL was refused (scheme, private address, size) or could not be fetched."""


def check_url(url: str, *, allow_private: bool = False) -> str:
    """Refuse non-http(s) URLs and hosts resolving to private, loopback, link-local or other
    non-global addresses (unless `allow_private`); return the checked address to connect to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"only http and https URLs with a host are allowed: {url!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if not address.is_global and not allow_private:
            raise FetchError(f"{parts.hostname} resolves to non-public address {address}")
    if not addresses:
        raise FetchError(f"cannot resolve {parts.hostname}")
    return str(addresses[0])


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL aimed at the checked `address`, with the Host header and TLS server name of the
    original host: a second DNS answer (rebinding) cannot redirect the request."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    headers = {"Accept": "application/cap+xml", "Host": parts.netloc.rpartition("@")[2]}
    return parts._replace(netloc=netloc).geturl(), headers, {"sni_hostname": host}


def fetch_cap(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = TIMEOUT_S,
) -> bytes:
    """GET `url` and return at most `max_bytes` bytes of body; stop reading beyond that.

    Each redirect is checked like the first URL (at most 3); the connection goes to the address
    that was checked. Timeout in seconds.
    """
    for _ in range(MAX_REDIRECTS + 1):
        target, headers, extensions = _pinned(url, check_url(url, allow_private=allow_private))
        # The system's trust store (it honours SSL_CERT_FILE), not certifi's; no proxies, which
        # would undo the address pinning.
        tls = ssl.create_default_context()
        with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False,
                          verify=tls) as client:
            try:
                with client.stream("GET", target, headers=headers, extensions=extensions) as r:
                    if r.is_redirect and "location" in r.headers:
                        url = urljoin(url, r.headers["location"])
                        continue
                    if r.status_code != 200:
                        raise FetchError(f"HTTP {r.status_code} from {url}")
                    return _read_limited(r, max_bytes)
            except httpx.HTTPError as exc:
                raise FetchError(f"fetch failed: {exc}") from exc
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"too large: {declared} bytes > limit {max_bytes}")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"too large: more than {max_bytes} bytes")
    return bytes(body)
