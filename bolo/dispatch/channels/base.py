"""The channel interface: one async ``send`` per message, whatever the medium."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bolo.dispatch.policy import Outcome
from bolo.dispatch.signing import Key
from bolo.posts.channel_kinds import ChannelKind


@dataclass(frozen=True)
class Message:
    """One delivery, ready to send.

    ``msg_id`` is the delivery id: the ``webhook-id`` that stays the same across retries, so the
    post de-duplicates. ``body`` is the thin JSON payload; ``title``/``text`` the public text for
    human channels (e-mail, SMS, chat).
    """

    msg_id: str
    post_id: str
    url: str
    body: bytes
    title: str
    text: str
    region: str = ""
    keys: tuple[Key, ...] = ()
    # The webhook-signature of this message for webhook-timestamp ``signed_at`` (Unix seconds),
    # computed ahead by the dispatcher's database side (``runner.database_child.encode_job``):
    # the sending loop then only checks it is recent instead of computing an HMAC per send.
    signature: str = ""
    signed_at: int = 0


@dataclass(frozen=True)
class SendResult:
    """What one attempt produced; ``duration_s`` in seconds, ``retry_after_s`` from the server."""

    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    duration_s: float = 0.0


@runtime_checkable
class Channel(Protocol):
    """A way to reach posts. Implementations never raise for delivery failures: they return a
    SendResult whose outcome says whether to retry."""

    kind: ChannelKind

    async def send(self, message: Message) -> SendResult:
        """Try to deliver ``message`` once."""
        ...

    def destination(self, message: Message) -> str:
        """The key rate limits are counted under (host, gateway, broker)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


@dataclass
class ChannelSet:
    """The channels a dispatcher uses, by kind."""

    channels: dict[ChannelKind, Channel] = field(default_factory=dict)

    @classmethod
    def of(cls, channels: Mapping[ChannelKind, Channel]) -> ChannelSet:
        """A set from a mapping of kind to channel."""
        return cls(dict(channels))

    def get(self, kind: str) -> Channel:
        """The channel of ``kind``; KeyError when this dispatcher has none."""
        # A StrEnum key hashes and compares as its value: the plain string finds it without
        # an enum lookup per send.
        return self.channels[kind]  # type: ignore[index]

    async def aclose(self) -> None:
        """Close every channel."""
        for channel in self.channels.values():
            await channel.aclose()


class FeedChannel:
    """The CAP Atom feed is pulled by readers: once the version is committed it is published."""

    kind = ChannelKind.FEED

    async def send(self, message: Message) -> SendResult:
        """Nothing to push: the feed route reads the committed version."""
        return SendResult(Outcome.DELIVERED)

    def destination(self, message: Message) -> str:
        """All feed deliveries share one key."""
        return "feed"

    async def aclose(self) -> None:
        """Nothing to release."""
