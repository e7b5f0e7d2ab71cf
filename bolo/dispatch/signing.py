"""Standard Webhooks 1.0 signing and verification.

Signed content is ``{webhook-id}.{webhook-timestamp}.{body}``. ``v1`` signatures are base64
HMAC-SHA256 with a symmetric secret (``whsec_`` + base64 key); ``v1a`` signatures are base64
ed25519 with a private seed (``whsk_`` + base64) verified by a public key (``whpk_`` + base64).
The ``webhook-signature`` header holds several space-separated signatures, which is how secret
rotation works: during rotation the sender signs with the new and the old secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property, lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bolo import clock

TOLERANCE_S = 5 * 60
SYMMETRIC_PREFIX = "whsec_"
PRIVATE_PREFIX = "whsk_"
PUBLIC_PREFIX = "whpk_"


class SignatureVersion(StrEnum):
    """Signature schemes of Standard Webhooks 1.0."""

    HMAC_SHA256 = "v1"
    ED25519 = "v1a"


class WebhookVerificationError(ValueError):
    """The request is not a valid signed webhook (missing header, bad signature, stale time)."""


def new_secret() -> str:
    """A fresh random symmetric secret (24 bytes, ``whsec_`` prefixed)."""
    return SYMMETRIC_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key_bytes(secret: str, prefix: str) -> bytes:
    return base64.b64decode(secret.removeprefix(prefix))


@lru_cache(maxsize=65536)
def _hmac_key(secret: str) -> bytes:
    return _key_bytes(secret, SYMMETRIC_PREFIX)


def signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    """The bytes every signature covers: ``id.timestamp.body``."""
    return f"{msg_id}.{timestamp}.".encode() + body


@dataclass(frozen=True)
class HmacKey:
    """A symmetric ``whsec_`` secret: signs and verifies ``v1``."""

    secret: str

    def __post_init__(self) -> None:
        # Refuse an unreadable secret when the key is made, not at the first signature.
        _key_bytes(self.secret, SYMMETRIC_PREFIX)

    def digest(self, content: bytes) -> bytes:
        """The raw HMAC-SHA256 of ``content``."""
        # One keyed object per signature, from cached key bytes: most keys sign once per
        # alert (one post each), where caching keyed state per key object cost more (a
        # cached_property, a copy) than it saved.
        return hmac.new(_hmac_key(self.secret), content, hashlib.sha256).digest()

    def sign(self, content: bytes) -> str:
        """``v1,<base64 HMAC-SHA256>`` of ``content``."""
        return f"{SignatureVersion.HMAC_SHA256},{base64.b64encode(self.digest(content)).decode()}"

    def verify(self, version: str, signature: str, content: bytes) -> bool:
        """Whether one ``version,signature`` pair is this key's signature of ``content``."""
        if version != SignatureVersion.HMAC_SHA256:
            return False
        expected = base64.b64encode(self.digest(content))
        return hmac.compare_digest(expected, signature.encode())


@dataclass(frozen=True)
class Ed25519Key:
    """An ed25519 key pair (``v1a``); ``private`` may be empty on the verifying side."""

    public: str
    private: str = ""

    @classmethod
    def from_private(cls, private: str) -> Ed25519Key:
        """The key pair of a ``whsk_`` seed (32 bytes, base64)."""
        seed = _key_bytes(private, PRIVATE_PREFIX)
        pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        return cls(public=PUBLIC_PREFIX + base64.b64encode(pub).decode(), private=private)

    @classmethod
    def generate(cls) -> Ed25519Key:
        """A fresh random key pair."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls.from_private(PRIVATE_PREFIX + base64.b64encode(seed).decode())

    def __getstate__(self) -> dict[str, str]:
        # Pickled without the cached key objects (they cannot be pickled).
        return {"public": self.public, "private": self.private}

    @cached_property
    def _signer(self) -> Ed25519PrivateKey:
        if not self.private:
            raise ValueError("this ed25519 key has no private part: it can only verify")
        return Ed25519PrivateKey.from_private_bytes(_key_bytes(self.private, PRIVATE_PREFIX))

    @cached_property
    def _verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(_key_bytes(self.public, PUBLIC_PREFIX))

    def sign(self, content: bytes) -> str:
        """``v1a,<base64 ed25519 signature>`` of ``content``."""
        sig = self._signer.sign(content)
        return f"{SignatureVersion.ED25519},{base64.b64encode(sig).decode()}"

    def verify(self, version: str, signature: str, content: bytes) -> bool:
        """Whether one ``version,signature`` pair is this key's signature of ``content``."""
        if version != SignatureVersion.ED25519:
            return False
        try:
            raw = base64.b64decode(signature, validate=True)
            self._verifier.verify(raw, content)
        except (InvalidSignature, ValueError):
            return False
        return True


