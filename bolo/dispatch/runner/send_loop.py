"""The sending half both backends share: a queue of jobs, ``concurrency`` senders, a writer that
records finished sends in batches, and in-flight tokens.

A send holds one of ``window`` tokens from before it is sent until its result is committed, so
at most ``window`` deliveries are ever sent-but-unrecorded: that is what a crash can repeat
(the receiver drops the repeats by webhook-id). The writer records whatever finished while the
previous batch was written, so the batch grows with the rate and the database sees one
transaction per round, not per send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Job = TypeVar("Job")
Done = TypeVar("Done")


@dataclass
class SendPipeline(Generic[Job, Done]):
    """``send`` turns a job into what ``record`` commits (None: nothing to record, e.g. a send
    that failed unexpectedly and is left to its lease); ``record`` commits a batch and returns
    False to stop recording (the pipeline is ending and the database still refuses). A feeder
    puts jobs on ``queue`` and waits for room with ``wait_for_room``."""

    send: Callable[[Job], Awaitable[Done | None]]
    record: Callable[[list[Done]], Awaitable[bool]]
    concurrency: int
    window: int
    room_below: int  # the feeder gets room when fewer jobs than this wait in the queue
    queue: asyncio.Queue[Job] = field(default_factory=asyncio.Queue)
    _room: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _done: list[Done] = field(init=False, default_factory=list)
    _finished: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _drained: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def has_room(self) -> bool:
        """Whether the feeder may add a round of jobs now."""
        return self.queue.qsize() < self.room_below

    async def wait_for_room(self, timeout_s: float) -> None:
        """Return when the senders have taken jobs off the queue, or after ``timeout_s``."""
        self._room.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._room.wait(), timeout_s)

    async def run(self, feed: Awaitable[object], stop: asyncio.Event) -> None:
        """Send and record while ``feed`` runs; then send what is queued (unless the writer
        died: its tokens would never come back) and record everything that finished. A writer
        that fails sets ``stop`` and its error is raised here: a crash, not a silent hang."""
        tokens = asyncio.Semaphore(self.window)
        senders = [asyncio.create_task(self._sender(tokens)) for _ in range(self.concurrency)]
        writer = asyncio.create_task(self._writer(tokens))
        writer.add_done_callback(
            lambda task: (
                stop.set() if not task.cancelled() and task.exception() is not None else None
            )
        )
        try:
            await feed
        finally:
            stop.set()
            joined = asyncio.ensure_future(self.queue.join())
            await asyncio.wait({joined, writer}, return_when=asyncio.FIRST_COMPLETED)
            joined.cancel()
            for task in senders:
                task.cancel()
            self._drained.set()
            self._finished.set()
            await writer

    async def _sender(self, tokens: asyncio.Semaphore) -> None:
        while True:
            job = await self.queue.get()
            if self.has_room():
                self._room.set()
            await tokens.acquire()
            try:
                done = await self.send(job)
            finally:
                self.queue.task_done()
            if done is None:
                tokens.release()
                continue
            self._done.append(done)
            self._finished.set()

    async def _writer(self, tokens: asyncio.Semaphore) -> None:
        while not self._drained.is_set() or self._done:
            await self._finished.wait()
            self._finished.clear()
            if not self._done:
                continue
            batch = self._done[:]
            del self._done[: len(batch)]
            if not await self.record(batch):
                return
            for _ in batch:
                tokens.release()
