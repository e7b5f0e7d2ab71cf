"""Webhook channel over httpx's MockTransport, the loopback receiver, and MQTT on Mosquitto."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest

from bolo.dispatch.channels import Message
from bolo.dispatch.channels.mqtt import MqttChannel, region_topic
from bolo.dispatch.channels.webhook import WebhookChannel
from bolo.dispatch.policy import Outcome
from bolo.dispatch.receiver import Deduper
from bolo.dispatch.receiver_server import ReceiverApp, serve
from bolo.dispatch.signing import HmacKey, new_secret, verify
from tests.conftest import need_service

SECRET = new_secret()


def _message(url: str, msg_id: str = "d-1") -> Message:
    return Message(msg_id=msg_id, post_id="p1", url=url, body=b'{"title":"x"}', title="x",
                   text="y", region="north", keys=(HmacKey(SECRET),))


async def _send_with(handler: httpx.MockTransport) -> tuple[Outcome, float | None, int | None]:
    channel = WebhookChannel(transport=handler)
    try:
        result = await channel.send(_message("http://post/hook"))
    finally:
        await channel.aclose()
    return result.outcome, result.retry_after_s, result.status_code


async def test_webhook_status_mapping_and_retry_after() -> None:
    seen: list[httpx.Request] = []

    def answer(status: int, headers: dict[str, str] | None = None) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(status, headers=headers or {})
        return httpx.MockTransport(handler)

    assert await _send_with(answer(204)) == (Outcome.DELIVERED, None, 204)
    assert await _send_with(answer(410)) == (Outcome.DISABLE, None, 410)
    assert await _send_with(answer(429, {"Retry-After": "30"})) == (Outcome.SLOW_DOWN, 30.0, 429)
    assert (await _send_with(answer(503, {"Retry-After": "5"})))[:2] == (Outcome.SLOW_DOWN, 5.0)
    assert (await _send_with(answer(400)))[0] is Outcome.PERMANENT
    request = seen[0]
    assert verify(request.content, dict(request.headers), [HmacKey(SECRET)]) == "d-1"


async def test_webhook_timeout_is_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow post", request=request)

    outcome, _, status = await _send_with(httpx.MockTransport(handler))
    assert outcome is Outcome.RETRY and status is None


async def test_loopback_receiver_verifies_and_deduplicates() -> None:
    app = ReceiverApp(keys_for=lambda post_id: [HmacKey(SECRET)], deduper=Deduper())
    server = await serve(app, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = WebhookChannel(timeout_s=5)
    try:
        url = f"http://127.0.0.1:{port}/hook/p1"
        first = await channel.send(_message(url))
        again = await channel.send(_message(url))  # a retry: same webhook-id
        forged = Message(msg_id="d-2", post_id="p1", url=url, body=b"{}", title="", text="",
                         keys=(HmacKey(new_secret()),))
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


async def test_mqtt_publishes_to_the_region_topic() -> None:
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


@pytest.mark.parametrize("region,topic", [("north", "bolo/alerts/north"),
                                          ("a/b+#", "bolo/alerts/a_b__"), ("", "bolo/alerts/_")])
def test_region_topic_is_one_level(region: str, topic: str) -> None:
    assert region_topic("/bolo/alerts/", region) == topic