Key = HmacKey | Ed25519Key


def key_from_string(text: str) -> Key:
    """Parse a key by its prefix: ``whsec_`` (HMAC), ``whsk_`` (ed25519 private), ``whpk_``
    (ed25519 public). An unprefixed secret is base64 (as the spec says) or else raw text."""
    if text.startswith(PRIVATE_PREFIX):
        return Ed25519Key.from_private(text)
    if text.startswith(PUBLIC_PREFIX):
        return Ed25519Key(public=text)
    if text.startswith(SYMMETRIC_PREFIX):
        return HmacKey(text)
    # Unprefixed: base64 per the spec; anything else is taken as its UTF-8 bytes.
    try:
        if base64.b64decode(text, validate=True):
            return HmacKey(SYMMETRIC_PREFIX + text)
    except ValueError:
        pass
    return HmacKey(SYMMETRIC_PREFIX + base64.b64encode(text.encode()).decode())


def signature(*, msg_id: str, timestamp: int, body: bytes, keys: Sequence[Key]) -> str:
    """The ``webhook-signature`` header value: one signature per key (two while rotating),
    space-separated; ``timestamp`` in integer seconds since the Unix epoch. ValueError without
    keys or with a key that cannot sign."""
    if not keys:
        raise ValueError("at least one signing key is needed")
    content = signed_content(msg_id, timestamp, body)
    return " ".join(key.sign(content) for key in keys)


def signed_headers(msg_id: str, timestamp: int, signature_value: str) -> dict[str, str]:
    """The three Standard Webhooks headers around a signature already computed for
    ``msg_id`` and ``timestamp`` (integer seconds since the Unix epoch)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_value,
    }


def sign_headers(
    *, msg_id: str, timestamp: int, body: bytes, keys: Sequence[Key]
) -> dict[str, str]:
    """The three Standard Webhooks headers; one signature per key (two while rotating).

    ``timestamp`` is in integer seconds since the Unix epoch.
    """
    return signed_headers(
        msg_id, timestamp, signature(msg_id=msg_id, timestamp=timestamp, body=body, keys=keys)
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing header {name}")


def verify(
    body: bytes,
    headers: Mapping[str, str],
    keys: Sequence[Key],
    *,
    tolerance_s: int = TOLERANCE_S,
    now: datetime | None = None,
) -> str:
    """Check a received webhook; return its ``webhook-id``.

    Raises WebhookVerificationError when a header is missing, the timestamp is more than
    ``tolerance_s`` seconds away from ``now`` (default: bolo's clock), or no signature in the
    header matches any of ``keys``.
    """
    msg_id = _header(headers, "webhook-id")
    raw_ts = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(raw_ts)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from exc
    current = (now or clock.now()).timestamp()
    if abs(current - timestamp) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance window")
    content = signed_content(msg_id, timestamp, body)
    for item in signatures.split(" "):
        version, _, signature = item.partition(",")
        if signature and any(key.verify(version, signature, content) for key in keys):
            return msg_id
    raise WebhookVerificationError("no matching signature")
