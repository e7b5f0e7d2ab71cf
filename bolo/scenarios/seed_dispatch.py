"""Dissemination in the replay: bolo's in-process dispatcher sends every issued version to the
posts' loopback receiver, the posts acknowledge by name, silent posts are escalated on the clock.

The dispatcher is driven round by round (``Dispatcher.run_once``) on the replay's fake clock, as a
separate worker with its own database connection: the replay commits before each round, so the
dispatcher sees exactly what a production worker would.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bolo.alerts.model import AlertVersion, MsgType
from bolo.alerts.service import targets_of
from bolo.auth.model import User
from bolo.clock import FakeClock
from bolo.dispatch.acks import AckVia, acknowledge, acknowledge_by_link
from bolo.dispatch.channels.sender import Sender, default_channels
from bolo.dispatch.config import dispatch_settings
from bolo.dispatch.model import EscalationState
from bolo.dispatch.runner.inprocess import Dispatcher
from bolo.posts.service import get_post
from bolo.scenarios.seed_checks import ReplayFailed, delivered_posts, escalations
from bolo.scenarios.seed_incident import ACK_AFTER_MIN, KILJU_GUARD_POST, SILENT_POSTS, Timeline
from bolo.scenarios.seed_posts import LoopbackPosts, PostChannel, loopback_allowed

SEND_TIMEOUT_S = 5.0
MAX_ROUNDS = 50  # far more than the replay needs: a stuck outbox fails instead of looping
RNG_SEED = 20230331


class ReplayDispatcher:
    """bolo's in-process Dispatcher with the real channels, on one event loop for the whole
    replay (so the webhook connection pool lives as long as the dispatcher)."""

    def __init__(self, engine: Engine) -> None:
        self._runner = asyncio.Runner()
        sender = Sender(default_channels(timeout_s=SEND_TIMEOUT_S, max_connections=16))
        self.dispatcher = Dispatcher(
            engine=engine,
            sender=sender,
            settings=dispatch_settings(),
            rng=random.Random(RNG_SEED),
            name="replay-dispatcher",
        )

    def drain(self, session: Session) -> int:
        """Commit the replay's work, then escalate what is due and send until nothing is due on
        the clock; return the number of send attempts."""
        session.commit()
        # The round runs in a copy of the caller's context, so it sends to the loopback
        # receiver exactly when drain is called inside loopback_allowed() (a context variable).
        attempts = self._runner.run(self._drain(), context=contextvars.copy_context())
        session.expire_all()  # the dispatcher changed rows this session may hold
        return attempts

    async def _drain(self) -> int:
        total = 0
        for _ in range(MAX_ROUNDS):
            attempts = await self.dispatcher.run_once()
            if attempts == 0:
                return total
            total += attempts
        raise ReplayFailed(f"the outbox was not drained in {MAX_ROUNDS} dispatcher rounds")

    def close(self) -> None:
        """Close the channels' connections, the dispatcher's database thread and the loop."""
        try:
            self._runner.run(self.dispatcher.sender.channels.aclose())
        finally:
            self.dispatcher.close()
            self._runner.close()


@dataclass
class Dissemination:
    """What the replay needs to disseminate: the posts' receiver, the dispatcher, the clock and
    the Kilju guard post's officer (who acknowledges in bolo as a logged-in user)."""

    posts: LoopbackPosts
    dispatcher: ReplayDispatcher
    clock: FakeClock
    officer: User

    def issued(self, db: Session, tl: Timeline, version: AlertVersion, ranked: list[str]) -> None:
        """After a version is issued: deliver it; for an Alert or Update, the posts acknowledge
        (``ranked``: its targets by rank), and the silent ones are escalated on the clock."""
        issued_at = self.clock()
        self.dispatcher.drain(db)
        targets = targets_of(db, version_id=version.id)
        got = delivered_posts(db, version.id)
        if version.msg_type == MsgType.CANCEL:
            tl.add(
                self.clock(),
                "dispatcher",
                f"Cancel delivered to {len(got)} of "
                f"{len(targets)} posts, every post that received any version",
            )
            return
        tl.add(
            self.clock(),
            "dispatcher",
            f"{version.msg_type} delivered to {len(got)} of "
            f"{len(targets)} posts at once (signed webhooks, each verified by the post)",
        )
        addressed = set(targets)
        order = [p for p in ranked if p in addressed]
        others = [p for p in order if p != KILJU_GUARD_POST]
        if len(others) <= SILENT_POSTS:
            raise ReplayFailed(f"{version.msg_type} has too few posts to leave some silent")
        silent = others[-SILENT_POSTS:]
        self.clock.advance(minutes=ACK_AFTER_MIN)
        for post_id in order:
            if post_id not in silent:
                self._acknowledge(db, tl, version, post_id, PostChannel.SYSTEM)
        tl.add(
            self.clock(),
            "posts",
            f"{len(order) - len(silent)} posts acknowledged by name "
            f"(Kilju guard post: {self.officer.username})",
        )
        self._escalate(db, tl, version, silent, issued_at)

    def _escalate(
        self,
        db: Session,
        tl: Timeline,
        version: AlertVersion,
        silent: list[str],
        issued_at: datetime,
    ) -> None:
        """Silent posts: their second channel after the escalation time; one acknowledges on it,
        the rest stay silent until escalation runs out."""
        step = timedelta(seconds=dispatch_settings().escalate_after_s)
        tl.silent[version.id] = silent
        self._not_before(issued_at + step + timedelta(minutes=1))
        self.dispatcher.drain(db)
        phoned = delivered_posts(db, version.id, escalated_only=True)
        tl.add(
            self.clock(),
            "dispatcher",
            f"{len(silent)} posts silent for "
            f"{step.total_seconds() / 60:g} min: escalated to the duty officer's phone "
            f"(delivered to {len(phoned & set(silent))})",
        )
        self.clock.advance(minutes=ACK_AFTER_MIN)
        late, never = silent[0], silent[1:]
        name = self._acknowledge(db, tl, version, late, PostChannel.DUTY)
        tl.add(
            self.clock(),
            "posts",
            f"{get_post(db, post_id=late).name}: acknowledged after escalation ({name})",
        )
        self._not_before(issued_at + 2 * step + timedelta(minutes=1))
        self.dispatcher.drain(db)
        tl.unacknowledged[version.id] = never
        clocks = escalations(db, version.id)
        exhausted = [p for p in never if clocks[p][1] == EscalationState.EXHAUSTED]
        names = ", ".join(get_post(db, post_id=p).name for p in exhausted)
        tl.add(
            self.clock(),
            "dispatcher",
            f"{names}: still silent on both channels, no "
            "supervisor post: escalation exhausted, left unacknowledged",
        )

    def _not_before(self, when: datetime) -> None:
        # A short BOLO_DISPATCH_ESCALATE_AFTER_S must not move the replay's clock backwards.
        self.clock.set(max(self.clock(), when))

    def _acknowledge(
        self, db: Session, tl: Timeline, version: AlertVersion, post_id: str, channel: PostChannel
    ) -> str:
        """The post acknowledges: the Kilju officer in bolo, the others through the signed link
        of the message that reached them on ``channel``; return the name recorded."""
        if post_id == KILJU_GUARD_POST:
            name = self.officer.username
            acknowledge(db, version_id=version.id, post_id=post_id, by=name, via=AckVia.API)
        else:
            name = f"duty officer, {get_post(db, post_id=post_id).name}"
            delivery_id, token = self.posts.arrival(post_id, version.id, channel).ack_link()
            acknowledge_by_link(db, delivery_id=delivery_id, token=token, by=name)
        tl.acks[(version.id, post_id)] = name
        return name


@contextmanager
def disseminating(engine: Engine, clock: FakeClock, officer: User) -> Iterator[Dissemination]:
    """The posts' receiver and the dispatcher for one replay; both stopped on leaving."""
    posts = LoopbackPosts(clock)
    posts.start()
    try:
        with loopback_allowed():
            dispatcher = ReplayDispatcher(engine)
            try:
                yield Dissemination(posts, dispatcher, clock, officer)
            finally:
                dispatcher.close()
    finally:
        posts.stop()
