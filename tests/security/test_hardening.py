"""Hardening: security headers, no-store, body size limits, the SSRF guard, CAP parser refusals."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.cap.codec import CapRefused, decode
from bolo.security.middleware import DEFAULT_MAX_BODY
from bolo.security.urls import UnsafeUrl, check_channel_url, check_public_url, security_settings


def _fixed(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


@pytest.fixture()
def client(sqlite_engine: Engine) -> TestClient:
    return TestClient(create_app(timers=False))


def test_security_headers_and_caching(client: TestClient) -> None:
    api = client.get("/api/v1/cases")
    assert api.status_code == 401
    for name in (
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "content-security-policy",
    ):
        assert name in api.headers, name
    assert api.headers["cache-control"] == "no-store"
    feed = client.get("/feed/cap.atom")
    assert feed.status_code == 200 and feed.headers["cache-control"].startswith("public")
    assert "frame-ancestors 'none'" in feed.headers["content-security-policy"]


def test_body_size_limit_declared_and_streamed(client: TestClient) -> None:
    big = b"x" * (DEFAULT_MAX_BODY + 1)
    declared = client.post(
        "/api/v1/cases", content=big, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(DEFAULT_MAX_BODY // 65536 + 2):
            yield b"x" * 65536

    streamed = client.post(
        "/api/v1/cases",
        content=chunks(),
        headers={"content-type": "application/json", "authorization": "Bearer nothing"},
    )
    assert streamed.status_code == 413


def test_strict_json_types(client: TestClient, sqlite_engine: Engine) -> None:
    from bolo.store.db import session_scope
    from tests.security.factories import build_world

    with session_scope(sqlite_engine) as db:
        w = build_world(db, with_reports=False)
    auth = {"Authorization": f"Bearer {w.tokens['coordinator']}"}
    hint = f"/api/v1/cases/{w.case_id}/hints"
    assert (
        client.post(hint, json={"kind": "heading", "bearing_deg": False}, headers=auth).status_code
        == 422
    )
    assert (
        client.post(hint, json={"kind": "heading", "bearing_deg": "10"}, headers=auth).status_code
        == 422
    )
    assert (
        client.post(hint, json={"kind": "heading", "bearing_deg": 10}, headers=auth).status_code
        == 200
    )
    assert client.get("/api/v1/cases?state=open&state=closed", headers=auth).status_code == 422
    assert client.get("/api/v1/cases?stat=open", headers=auth).status_code == 422
    # Without credentials the answer is 401 whatever the body: no schema lessons for strangers.
    assert client.post(hint, json={"kind": 1}).status_code == 401


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::1",
    ],
)
def test_ssrf_guard_refuses_non_public_addresses(address: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_public_url("https://hook.example/x", resolve=_fixed("93.184.216.34", address))
    assert check_public_url(
        "https://hook.example/x", resolve=_fixed(address), allow_private=True
    ) == [address]


def test_ssrf_guard_accepts_public_and_refuses_bad_urls() -> None:
    assert check_public_url("https://hook.example/x", resolve=_fixed("93.184.216.34"))
    for url in (
        "ftp://hook.example/",
        "file:///etc/passwd",
        "https://user:pw@hook.example/",
        "http://",
        "https://hook.example:99999/",
        "gopher://x/",
    ):
        with pytest.raises(UnsafeUrl):
            check_public_url(url, resolve=_fixed("93.184.216.34"))
    # Real resolution: decimal and short forms of loopback are loopback.
    for url in ("http://127.1/", "http://2130706433/", "http://localhost/"):
        with pytest.raises(UnsafeUrl):
            check_public_url(url)


def test_operator_can_allow_a_lab_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLO_SECURITY_ALLOW_NETWORKS", "127.0.0.0/8")
    security_settings.cache_clear()
    try:
        assert check_public_url("http://localhost:9000/hook") != []
        with pytest.raises(UnsafeUrl):
            check_public_url("http://10.0.0.1/")
    finally:
        security_settings.cache_clear()


def test_channel_urls() -> None:
    public = _fixed("93.184.216.34")
    check_channel_url("apprise", "tgram://123456789:abcdefg_hijklmnop/12315544/", resolve=public)
    check_channel_url("mqtt", "mqtts://broker.example:8883", resolve=public)
    with pytest.raises(UnsafeUrl):
        check_channel_url("apprise", "json://intranet.local/x", resolve=_fixed("10.0.0.5"))
    with pytest.raises(UnsafeUrl):
        check_channel_url("mqtt", "https://broker.example", resolve=public)


@given(st.text(max_size=80))
def test_ssrf_guard_never_crashes(url: str) -> None:
    try:
        check_public_url(url, resolve=_fixed("127.0.0.1"))
    except UnsafeUrl:
        pass
    else:
        raise AssertionError(f"{url!r} reached a loopback address")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://127.0.0.1:1/x.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>"""


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS,
        XXE,
        EXTERNAL_DTD,
        b"<a>" * 200 + b"</a>" * 200,
        b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>" + b" " * 1_100_000 + b"</alert>",
    ],
)
def test_cap_parser_refuses_hostile_xml(data: bytes) -> None:
    with pytest.raises(CapRefused):
        decode(data)


def test_no_network_during_cap_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_args: object, **_kw: object) -> None:
        raise AssertionError("the CAP parser opened a connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(CapRefused):
        decode(EXTERNAL_DTD)
