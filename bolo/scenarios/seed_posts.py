"""The posts' side of the replay: one real loopback HTTP receiver standing in for every post's own
system, and the webhook channels that point at it.

The receiver is a real server on 127.0.0.1 (a free port, its own thread). It checks every request
the way a post does, with bolo's post-side ``verify_webhook`` and the post's own secret; the
+-5 minute timestamp window is checked against the replay's fake clock (the messages are signed
on that clock, in 2023), not the wall clock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session

from bolo.clock import Clock
from bolo.dispatch.receiver import Deduper, verify_webhook
from bolo.dispatch.signing import WebhookVerificationError, new_secret
from bolo.network.graph import Mode, PostKind
from bolo.posts.schemas import Channel, ChannelKind, PostIn
from bolo.posts.service import list_posts, upsert_post
from bolo.security.urls import networks_allowed

log = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
POLL_S = 0.02  # how soon the server thread notices a shutdown (stdlib default: 0.5 s)


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


class LoopbackPosts:
    """A real HTTP receiver for every post at ``http://127.0.0.1:PORT/posts/{post_id}/{channel}``.

    POST answers 204 for a verified message (also for a duplicate, as a post should), 401 for a
    bad signature or a timestamp more than 5 minutes from ``clock()``, 404 for an unknown post,
    400 for a body that is not a JSON object. Every refusal is counted in ``rejected``.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.secrets: dict[str, str] = {}
        self.arrivals: list[Arrival] = []
        self.rejected = 0
        self.duplicates = 0
        self._seen = Deduper()
        self._lock = threading.Lock()
        self._server = _Server((LOOPBACK, 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_S,),
                                        name="replay-posts", daemon=True)

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self._server.server_address[1])

    def url_for(self, post_id: str, channel: PostChannel) -> str:
        """The webhook URL of one channel of one post."""
        return f"http://{LOOPBACK}:{self.port}/posts/{post_id}/{channel}"

    def start(self) -> None:
        """Serve in the background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> int:
        """Verify one request as the addressed post would; return the HTTP status."""
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "posts" or parts[2] not in set(PostChannel):
            return self._refuse(404, f"no such receiver path {path}")
        post_id, channel = parts[1], PostChannel(parts[2])
        secret = self.secrets.get(post_id)
        if secret is None:
            return self._refuse(404, f"no post {post_id} at this receiver")
        try:
            data = verify_webhook(body, headers, [secret], seen=self._seen, now=self.clock())
        except WebhookVerificationError as exc:
            return self._refuse(401, f"{post_id}: {exc}")
        except ValueError as exc:
            return self._refuse(400, f"{post_id}: {exc}")
        with self._lock:
            if data is None:
                self.duplicates += 1
            else:
                self.arrivals.append(Arrival(post_id, channel, str(data["webhook_id"]), data))
        return 204

    def _refuse(self, status: int, reason: str) -> int:
        log.warning("replay receiver refused a webhook (%s): %s", status, reason)
        with self._lock:
            self.rejected += 1
        return status

    def arrival(self, post_id: str, version_id: str, channel: PostChannel) -> Arrival:
        """The message of ``version_id`` that reached ``post_id`` on ``channel``; LookupError
        when it never arrived."""
        with self._lock:
            for item in self.arrivals:
                if (item.post_id, item.channel) == (post_id, channel) \
                        and item.payload.get("version_id") == version_id:
                    return item
        raise LookupError(f"no {channel} message of version {version_id} reached {post_id}")


class _Server(ThreadingHTTPServer):
    # The dispatcher opens many connections at once; with the stdlib's listen backlog of 5 the
    # kernel drops the surplus SYNs and the client retries them only after a second.
    request_queue_size = 128
    daemon_threads = True


def _handler_for(posts: LoopbackPosts) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keep-alive: the dispatcher's connection pool reuses its connections.
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.send_response(posts.handle(self.path.split("?", 1)[0], headers, body))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("replay receiver: " + format, *args)

    return Handler


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
        channels = [Channel(kind=ChannelKind.WEBHOOK, url=posts.url_for(post.id, c), secret=secret)
                    for c in PostChannel]
        upsert_post(session, actor_id=None, data=PostIn(
            id=post.id, kind=PostKind(post.kind), name=post.name, lat=post.lat, lon=post.lon,
            mode=Mode(post.mode), network=post.network, node=post.node, region=post.region,
            supervisor_id=post.supervisor_id, channels=channels))
        count += 1
    return count
