"""Building what is sent: the thin payload (public text, CAP link, ack link) per delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolo.alerts.model import AlertVersion
from bolo.cap.codec import decode
from bolo.cap.errors import CapRefused
from bolo.dispatch.channels.base import Message
from bolo.dispatch.keys import keys_that_sign, signing_keys
from bolo.dispatch.model import PostKey
from bolo.dispatch.signing import PRIVATE_PREFIX, PUBLIC_PREFIX, SYMMETRIC_PREFIX
from bolo.posts.model import Post
from bolo.settings import get_settings


@dataclass(frozen=True)
class VersionText:
    """What every post is told about one version."""

    alert_id: str
    version_id: str
    identifier: str
    msg_type: str
    title: str
    text: str


def version_text(version: AlertVersion) -> VersionText:
    """The public headline and text of a version, read from its CAP XML (first info block)."""
    title, text = version.identifier, ""
    try:
        alert = decode(version.cap_xml.encode())
    except CapRefused:
        alert = None
    if alert is not None and alert.infos:
        info = alert.infos[0]
        title = info.headline or info.event
        text = "\n\n".join(part for part in (info.description, info.instruction) if part)
    content = version.content or {}
    title = str(content.get("headline", title))
    return VersionText(version.alert_id, version.id, version.identifier, version.msg_type,
                       title, text or str(content.get("description", "")))


@lru_cache(maxsize=65536)
def _secret_bytes(secret: str) -> bytes:
    for prefix in (SYMMETRIC_PREFIX, PRIVATE_PREFIX, PUBLIC_PREFIX):
        if secret.startswith(prefix):
            return base64.b64decode(secret.removeprefix(prefix))
    return secret.encode()


def ack_token(secret: str, delivery_id: str) -> str:
    """The token of a delivery's ack link: HMAC-SHA256 of the id under the post's secret."""
    mac = hmac.new(_secret_bytes(secret), b"ack:" + delivery_id.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode()


def ack_link(secret: str, delivery_id: str, base: str = "") -> str:
    """The signed acknowledgement link of a delivery (``base``: the public base URL)."""
    base = base or get_settings().public_base_url.rstrip("/")
    return f"{base}/api/v1/dispatch/ack/{delivery_id}?t={ack_token(secret, delivery_id)}"


def payload(
    text: VersionText, delivery_id: str, post_id: str, secret: str | None, base: str = ""
) -> bytes:
    """The thin JSON body: public text, CAP link, ack link; no personal data beyond the alert."""
    base = base or get_settings().public_base_url.rstrip("/")
    head, tail = _payload_parts(text, base)
    ack = ack_link(secret, delivery_id, base) if secret else None
    return b"".join((head, _json(post_id), tail, _json(ack), b"}"))


def _json(value: str | None) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


@lru_cache(maxsize=64)
def _payload_parts(text: VersionText, base: str) -> tuple[bytes, bytes]:
    """The JSON of the fields every post of a version shares, around the per-post ones: the
    body is encoded once per version, not once per delivery."""
    common: dict[str, Any] = {
        "type": f"alert.{text.msg_type.lower()}",
        "alert_id": text.alert_id,
        "version_id": text.version_id,
        "identifier": text.identifier,
    }
    rest = {"title": text.title, "text": text.text,
            "cap_url": f"{base}/alerts/{text.alert_id}.cap"}
    dumps = json.dumps(common, separators=(",", ":"), ensure_ascii=False)
    head = dumps[:-1] + ',"post_id":'
    middle = "," + json.dumps(rest, separators=(",", ":"), ensure_ascii=False)[1:-1]
    return head.encode(), (middle + ',"ack_url":').encode()


class _Key(NamedTuple):
    secret: str
    previous_secret: str | None
    previous_until: datetime | None


class DeliveryLike(Protocol):
    """The fields of a delivery a message is built from."""

    @property
    def id(self) -> str: ...
    @property
    def version_id(self) -> str: ...
    @property
    def post_id(self) -> str: ...
    @property
    def url(self) -> str: ...


class MessageBuilder:
    """Turns delivery rows into Messages, caching versions, posts and keys across batches."""

    def __init__(self) -> None:
        self.versions: dict[str, VersionText] = {}

    def build(self, session: Session, deliveries: Sequence[DeliveryLike]) -> list[Message]:
        """Messages for ``deliveries`` (same order), reading what is missing in bulk."""
        missing = {d.version_id for d in deliveries} - set(self.versions)
        for version in session.scalars(select(AlertVersion).where(AlertVersion.id.in_(missing))):
            self.versions[version.id] = version_text(version)
        post_ids = list({d.post_id for d in deliveries})
        rows = session.execute(
            select(Post.id, Post.region, PostKey.secret, PostKey.previous_secret,
                   PostKey.previous_until)
            .outerjoin(PostKey, PostKey.post_id == Post.id)
            .where(Post.id.in_(post_ids))
        )
        regions: dict[str, str] = {}
        keys: dict[str, _Key] = {}
        for post_id, region, secret, previous, until in rows:
            regions[post_id] = region or ""
            if secret is not None:
                keys[post_id] = _Key(secret, previous, until)
        base = get_settings().public_base_url.rstrip("/")
        messages = []
        for d in deliveries:
            key = keys.get(d.post_id)
            text = self.versions[d.version_id]
            messages.append(Message(
                msg_id=d.id, post_id=d.post_id, url=d.url,
                body=payload(text, d.id, d.post_id, key.secret if key else None, base),
                title=text.title, text=text.text, region=regions.get(d.post_id, ""),
                keys=keys_that_sign(signing_keys(key)),
            ))
        return messages
