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

from bolo import i18n
from bolo.alerts.model import AlertVersion
from bolo.cap.codec import decode
from bolo.cap.errors import CapRefused
from bolo.dispatch import sms
from bolo.dispatch.channels.base import Message
from bolo.dispatch.keys import keys_that_sign, signing_keys
from bolo.dispatch.model import PostKey
from bolo.dispatch.signing import PRIVATE_PREFIX, PUBLIC_PREFIX, SYMMETRIC_PREFIX
from bolo.posts.model import Post
from bolo.settings import get_settings


@dataclass(frozen=True)
class VersionText:
    """What every post of one language is told about one version."""

    alert_id: str
    version_id: str
    identifier: str
    msg_type: str
    title: str
    text: str
    language: str = ""


def version_texts(version: AlertVersion) -> list[VersionText]:
    """The public headline and text of a version in each language of its CAP XML (one per
    ``info`` block, in the message's order; one without a language when it has none)."""
    try:
        alert = decode(version.cap_xml.encode())
    except CapRefused:
        alert = None
    content = version.content or {}
    texts = []
    for info in alert.infos if alert is not None else []:
        text = "\n\n".join(part for part in (info.description, info.instruction) if part)
        texts.append(
            VersionText(
                version.alert_id,
                version.id,
                version.identifier,
                version.msg_type,
                info.headline or info.event,
                text or str(content.get("description", "")),
                info.language,
            )
        )
    return texts or [
        VersionText(
            version.alert_id,
            version.id,
            version.identifier,
            version.msg_type,
            str(content.get("headline", version.identifier)),
            str(content.get("description", "")),
        )
    ]


def version_text(version: AlertVersion, language: str | None = None) -> VersionText:
    """The public headline and text of a version in ``language`` (a BCP 47 tag; the first
    ``info`` block when the message has none in that language)."""
    texts = version_texts(version)
    return texts[i18n.best_index([t.language for t in texts], language)]


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
    return _body(text, post_id, ack_link(secret, delivery_id, base) if secret else None, base)


def _body(text: VersionText, post_id: str, ack: str | None, base: str) -> bytes:
    head, tail = _payload_parts(text, base)
    return b"".join((head, _json(post_id), tail, _json(ack), b"}"))


@lru_cache(maxsize=64)
def _ack_line(language: str) -> str:
    with i18n.use(language):
        return i18n.gettext("Acknowledge:")


_MACHINE_SCHEMES = ("http://", "https://", "mqtt://", "mqtts://")


def human_text(text: VersionText, ack: str | None, url: str) -> tuple[str, str]:
    """(title, text) for a person (e-mail, chat, SMS) in the text's language, with the ack
    link; an SMS carries the title in its text and fits its segments with the link whole.
    Webhooks and MQTT read the JSON body instead: their text is left as it is."""
    if url.startswith(_MACHINE_SCHEMES) or not ack:
        return text.title, text.text
    link = f"{_ack_line(text.language)} {ack}"
    if sms.is_sms(url):
        return "", sms.fit(f"{text.title}\n{text.text}", link)
    return text.title, f"{text.text}\n\n{link}"


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
    rest = {
        "title": text.title,
        "text": text.text,
        "language": text.language,
        "cap_url": f"{base}/alerts/{text.alert_id}.cap",
    }
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
        self.versions: dict[str, list[VersionText]] = {}
        self.chosen: dict[tuple[str, str | None], VersionText] = {}

    def build(self, session: Session, deliveries: Sequence[DeliveryLike]) -> list[Message]:
        """Messages for ``deliveries`` (same order), reading what is missing in bulk; each in
        its post's language (the CAP message's first ``info`` block when it has none)."""
        missing = {d.version_id for d in deliveries} - set(self.versions)
        for version in session.scalars(select(AlertVersion).where(AlertVersion.id.in_(missing))):
            self.versions[version.id] = version_texts(version)
        post_ids = list({d.post_id for d in deliveries})
        rows = session.execute(
            select(
                Post.id,
                Post.region,
                Post.language,
                PostKey.secret,
                PostKey.previous_secret,
                PostKey.previous_until,
            )
            .outerjoin(PostKey, PostKey.post_id == Post.id)
            .where(Post.id.in_(post_ids))
        )
        regions: dict[str, str] = {}
        languages: dict[str, str | None] = {}
        keys: dict[str, _Key] = {}
        for post_id, region, language, secret, previous, until in rows:
            regions[post_id] = region or ""
            languages[post_id] = language
            if secret is not None:
                keys[post_id] = _Key(secret, previous, until)
        base = get_settings().public_base_url.rstrip("/")
        messages = []
        for d in deliveries:
            key = keys.get(d.post_id)
            text = self._text(d.version_id, languages.get(d.post_id))
            ack = ack_link(key.secret, d.id, base) if key else None
            title, human = human_text(text, ack, d.url)
            messages.append(
                Message(
                    msg_id=d.id,
                    post_id=d.post_id,
                    url=d.url,
                    body=_body(text, d.post_id, ack, base),
                    title=title,
                    text=human,
                    region=regions.get(d.post_id, ""),
                    keys=keys_that_sign(signing_keys(key)),
                )
            )
        return messages

    def _text(self, version_id: str, language: str | None) -> VersionText:
        """The version's text for a post reading ``language`` (chosen once per pair)."""
        key = (version_id, language)
        text = self.chosen.get(key)
        if text is None:
            texts = self.versions[version_id]
            text = texts[i18n.best_index([t.language for t in texts], language)]
            self.chosen[key] = text
        return text
