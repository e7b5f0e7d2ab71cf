"""How a post is reached: the kinds of channel, one vocabulary for the posts' registration and
the dispatcher's delivery rows. Standard library only: ``bolo --help`` loads the posts' schemas,
and the dispatcher's code stays out of it."""

from __future__ import annotations

from enum import StrEnum


class ChannelKind(StrEnum):
    """How a post is reached."""

    WEBHOOK = "webhook"
    APPRISE = "apprise"
    MQTT = "mqtt"
    FEED = "feed"  # the CAP Atom feed, pulled by its readers
    NONE = "none"  # a post without channels: its one delivery row records it as unreachable


# What a post may register (the feed needs no registration; ``none`` is the dispatcher's).
REGISTERED_KINDS = (ChannelKind.WEBHOOK, ChannelKind.APPRISE, ChannelKind.MQTT)
