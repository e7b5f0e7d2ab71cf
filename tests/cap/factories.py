"""Builders of CAP messages and certificates for the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from bolo.cap.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Info,
    MsgType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
)

KST = timezone(timedelta(hours=9))
SENT = datetime(2026, 4, 1, 8, 0, 0, tzinfo=KST)


def make_alert(**changes: object) -> Alert:
    """A valid CAP 1.2 AMBER alert; keyword arguments replace alert fields."""
    info = Info(
        categories=[Category.RESCUE],
        event="Child Abduction",
        urgency=Urgency.IMMEDIATE,
        severity=Severity.SEVERE,
        certainty=Certainty.LIKELY,
        event_codes=[ValuePair(name="SAME", value="CAE")],
        expires=SENT + timedelta(hours=6),
        sender_name="bolo test",
        headline="AMBER alert: child abducted",
        description="A child was taken at 07:30.",
        instruction="Call 112 if you see the vehicle.",
        web="https://bolo.example/alerts/1",
        contact="112",
        parameters=[ValuePair(name="CMAMtext", value="AMBER alert: call 112")],
        areas=[
            Area(
                description="Songchon corridor",
                polygons=[
                    [(39.2, 126.2), (39.2, 126.4), (39.4, 126.4), (39.4, 126.2), (39.2, 126.2)]
                ],
                geocodes=[ValuePair(name="SAME", value="000001")],
            )
        ],
    )
    fields: dict[str, object] = {
        "identifier": "bolo-2026-0001",
        "sender": "bolo@example.org",
        "sent": SENT,
        "status": Status.ACTUAL,
        "msg_type": MsgType.ALERT,
        "scope": Scope.PUBLIC,
        "codes": ["IPAWSv1.0"],
        "infos": [info],
    }
    fields.update(changes)
    return Alert(**fields)  # type: ignore[arg-type]


def make_key(kind: str = "rsa") -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """A fresh RSA-2048 or EC P-256 private key."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_cert(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    *,
    name: str = "bolo-test",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """A self-signed certificate for `key`, valid from `not_before` to `not_after`."""
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    """PEM (PKCS#8, unencrypted) of `key`."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    """PEM of `cert`."""
    return cert.public_bytes(serialization.Encoding.PEM)
