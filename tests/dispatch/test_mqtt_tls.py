"""MQTT channel: ``mqtts://`` is TLS with the broker's certificate verified (default port 8883),
and the broker's name is resolved once per connection, by the SSRF guard, and connected to as
checked. A minimal MQTT 3.1.1 broker (CONNECT/CONNACK, PUBLISH/PUBACK) stands in for one with
TLS, since the shared Mosquitto listens in clear only."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bolo.dispatch.channels import Message
from bolo.dispatch.channels.mqtt import MqttChannel, broker_of
from bolo.dispatch.policy import Outcome
from bolo.security.urls import networks_allowed


def _read_packet(conn: socket.socket) -> tuple[int, bytes]:
    head = conn.recv(1)
    if not head:
        raise ConnectionError("closed")
    length, shift = 0, 0
    while True:
        byte = conn.recv(1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return head[0], body


class _Broker:
    """Accepts connections (TLS when ``context``), acknowledges CONNECT and QoS 1 PUBLISH and
    records (topic, payload); ``first_bytes`` keeps the first byte each connection sent."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.context = context
        self.published: list[tuple[str, bytes]] = []
        self.first_bytes: list[int] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            self.first_bytes.append(raw.recv(1, socket.MSG_PEEK)[0])
            conn = self.context.wrap_socket(raw, server_side=True) if self.context else raw
            while True:
                kind, body = _read_packet(conn)
                if kind >> 4 == 1:  # CONNECT
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind >> 4 == 3:  # PUBLISH, QoS 1
                    size = int.from_bytes(body[:2], "big")
                    topic, packet_id = body[2 : 2 + size].decode(), body[2 + size : 4 + size]
                    self.published.append((topic, body[4 + size :]))
                    conn.sendall(b"\x40\x02" + packet_id)
                elif kind >> 4 == 12:  # PINGREQ
                    conn.sendall(b"\xd0\x00")
        except (OSError, ConnectionError, IndexError, ssl.SSLError):
            raw.close()

    def close(self) -> None:
        self.server.close()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the CA the client is told to trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bolo test broker")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "broker.pem", folder / "broker.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Broker]:
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    # The client trusts the system's store, which SSL_CERT_FILE replaces (as an operator with
    # a private CA would do).
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    broker = _Broker(context)
    yield broker
    broker.close()


def _message(url: str) -> Message:
    return Message(
        msg_id="d-1",
        post_id="p1",
        url=url,
        body=b'{"title":"x"}',
        title="x",
        text="y",
        region="north",
    )


def test_default_ports_follow_the_scheme() -> None:
    assert broker_of("mqtts://broker.example/alerts").port == 8883
    assert broker_of("mqtt://broker.example/alerts").port == 1883
    assert broker_of("wss://broker.example/alerts").port == 443
    assert broker_of("mqtts://broker.example:9999/alerts").port == 9999
    assert broker_of("mqtts://b/").tls and broker_of("wss://b/").tls
    assert not broker_of("mqtt://b/").tls and not broker_of("ws://b/").tls


async def test_mqtts_publishes_over_verified_tls(tls_broker: _Broker) -> None:
    channel = MqttChannel(timeout_s=5)
    try:
        with networks_allowed("127.0.0.1/32"):
            result = await channel.send(_message(f"mqtts://127.0.0.1:{tls_broker.port}/bolo/a"))
    finally:
        await channel.aclose()
    assert result.outcome is Outcome.SENT, result.error
    assert tls_broker.first_bytes[0] == 0x16  # a TLS handshake record, not an MQTT CONNECT
    assert tls_broker.published == [("bolo/a/north", b'{"title":"x"}')]


async def test_mqtts_refuses_a_broker_it_cannot_verify(tmp_path: Path) -> None:
    # Same broker, but the client does not trust its certificate: nothing is published.
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    broker = _Broker(context)
    channel = MqttChannel(timeout_s=2)
    try:
        with networks_allowed("127.0.0.1/32"):
            result = await channel.send(_message(f"mqtts://127.0.0.1:{broker.port}/bolo/a"))
    finally:
        await channel.aclose()
        broker.close()
    assert result.outcome is Outcome.RETRY and broker.published == []


async def test_the_broker_name_is_resolved_once_and_connected_to_as_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker = _Broker()
    lookups: list[str] = []
    real = socket.getaddrinfo

    def counting(host: object, *args: object, **kwargs: object) -> object:
        if host == "broker.test":
            lookups.append("broker.test")
            return real("127.0.0.1", *args, **kwargs)  # type: ignore[arg-type]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    channel = MqttChannel(timeout_s=5)
    try:
        with networks_allowed("127.0.0.1/32"):
            result = await channel.send(_message(f"mqtt://broker.test:{broker.port}/bolo/a"))
            again = await channel.send(_message(f"mqtt://broker.test:{broker.port}/bolo/a"))
    finally:
        await channel.aclose()
        broker.close()
    assert result.outcome is Outcome.SENT and again.outcome is Outcome.SENT, result.error
    assert lookups == ["broker.test"]  # the guard's lookup only: paho never resolved it again
    assert len(broker.published) == 2


async def test_a_broker_resolving_to_a_private_address_is_refused_for_good(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "broker.test" else host, *a, **k),
    )
    channel = MqttChannel(timeout_s=2)
    try:
        result = await channel.send(_message("mqtts://broker.test/bolo/a"))
    finally:
        await channel.aclose()
    assert result.outcome is Outcome.PERMANENT and "unsafe url" in (result.error or "")
