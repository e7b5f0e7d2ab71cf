"""Channels behind one async interface (see ``base.Channel``)."""

from bolo.dispatch.channels.base import (
    Channel,
    ChannelSet,
    Message,
    SendResult,
)
from bolo.dispatch.channels.memory import InMemoryChannel

__all__ = ["Channel", "ChannelSet", "InMemoryChannel", "Message", "SendResult"]
