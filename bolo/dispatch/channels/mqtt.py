"""MQTT: one topic per region (``<base>/<region>``), QoS 1, through paho-mqtt off the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bolo.dispatch.channels.base import ChannelKind, Message, SendResult
from bolo.dispatch.policy import Outcome
from bolo.security.urls import UnsafeUrl, check_channel_url

DEFAULT_BASE_TOPIC = "bolo/alerts"


def region_topic(base: str, region: str) -> str:
    """The topic of a region; posts without a region publish under ``_``."""
    clean = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in region) or "_"
    return f"{base.strip('/')}/{clean}"


class MqttChannel:
    """Publishes each message to its region topic on the broker named in the channel URL
    (``mqtt://host:port/base/topic``); one connected client per broker."""

    kind = ChannelKind.MQTT

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s
        self._clients: dict[str, mqtt.Client] = {}
        self._lock = threading.Lock()

    def _client(self, host: str, port: int) -> mqtt.Client:
        key = f"{host}:{port}"
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                # The SSRF guard again at connect time (the broker's name may resolve
                # elsewhere than when the channel was registered).
                check_channel_url("mqtt", f"mqtt://{key}/")
                client = mqtt.Client(CallbackAPIVersion.VERSION2)
                client.connect(host, port, keepalive=30)
                client.loop_start()
                self._clients[key] = client
            return client

    def _publish(self, message: Message) -> Outcome:
        parts = urlsplit(message.url)
        client = self._client(parts.hostname or "127.0.0.1", parts.port or 1883)
        topic = region_topic(parts.path or DEFAULT_BASE_TOPIC, message.region)
        info = client.publish(topic, message.body, qos=1)
        info.wait_for_publish(timeout=self.timeout_s)
        return Outcome.SENT if info.is_published() else Outcome.RETRY

    async def send(self, message: Message) -> SendResult:
        """Publish once; a refused connection or an unacknowledged publish is retried."""
        started = time.perf_counter()
        try:
            outcome = await asyncio.to_thread(self._publish, message)
        except UnsafeUrl as exc:
            return SendResult(Outcome.PERMANENT, error=f"unsafe url: {exc}",
                              duration_s=time.perf_counter() - started)
        except (OSError, RuntimeError, ValueError) as exc:
            return SendResult(
                Outcome.RETRY, error=f"mqtt: {exc!r}", duration_s=time.perf_counter() - started
            )
        error = None if outcome is Outcome.SENT else "mqtt publish not acknowledged"
        return SendResult(outcome, error=error, duration_s=time.perf_counter() - started)

    def destination(self, message: Message) -> str:
        """Rate-limit key: the broker."""
        return urlsplit(message.url).netloc

    async def aclose(self) -> None:
        """Disconnect every client."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.loop_stop()
            client.disconnect()
