"""The SSRF guard's address table and messages: IPv6 forms that hide a private IPv4 address or
that Python's ``is_global`` misjudges before 3.11.10 are refused, and a refusal never tells the
caller which private address a name resolved to."""

from __future__ import annotations

import ipaddress

import pytest

from bolo.security.urls import UnsafeUrl, check_public_url, is_public_address


def _fixed(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda _host, _port: list(addresses)


@pytest.mark.parametrize(
    "address",
    [
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a00:1",  # IPv4-compatible 10.0.0.1
        "fec0::1",  # site-local
        "feff::1",  # still site-local (fec0::/10)
        "64:ff9b:1::1",  # local-use NAT64 (RFC 8215)
        "64:ff9b:1:ffff::a00:1",
        "::ffff:0:7f00:1",  # SIIT IPv4-translated 127.0.0.1
        "::ffff:0:808:808",  # even of a public IPv4 address: not a host anyone serves webhooks on
    ],
)
def test_ipv6_forms_is_global_misjudges_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))
    with pytest.raises(UnsafeUrl):
        check_public_url("https://hook.example/x", resolve=_fixed("93.184.216.34", address))


@pytest.mark.parametrize(
    "address", ["2606:4700::1111", "93.184.216.34", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_still_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["10.20.30.40", "fd12:3456::9", "169.254.169.254", "::ffff:10.20.30.40"]
)
def test_a_refusal_does_not_reveal_the_resolved_address(address: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        check_public_url("https://hook.example/x", resolve=_fixed(address))
    message = str(refused.value)
    assert "hook.example" in message and "non-public" in message
    plain = str(ipaddress.ip_address(address))
    assert plain not in message and address not in message
    assert "10.20.30.40" not in message


@pytest.mark.parametrize(
    "url",
    [
        "http://[::7f00:1]/feed",
        "http://[fec0::1]/feed",
        "http://[64:ff9b:1::a00:1]/feed",
        "http://[::ffff:0:a00:1]/",
    ],
)
def test_cap_fetch_uses_the_same_guard(url: str) -> None:
    from bolo.cap.fetch import FetchError, check_url
    from bolo.security import fetchguard

    fetchguard.install()  # as the bolo command does
    with pytest.raises(FetchError) as refused:
        check_url(url)
    assert "non-public" in str(refused.value)


def test_cap_fetches_nothing_until_a_guard_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from bolo.cap import fetch

    monkeypatch.setattr(fetch, "_guard", fetch._no_guard)
    with pytest.raises(fetch.FetchError, match="no URL guard"):
        fetch.fetch_cap("https://example.org/alert.cap")
