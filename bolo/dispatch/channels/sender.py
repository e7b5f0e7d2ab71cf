"""Sending one message through its channel (the channel of its kind), under its destination's
rate limit (``bolo.dispatch.channels.limits``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bolo.dispatch.channels.apprise_channel import AppriseChannel
from bolo.dispatch.channels.base import (
    Channel,
    ChannelSet,
    FeedChannel,
    Message,
    SendResult,
)
from bolo.dispatch.channels.limits import DEFAULT_LIMITS, RateLimits, SharedLimiter
from bolo.dispatch.channels.mqtt import MqttChannel
from bolo.dispatch.channels.webhook import WebhookChannel
from bolo.dispatch.policy import Outcome
from bolo.posts.channel_kinds import ChannelKind


def default_channels(*, timeout_s: float = 10.0, max_connections: int = 200) -> ChannelSet:
    """The real channels: webhook, Apprise, MQTT and the pull feed."""
    return ChannelSet.of(
        {
            ChannelKind.WEBHOOK: WebhookChannel(
                timeout_s=timeout_s, max_connections=max_connections
            ),
            ChannelKind.APPRISE: AppriseChannel(),
            ChannelKind.MQTT: MqttChannel(timeout_s=timeout_s),
            ChannelKind.FEED: FeedChannel(),
        }
    )


@dataclass
class Sender:
    """Sends messages by channel kind, waiting for the destination's rate limit first: in this
    process's buckets, or with ``shared`` in the deployment's (every worker shares them)."""

    channels: ChannelSet
    limits: dict[ChannelKind, RateLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    shared: SharedLimiter | None = None

    async def _wait_for_token(self, channel: Channel, message: Message, limits: RateLimits) -> None:
        destination = channel.destination(message)
        bucket = limits.bucket(destination)
        if self.shared is not None:
            await self.shared.wait(f"{channel.kind}:{destination}", bucket.rate, bucket.burst)
            return
        loop = asyncio.get_running_loop()
        while not bucket.take(loop.time()):
            await asyncio.sleep(bucket.wait())

    async def send(self, kind: str, message: Message) -> SendResult:
        """One attempt; a kind this dispatcher has no channel for fails permanently."""
        try:
            channel = self.channels.get(kind)
        except (KeyError, ValueError):
            return SendResult(Outcome.PERMANENT, error=f"no channel of kind {kind!r}")
        limits = self.limits.get(channel.kind)
        if limits is not None:  # most kinds are not limited: no wait to set up per send
            await self._wait_for_token(channel, message, limits)
        return await channel.send(message)
