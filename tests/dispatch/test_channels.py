"""Webhook channel against real loopback servers (aiohttp), the receiver, and MQTT on Mosquitto."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bolo.dispatch.channels import Message
from bolo.dispatch.channels.apprise_channel import AppriseChannel
from bolo.dispatch.channels.limits import limits_from_settings
from bolo.dispatch.channels.mqtt import MqttChannel, region_topic
from bolo.dispatch.channels.webhook import PRESIGNED_MAX_AGE_S, GuardedResolver, WebhookChannel
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.keys import keys_that_sign, signing_keys
from bolo.dispatch.policy import Outcome
from bolo.dispatch.receiver.server import ReceiverApp, serve
from bolo.dispatch.receiver.verify import Deduper
from bolo.dispatch.signing import Ed25519Key, HmacKey, new_secret, signature, verify
from bolo.posts.channel_kinds import ChannelKind
from bolo.security.urls import UnsafeUrl, security_settings
from tests.conftest import need_service

SECRET = new_secret()


def _message(url: str, msg_id: str = "d-1") -> Message:
    return Message(
        msg_id=msg_id,
        post_id="p1",
        url=url,
        body=b'{"title":"x"}',
        title="x",
        text="y",
        region="north",
        keys=(HmacKey(SECRET),),
    )


@pytest.fixture
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let sends reach 127.0.0.0/8, as a lab operator would (BOLO_SECURITY_ALLOW_NETWORKS)."""
    monkeypatch.setenv("BOLO_SECURITY_ALLOW_NETWORKS", "127.0.0.0/8")
    security_settings.cache_clear()
    yield
    monkeypatch.delenv("BOLO_SECURITY_ALLOW_NETWORKS")
    security_settings.cache_clear()


@pytest.fixture
async def scripted(loopback_allowed: None) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback server: POST /status/{code}?retry_after=N answers that; /slow sleeps 2 s."""
    seen: list[dict[str, Any]] = []

    async def status(request: web.Request) -> web.Response:
        seen.append({"body": await request.read(), "headers": dict(request.headers)})
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        return web.Response(status=int(request.match_info["code"]), headers=headers)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/status/{code}", status)
    app.router.add_post("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def _send(url: str, timeout_s: float = 10.0) -> tuple[Outcome, float | None, int | None]:
    channel = WebhookChannel(timeout_s=timeout_s)
    try:
        result = await channel.send(_message(url))
    finally:
        await channel.aclose()
    return result.outcome, result.retry_after_s, result.status_code


async def test_webhook_status_mapping_and_retry_after(
    scripted: tuple[str, list[dict[str, Any]]],
) -> None:
    base, seen = scripted
    assert await _send(f"{base}/status/204") == (Outcome.DELIVERED, None, 204)
    assert await _send(f"{base}/status/410") == (Outcome.DISABLE, None, 410)
    assert await _send(f"{base}/status/429?retry_after=30") == (Outcome.SLOW_DOWN, 30.0, 429)
    assert (await _send(f"{base}/status/503?retry_after=5"))[:2] == (Outcome.SLOW_DOWN, 5.0)
    assert (await _send(f"{base}/status/400"))[0] is Outcome.PERMANENT
    assert (await _send(f"{base}/status/302"))[0] is Outcome.PERMANENT  # redirects not followed
    first = seen[0]
    assert verify(first["body"], first["headers"], [HmacKey(SECRET)]) == "d-1"


async def test_webhook_timeout_is_retried(scripted: tuple[str, list[dict[str, Any]]]) -> None:
    outcome, _, status = await _send(f"{scripted[0]}/slow", timeout_s=0.3)
    assert outcome is Outcome.RETRY and status is None


async def test_connection_refused_is_retried(loopback_allowed: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome, _, status = await _send(f"http://127.0.0.1:{port}/hook")
    assert outcome is Outcome.RETRY and status is None


async def test_private_address_is_refused_at_send_time() -> None:
    # No allowed networks: a loopback or private literal is refused before connecting.
    security_settings.cache_clear()
    for url in (
        "http://127.0.0.1:9/hook",
        "http://10.0.0.8/hook",
        "http://[::1]:9/hook",
        "ftp://example.org/hook",
    ):
        outcome, _, status = await _send(url)
        assert outcome is Outcome.PERMANENT and status is None, url


class _Rebound(AbstractResolver):
    """A DNS answer that changed after registration: the name now points inside."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": "169.254.169.254",
                "port": port,
                "family": family,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        return None


