"""MQTT: one topic per region (``<base>/<region>``), QoS 1, through paho-mqtt off the loop.

``mqtt://`` and ``ws://`` are plain TCP (default ports 1883, 80); ``mqtts://`` and ``wss://``
are TLS (default ports 8883, 443), verified against the system's trust store (it honours
``SSL_CERT_FILE``) and the broker's host name. The broker's name is resolved and checked by the
SSRF guard once per connection and the client connects to exactly the addresses checked, on
reconnects too: no second resolution a DNS rebinding could answer differently.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.policy import Outcome
from bolo.posts.channel_kinds import ChannelKind
from bolo.security.urls import DEFAULT_PORTS, UnsafeUrl, check_public_url

DEFAULT_BASE_TOPIC = "bolo/alerts"
SCHEMES = frozenset({"mqtt", "mqtts", "ws", "wss"})
TLS_SCHEMES = frozenset({"mqtts", "wss"})


def region_topic(base: str, region: str) -> str:
    """The topic of a region; posts without a region publish under ``_``."""
    clean = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in region) or "_"
    return f"{base.strip('/')}/{clean}"


@dataclass(frozen=True)
class Broker:
    """Where a channel URL publishes: ``tls`` for mqtts/wss, ``websockets`` for ws/wss."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        """Whether the connection is TLS."""
        return self.scheme in TLS_SCHEMES

    @property
    def websockets(self) -> bool:
        """Whether MQTT runs over WebSockets."""
        return self.scheme in ("ws", "wss")


def broker_of(url: str) -> Broker:
    """The broker of a channel URL, with the scheme's default port (1883 mqtt, 8883 mqtts,
    80 ws, 443 wss); UnsafeUrl for another scheme or no host, ValueError for a bad port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise UnsafeUrl(f"not an MQTT broker URL (use one of {sorted(SCHEMES)} with a host)")
    return Broker(scheme, parts.hostname, parts.port or DEFAULT_PORTS[scheme])


class _PinnedClient(mqtt.Client):
    """A paho client whose every (re)connection goes to the addresses the SSRF guard checked;
    TLS still verifies the broker's host name."""

    def __init__(self, broker: Broker, addresses: list[str]) -> None:
        super().__init__(
            CallbackAPIVersion.VERSION2, transport="websockets" if broker.websockets else "tcp"
        )
        self._checked = addresses
        if broker.tls:
            self.tls_set_context(ssl.create_default_context())

    def _create_socket_connection(self) -> socket.socket:
        # No proxy and no name lookup: one of the checked addresses, in the resolver's order.
        error: OSError | None = None
        for address in self._checked:
            try:
                return socket.create_connection(
                    (address, self._port), timeout=self._connect_timeout
                )
            except OSError as exc:
                error = exc
        raise error or OSError("the broker has no checked address")


class MqttChannel:
    """Publishes each message to its region topic on the broker named in the channel URL
    (``mqtt[s]://host:port/base/topic``); one connected client per broker."""

    kind = ChannelKind.MQTT

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s
        self._clients: dict[Broker, mqtt.Client] = {}
        self._lock = threading.Lock()

    def _client(self, broker: Broker) -> mqtt.Client:
        with self._lock:
            client = self._clients.get(broker)
            if client is None:
                # The SSRF guard at connect time (the broker's name may resolve elsewhere than
                # when the channel was registered); the client uses what it checked.
                addresses = check_public_url(
                    f"{broker.scheme}://{broker.host}:{broker.port}/", schemes=SCHEMES
                )
                client = _PinnedClient(broker, addresses)
                client.connect(broker.host, broker.port, keepalive=30)
                client.loop_start()
                self._clients[broker] = client
            return client

    def _forget(self, broker: Broker) -> None:
        # A failed client is dropped: the next attempt resolves, checks and connects afresh.
        with self._lock:
            client = self._clients.pop(broker, None)
        if client is not None:
            client.loop_stop()
            client.disconnect()

    def _publish(self, message: Message) -> Outcome:
        broker = broker_of(message.url)
        try:
            client = self._client(broker)
            topic = region_topic(urlsplit(message.url).path or DEFAULT_BASE_TOPIC, message.region)
            info = client.publish(topic, message.body, qos=1)
            info.wait_for_publish(timeout=self.timeout_s)
        except (OSError, RuntimeError, ValueError):
            self._forget(broker)
            raise
        if info.is_published():
            return Outcome.SENT
        self._forget(broker)
        return Outcome.RETRY

    async def send(self, message: Message) -> SendResult:
        """Publish once; a refused connection or an unacknowledged publish is retried, a URL
        the SSRF guard refuses fails for good."""
        started = time.perf_counter()
        try:
            outcome = await asyncio.to_thread(self._publish, message)
        except UnsafeUrl as exc:
            return SendResult(
                Outcome.PERMANENT,
                error=f"unsafe url: {exc}",
                duration_s=time.perf_counter() - started,
            )
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
