"""The posts' side of the replay: one real loopback HTTP receiver standing in for every post's own
system, and the webhook channels that point at it.

The receiver is bolo's own post-side server (``bolo.dispatch.receiver.server``, what
``bolo post-receiver`` runs) on 127.0.0.1, on a free port and its own event loop thread. It checks
every request the way a post does, with the post's own secret; the +-5 minute timestamp window
is checked against the replay's fake clock (the messages are signed on that clock, in 2023), not
the wall clock.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session

from bolo.clock import Clock
from bolo.dispatch.receiver.server import BackgroundReceiver, ReceiverApp, UnknownPost
from bolo.dispatch.receiver.verify import Deduper
from bolo.dispatch.signing import Key, key_from_string, new_secret
from bolo.network.graph import Mode, PostKind
from bolo.posts.channel_kinds import ChannelKind
from bolo.posts.schemas import ChannelIn, PostIn
from bolo.posts.service import list_posts, upsert_post
from bolo.security.urls import networks_allowed

log = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"


class PostChannel(StrEnum):
    """The two webhook channels every post has in the replay, in escalation order."""

    SYSTEM = "system"  # the post's own alerting system: sent at once
    DUTY = "duty"  # the duty officer's phone: sent only when the post stays silent


@dataclass(frozen=True)
class Arrival:
    """One verified, first-seen webhook at one post's channel."""

    post_id: str
    channel: PostChannel
    webhook_id: str
    payload: dict[str, Any]

    def ack_link(self) -> tuple[str, str]:
        """The (delivery id, token) of the signed acknowledgement link the message carried."""
        parts = urlsplit(str(self.payload["ack_url"]))
        token = parse_qs(parts.query)["t"][0]
        return parts.path.rstrip("/").rsplit("/", 1)[-1], token


@dataclass
class _ChannelReceiver(ReceiverApp):
    """The receiver of one channel of every post: keeps each new message as an Arrival."""

    channel: PostChannel = PostChannel.SYSTEM
    posts: LoopbackPosts | None = None

    def accept(self, post_id: str, msg_id: str, body: bytes) -> None:
        """Keep the message; ValueError (answered 400) when the body is not a JSON object."""
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("the webhook body is not a JSON object")
        assert self.posts is not None
        self.posts.arrived(Arrival(post_id, self.channel, msg_id, data))


class LoopbackPosts:
    """A real HTTP receiver for every post at ``http://127.0.0.1:PORT/posts/{post_id}/{channel}``.

    POST answers 204 for a verified message (also for a duplicate, as a post should), 401 for a
    bad signature or a timestamp more than 5 minutes from ``clock()``, 404 for an unknown post
    or path, 400 for a body that is not a JSON object. Every refusal is counted in ``rejected``.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.secrets: dict[str, str] = {}
        self.arrivals: list[Arrival] = []
        self._keys: dict[str, Key] = {}
        self._unrouted = 0
        self._lock = threading.Lock()
        seen = Deduper()  # one memory for both channels, as one post system would have
        self._apps = {
            c: _ChannelReceiver(
                keys_for=self._keys_for, deduper=seen, clock=clock, channel=c, posts=self
            )
            for c in PostChannel
        }
        self._server = BackgroundReceiver(self, LOOPBACK, 0)

    @property
    def port(self) -> int:
        """The bound TCP port (0 before ``start``)."""
        return self._server.port

    @property
    def rejected(self) -> int:
        """Requests refused (401, 404, 400)."""
        return self._unrouted + sum(app.rejected for app in self._apps.values())

    @property
    def duplicates(self) -> int:
        """Verified messages already seen (answered 204, not kept again)."""
        return sum(app.duplicates for app in self._apps.values())

    def url_for(self, post_id: str, channel: PostChannel) -> str:
        """The webhook URL of one channel of one post."""
        return f"http://{LOOPBACK}:{self.port}/posts/{post_id}/{channel}"

    def start(self) -> None:
        """Serve in the background thread, on a free port."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.stop()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        """Route ``/posts/{post_id}/{channel}`` to that channel's receiver, which verifies the
        request as the addressed post would; return (status, JSON body or empty)."""
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "posts" or parts[2] not in set(PostChannel):
            self._unrouted += 1  # only the receiver's loop thread counts
            status, answer = 404, b""
        else:
            app = self._apps[PostChannel(parts[2])]
            status, answer = app.handle(method, f"/posts/{parts[1]}", headers, body)
        if status >= 400:
            log.warning(
                "replay receiver refused %s %s (%s): %s",
                method,
                path,
                status,
                answer.decode() or "no such receiver path",
            )
        return status, answer

    def _keys_for(self, post_id: str) -> list[Key]:
        secret = self.secrets.get(post_id)
        if secret is None:
            raise UnknownPost(f"no post {post_id} at this receiver")
        key = self._keys.get(secret)
        if key is None:
            key = self._keys[secret] = key_from_string(secret)
        return [key]

    def arrived(self, item: Arrival) -> None:
        """Keep one new verified message (called on the receiver's thread)."""
        with self._lock:
            self.arrivals.append(item)

    def arrival(self, post_id: str, version_id: str, channel: PostChannel) -> Arrival:
        """The message of ``version_id`` that reached ``post_id`` on ``channel``; LookupError
        when it never arrived."""
        with self._lock:
            for item in self.arrivals:
                if (item.post_id, item.channel) == (post_id, channel) and item.payload.get(
                    "version_id"
                ) == version_id:
                    return item
        raise LookupError(f"no {channel} message of version {version_id} reached {post_id}")


def loopback_allowed() -> AbstractContextManager[None]:
    """Let bolo's SSRF guard send to 127.0.0.1 inside the block, as an operator's
    BOLO_SECURITY_ALLOW_NETWORKS does for an on-premises receiver, but for the replay's own
    context only: the environment is left alone, a server thread keeps refusing loopback URLs,
    and the allowance ends however the block ends."""
    return networks_allowed(f"{LOOPBACK}/32")


def give_channels(session: Session, posts: LoopbackPosts, post_ids: Sequence[str]) -> int:
    """Give each post two webhook channels at the receiver (its system, then its duty phone)
    and a fresh per-post secret, through the posts service; return how many posts."""
    count = 0
    for post in list_posts(session, ids=post_ids):
        secret = posts.secrets[post.id] = new_secret()
        channels = [
            ChannelIn(kind=ChannelKind.WEBHOOK, url=posts.url_for(post.id, c), secret=secret)
            for c in PostChannel
        ]
        upsert_post(
            session,
            actor=None,
            data=PostIn(
                id=post.id,
                kind=PostKind(post.kind),
                name=post.name,
                lat=post.lat,
                lon=post.lon,
                mode=Mode(post.mode),
                network=post.network,
                node=post.node,
                region=post.region,
                supervisor_id=post.supervisor_id,
                channels=channels,
            ),
        )
        count += 1
    return count