async def test_dns_rebinding_is_refused_at_connect_time() -> None:
    security_settings.cache_clear()
    with pytest.raises(UnsafeUrl):
        await GuardedResolver(_Rebound()).resolve("hooks.example.org", 80)
    channel = WebhookChannel(resolver=GuardedResolver(_Rebound()))
    try:
        result = await channel.send(_message("http://hooks.example.org/hook"))
    finally:
        await channel.aclose()
    assert result.outcome is Outcome.PERMANENT and "unsafe url" in (result.error or "")


async def test_loopback_receiver_verifies_and_deduplicates(loopback_allowed: None) -> None:
    app = ReceiverApp(keys_for=lambda post_id: [HmacKey(SECRET)], deduper=Deduper())
    server = await serve(app, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = WebhookChannel(timeout_s=5)
    try:
        url = f"http://127.0.0.1:{port}/hook/p1"
        first = await channel.send(_message(url))
        again = await channel.send(_message(url))  # a retry: same webhook-id
        forged = Message(
            msg_id="d-2",
            post_id="p1",
            url=url,
            body=b"{}",
            title="",
            text="",
            keys=(HmacKey(new_secret()),),
        )
        refused = await channel.send(forged)
        async with httpx.AsyncClient() as client:
            stats = (await client.get(f"http://127.0.0.1:{port}/_stats")).json()
    finally:
        await channel.aclose()
        server.close()
        await server.wait_closed()
    assert first.outcome is Outcome.DELIVERED and again.outcome is Outcome.DELIVERED
    assert refused.status_code == 401 and refused.outcome is Outcome.PERMANENT
    assert stats == {"received": 3, "unique": 1, "duplicates": 1, "rejected": 1}


def test_deduper_forgets_after_ttl() -> None:
    seen = Deduper(ttl_s=10)
    assert seen.check_and_add("a", 0.0)
    assert not seen.check_and_add("a", 5.0)
    assert seen.check_and_add("a", 20.0)


async def test_mqtt_publishes_to_the_region_topic(loopback_allowed: None) -> None:
    need_service("Mosquitto", "127.0.0.1", 1883)
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    topic = region_topic("bolo/test-alerts", "north")
    got: list[bytes] = []
    subscribed, arrived = threading.Event(), threading.Event()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = lambda c, u, msg: (got.append(msg.payload), arrived.set())
    sub.connect("127.0.0.1", 1883)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    channel = MqttChannel(timeout_s=5)
    try:
        assert await asyncio.to_thread(subscribed.wait, 5)
        result = await channel.send(_message("mqtt://127.0.0.1:1883/bolo/test-alerts"))
        assert result.outcome is Outcome.SENT  # the broker took it; no receipt from posts
        assert await asyncio.to_thread(arrived.wait, 5)
    finally:
        await channel.aclose()
        sub.loop_stop()
        sub.disconnect()
    assert json.loads(got[0]) == {"title": "x"}


@pytest.mark.parametrize(
    "region,topic",
    [("north", "bolo/alerts/north"), ("a/b+#", "bolo/alerts/a_b__"), ("", "bolo/alerts/_")],
)
def test_region_topic_is_one_level(region: str, topic: str) -> None:
    assert region_topic("/bolo/alerts/", region) == topic


async def test_post_without_usable_key_fails_for_good_with_a_reason() -> None:
    # A whpk_ (public) secret cannot sign: the send is refused at once, never retried.
    public_only = Ed25519Key.generate().public
    assert keys_that_sign(signing_keys(_KeyRow(public_only))) == ()
    assert len(signing_keys(_KeyRow(public_only))) == 1  # still verifies a post's replies
    assert signing_keys(_KeyRow("whsec_not base64!")) == ()
    private = Ed25519Key.generate().private
    assert [type(k) for k in keys_that_sign(signing_keys(_KeyRow(private)))] == [Ed25519Key]
    channel = WebhookChannel()
    try:
        result = await channel.send(
            Message(
                msg_id="d-9", post_id="p1", url="http://h/x", body=b"{}", title="", text="", keys=()
            )
        )
    finally:
        await channel.aclose()
    assert result.outcome is Outcome.PERMANENT and "signing key" in (result.error or "")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://[bad/hook", "invalid url"),
        ("http://user:pw@hooks.example.org/hook", "unsafe url"),
        ("ftp://hooks.example.org/hook", "unsafe url"),
        ("http://10.0.0.7/hook", "unsafe url"),
    ],
)
async def test_webhook_url_refused_before_sending(url: str, error: str) -> None:
    security_settings.cache_clear()
    channel = WebhookChannel(resolver=GuardedResolver(_Rebound()))
    try:
        result = await channel.send(_message(url))
    finally:
        await channel.aclose()
    assert result.outcome is Outcome.PERMANENT and error in (result.error or "")


