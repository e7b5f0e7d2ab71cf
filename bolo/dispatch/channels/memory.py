"""An in-memory channel for tests, like httpx's MockTransport: it records and answers."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable

from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.policy import Outcome
from bolo.posts.channel_kinds import ChannelKind

Responder = Callable[[Message], SendResult]


class InMemoryChannel:
    """Records every message; answers from a per-URL script, else from ``responder``, else
    DELIVERED."""

    def __init__(
        self, kind: ChannelKind = ChannelKind.WEBHOOK, responder: Responder | None = None
    ) -> None:
        self.kind = kind
        self.sent: list[Message] = []
        self.responder = responder
        self.scripts: dict[str, deque[SendResult]] = defaultdict(deque)

    def script(self, url: str, *results: SendResult) -> None:
        """Answer the next sends to ``url`` with ``results``, in order."""
        self.scripts[url].extend(results)

    async def send(self, message: Message) -> SendResult:
        """Record ``message`` and answer."""
        self.sent.append(message)
        queue = self.scripts.get(message.url)
        if queue:
            return queue.popleft()
        if self.responder is not None:
            return self.responder(message)
        return SendResult(Outcome.DELIVERED, status_code=200)

    def destination(self, message: Message) -> str:
        """Rate-limit key: the URL."""
        return message.url

    def to_post(self, post_id: str) -> list[Message]:
        """Messages sent to one post, in order."""
        return [m for m in self.sent if m.post_id == post_id]

    async def aclose(self) -> None:
        """Nothing to release."""
