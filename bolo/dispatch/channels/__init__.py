"""Channels behind one async interface (see ``base.Channel``)."""

from bolo.dispatch.channels.base import (
    Channel,
    ChannelKind,
    ChannelSet,
    Message,
    SendResult,
)
from bolo.dispatch.channels.memory import InMemoryChannel

__all__ = ["Channel", "ChannelKind", "ChannelSet", "InMemoryChannel", "Message", "SendResult"]