async def test_apprise_url_naming_a_private_host_is_refused_before_sending() -> None:
    security_settings.cache_clear()
    result = await AppriseChannel().send(_message("json://127.0.0.1:9/hook"))
    assert result.outcome is Outcome.PERMANENT and "unsafe url" in (result.error or "")


def test_rate_limits_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLO_DISPATCH_RATE_LIMITS", '{"apprise": [1, 2], "webhook": [50, 100]}')
    limits = limits_from_settings(DispatchSettings().rate_limits)
    assert limits[ChannelKind.APPRISE].bucket("mailto://x").rate == 1.0
    assert limits[ChannelKind.WEBHOOK].bucket("http://h").burst == 100.0
    with pytest.raises(ValueError):
        limits_from_settings({"pigeon": (1.0, 1.0)})
    with pytest.raises(ValueError):
        limits_from_settings({"webhook": (0.0, 1.0)})


@dataclass
class _KeyRow:
    secret: str
    previous_secret: str | None = None
    previous_until: datetime | None = None


async def test_a_signature_made_ahead_is_sent_while_recent_else_made_again(
    scripted: tuple[str, list[dict[str, Any]]],
) -> None:
    # The database side signs claimed webhooks ahead (wire.encode_job); the channel sends
    # that signature only while its timestamp is recent, else it signs again at send time.
    base, seen = scripted
    now = int(time.time())
    fresh = replace(
        _message(f"{base}/status/204", "d-fresh"),
        signed_at=now - 5,
        signature=signature(
            msg_id="d-fresh", timestamp=now - 5, body=b'{"title":"x"}', keys=(HmacKey(SECRET),)
        ),
    )
    stale_at = now - PRESIGNED_MAX_AGE_S - 5
    stale = replace(
        _message(f"{base}/status/204", "d-stale"),
        signed_at=stale_at,
        signature=signature(
            msg_id="d-stale", timestamp=stale_at, body=b'{"title":"x"}', keys=(HmacKey(SECRET),)
        ),
    )
    channel = WebhookChannel(timeout_s=5)
    try:
        for message in (fresh, stale):
            assert (await channel.send(message)).outcome is Outcome.DELIVERED
    finally:
        await channel.aclose()
    sent_fresh, sent_stale = (s["headers"] for s in seen)
    assert sent_fresh["webhook-signature"] == fresh.signature
    assert sent_fresh["webhook-timestamp"] == str(now - 5)
    assert sent_stale["webhook-signature"] != stale.signature
    assert int(sent_stale["webhook-timestamp"]) >= now
    for sent in seen:
        verify(sent["body"], sent["headers"], [HmacKey(SECRET)])
