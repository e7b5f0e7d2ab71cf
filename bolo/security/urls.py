"""SSRF guard: outgoing URLs (webhooks, CAP import, MQTT brokers) must point at public hosts.

A URL passes when its scheme is allowed and *every* address its host resolves to is a global
unicast address, or lies in a network the operator explicitly allowed
(``BOLO_SECURITY_ALLOW_NETWORKS``, e.g. ``127.0.0.0/8`` for a lab), or ``allow_private=True``.
The addresses checked are returned, so a caller can connect to exactly those (no DNS rebinding
between the check and the connection). ``networks_allowed(...)`` widens the allowed networks for
one block of code only (the reference replay's loopback receiver), never for the whole process.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bolo.errors import Forbidden

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

DEFAULT_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883, "mqtts": 8883, "ws": 80, "wss": 443}
MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Refused whatever ``is_global`` says: Python's table is wrong for these before 3.11.10
# (``::7f00:1`` is IPv4-compatible loopback; fec0::/10 site-local; 64:ff9b:1::/48 local-use
# NAT64, RFC 8215; ::ffff:0:0:0/96 SIIT IPv4-translated, RFC 2765), and a host could hide a
# private IPv4 address inside them.
_DENIED_V6 = tuple(
    ipaddress.ip_network(n) for n in ("::/96", "fec0::/10", "64:ff9b:1::/48", "::ffff:0:0:0/96")
)


class SecuritySettings(BaseSettings):
    """Operator switches of the guard (environment prefix ``BOLO_SECURITY_``)."""

    model_config = SettingsConfigDict(env_prefix="BOLO_SECURITY_", extra="ignore")

    allow_networks: str = Field(
        "",
        description="Comma-separated CIDRs that outgoing URLs may "
        "reach although not public (e.g. 127.0.0.0/8,10.1.0.0/16).",
    )

    def networks(self) -> tuple[IPNetwork, ...]:
        """The allowed networks, parsed."""
        return tuple(
            ipaddress.ip_network(n.strip(), strict=False)
            for n in self.allow_networks.split(",")
            if n.strip()
        )


@lru_cache(maxsize=1)
def _environment_settings() -> SecuritySettings:
    return SecuritySettings()


# Set by networks_allowed: a context variable, so the widening is seen only by the code that
# entered the block (its thread, and the asyncio tasks and to_thread calls started from it).
_scoped: ContextVar[SecuritySettings | None] = ContextVar("bolo_security_scoped", default=None)


class _SecuritySettingsSource:
    """``security_settings()``: the guard settings in force here (see ``__call__``)."""

    def __call__(self) -> SecuritySettings:
        """Inside ``networks_allowed`` the widened settings; elsewhere the process-wide ones,
        read once from the environment (``security_settings.cache_clear()`` re-reads)."""
        scoped = _scoped.get()
        return scoped if scoped is not None else _environment_settings()

    def cache_clear(self) -> None:
        """Forget the settings read from the environment (tests change it)."""
        _environment_settings.cache_clear()


security_settings = _SecuritySettingsSource()


@contextmanager
def networks_allowed(*networks: str) -> Iterator[None]:
    """Inside the block, outgoing URLs may also reach ``networks`` (CIDRs, added to the
    operator's ``BOLO_SECURITY_ALLOW_NETWORKS``), for the code running in this context only:
    the process environment is not touched, other threads (a server) keep the operator's
    settings, and the widening ends however the block ends. ValueError for a bad CIDR."""
    for network in networks:
        ipaddress.ip_network(network, strict=False)
    base = security_settings()
    joined = ",".join(n for n in (base.allow_networks, *networks) if n)
    token = _scoped.set(base.model_copy(update={"allow_networks": joined}))
    try:
        yield
    finally:
        _scoped.reset(token)


class UnsafeUrl(Forbidden):
    """An outgoing URL was refused by the SSRF guard: bolo will not send there (HTTP 403)."""


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (TCP); UnsafeUrl when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"cannot resolve host {host!r}: {exc}") from None
    return [str(info[4][0]) for info in infos]


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    # ::ffff:127.0.0.1 and 64:ff9b::/96 must be judged by the IPv4 address inside.
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public_address(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> bool:
    """True when ``address`` is a global unicast address (not private, loopback, link-local,
    site-local, multicast, reserved, shared, unspecified, IPv4-compatible or -translated, nor
    local-use NAT64) or lies in one of ``allowed``."""
    if any(address in net for net in allowed if net.version == address.version):
        return True
    if address.version == 6 and any(address in net for net in _DENIED_V6):
        return False
    return address.is_global and not address.is_multicast


def check_addresses(host: str, addresses: Iterable[str]) -> list[str]:
    """Refuse (UnsafeUrl) ``host`` unless every one of ``addresses`` (its resolution) is public
    or in the allowed networks; return them. The refusal names the host only, never the
    addresses it resolved to (that would map an internal network for the caller)."""
    found = list(addresses)
    if not found:
        raise UnsafeUrl(f"host {host!r} resolves to no address")
    allowed = security_settings().networks()
    for text in found:
        try:
            address = _address(text)
        except ValueError:
            raise UnsafeUrl(f"host {host!r} resolves to an unusable address") from None
        if not is_public_address(address, allowed):
            raise UnsafeUrl(f"host {host!r} resolves to a non-public address")
    return found


def check_public_url(
    url: str,
    *,
    allow_private: bool = False,
    schemes: frozenset[str] = DEFAULT_SCHEMES,
    resolve: Resolver | None = None,
) -> list[str]:
    """Refuse (UnsafeUrl) a URL that is malformed, has another scheme than ``schemes``, carries
    credentials, or whose host resolves to any non-public address (unless ``allow_private`` or
    the operator's allowed networks). Returns the resolved addresses that were checked."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise UnsafeUrl(f"scheme {scheme!r} not allowed (use one of {sorted(schemes)})")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not allowed")
    addresses = (resolve or system_resolve)(host, port or DEFAULT_PORTS.get(scheme, 443))
    if not addresses:
        raise UnsafeUrl(f"host {host!r} resolves to no address")
    return addresses if allow_private else check_addresses(host, addresses)


def check_channel_url(
    kind: str, url: str, *, allow_private: bool = False, resolve: Resolver | None = None
) -> None:
    """The SSRF guard for a post's channel: webhooks need a public http(s) host, MQTT a public
    broker, Apprise URLs an allowed scheme and, when they name a host, a public one
    (UnsafeUrl otherwise; see ``bolo.security.apprise_urls``)."""
    if kind == "webhook":
        check_public_url(url, allow_private=allow_private, resolve=resolve)
    elif kind == "mqtt":
        check_public_url(
            url,
            allow_private=allow_private,
            resolve=resolve,
            schemes=frozenset({"mqtt", "mqtts", "ws", "wss"}),
        )
    elif kind == "apprise":
        from bolo.security.apprise_urls import check_apprise_url  # it imports this module

        check_apprise_url(url, allow_private=allow_private, resolve=resolve)
    else:
        raise UnsafeUrl(f"unknown channel kind {kind!r}")
