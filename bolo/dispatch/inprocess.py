"""The in-process backend: asyncio workers that claim outbox rows, send and record.

With ``separate_db_process`` the database side (claims with their messages, signed ahead;
records; escalations) runs in a child process of its own, reached over one socket pair
(``DbProcess``): the event loop only sends, and no executor threads in the sending process
compete with it for the interpreter lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.process
import pickle
import random
import signal
import socket
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from bolo import clock
from bolo.dispatch.channels.base import Message
from bolo.dispatch.claims import Claimed, decode_attempt, decode_job, encode_attempt, encode_job
from bolo.dispatch.config import DispatchSettings, dispatch_settings
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.results import Attempt
from bolo.dispatch.sending import Sender
from bolo.dispatch.store import DbOp, DbRunner, Job, OutboxStore
from bolo.store.db import engine_for

log = logging.getLogger(__name__)
CHILD_EXIT_S = 10.0  # how long close() waits for the database child to finish and leave


class DbCall(Protocol):
    """Where the dispatcher's database work runs (a thread, or a child process)."""

    async def __call__(self, op: DbOp, *args: Any) -> Any:
        """Do ``op`` with ``args``; return its result."""
        ...

    def close(self) -> None:
        """Stop the thread or process."""
        ...


@dataclass
class Dispatcher:
    """Claims due deliveries, sends them ``concurrency`` at a time and records every attempt.

    ``run_once`` does one claim-send-record round (tests drive it on a fake clock); ``run``
    pipelines claiming, sending and recording until ``stop`` is set. The database work (a
    ``WireStore``) runs on one thread, or with ``separate_db_process`` in a child process
    (``DbProcess``).
    """

    engine: Engine
    sender: Sender
    settings: DispatchSettings = field(default_factory=dispatch_settings)
    rng: random.Random = field(default_factory=random.Random)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}-inprocess")
    builder: MessageBuilder = field(default_factory=MessageBuilder)
    separate_db_process: bool = False
    _db: DbCall = field(init=False)
    _room: asyncio.Event = field(init=False)

    def __post_init__(self) -> None:
        if self.separate_db_process:
            self._db = DbProcess(engine=self.engine, settings=self.settings, name=self.name)
        else:
            self._db = DbRunner(WireStore(engine=self.engine, settings=self.settings,
                                          name=self.name, rng=self.rng, builder=self.builder))

    def close(self) -> None:
        """Stop the database thread or process."""
        self._db.close()

    async def _attempt(self, row: Claimed, message: Message) -> Attempt:
        result = await self.sender.send(row.channel_kind, message)
        return Attempt(row.id, row.attempts + 1, result)

    async def run_once(self) -> int:
        """Escalate what is due, then claim, send and record every due delivery once; return the
        number of attempts made."""
        await self._db(DbOp.ESCALATE)
        jobs = [decode_job(j) for j in await self._db(DbOp.CLAIM, self.settings.batch)]
        gate = asyncio.Semaphore(self.settings.concurrency)

        async def bounded(row: Claimed, message: Message) -> Attempt:
            async with gate:
                return await self._attempt(row, message)

        attempts = await asyncio.gather(*(bounded(r, m) for r, m in jobs))
        await self._db(DbOp.RECORD, [encode_attempt(a) for a in attempts])
        return len(attempts)

    async def run(self, stop: asyncio.Event) -> None:
        """Pipelined loop: a claimer feeds ``concurrency`` senders, a writer records batches.

        A send holds one of ``in_flight_window`` tokens from before it is sent until its attempt
        is committed, so at most that many deliveries are ever sent-but-unrecorded: that is the
        window a crash can repeat (the receiver drops the repeats by webhook-id).
        """
        # Room for two claims: one being sent while the next is read.
        queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=2 * self.settings.batch)
        self._room = asyncio.Event()
        done: list[Attempt] = []
        finished = asyncio.Event()
        tokens = asyncio.Semaphore(self.settings.in_flight_window)
        senders = [asyncio.create_task(self._sender(queue, done, tokens, finished))
                   for _ in range(self.settings.concurrency)]
        writer = asyncio.create_task(self._writer(done, tokens, finished, stop))
        # A writer that fails (the database is gone) ends the run instead of leaving the
        # senders waiting for tokens it would have released: a crash, not a silent hang.
        writer.add_done_callback(lambda task: stop.set() if not task.cancelled()
                                 and task.exception() is not None else None)
        try:
            await self._claimer(queue, stop)
        finally:
            stop.set()  # however the claimer ended, the writer must drain and return
            try:
                if not writer.done():
                    await queue.join()
                for task in senders:
                    task.cancel()
                finished.set()
                await writer
                await self._db(DbOp.RECORD, [encode_attempt(a) for a in done])
            finally:
                self.close()

    async def _claimer(self, queue: asyncio.Queue[Job], stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_escalation = 0.0
        batch = self.settings.batch
        while not stop.is_set():
            if loop.time() >= next_escalation:
                await self._db(DbOp.ESCALATE)
                next_escalation = loop.time() + 1.0
            if queue.maxsize - queue.qsize() < batch:
                # The senders have a batch in hand: claim the next one as soon as there is
                # room for it (not after a poll interval, which would cap the rate).
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), self.settings.poll_s)
                continue
            # Claim in large rounds: each claim costs a statement, whatever its size.
            jobs = await self._db(DbOp.CLAIM, batch)
            for job in jobs:
                queue.put_nowait(decode_job(job))
            if not jobs:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_s)

    async def _sender(
        self, queue: asyncio.Queue[Job], done: list[Attempt], tokens: asyncio.Semaphore,
        finished: asyncio.Event,
    ) -> None:
        while True:
            row, message = await queue.get()
            if queue.maxsize - queue.qsize() >= self.settings.batch:
                self._room.set()
            await tokens.acquire()
            try:
                done.append(await self._attempt(row, message))
                finished.set()
            except Exception:
                tokens.release()
                log.exception("send of delivery %s failed unexpectedly; its lease will expire",
                              row.id)
            finally:
                queue.task_done()

    async def _writer(
        self, done: list[Attempt], tokens: asyncio.Semaphore, finished: asyncio.Event,
        stop: asyncio.Event,
    ) -> None:
        # Records whatever finished while the previous batch was being written: the batch
        # grows with the rate, so the database sees one transaction per round, not per send.
        while not stop.is_set() or done:
            await finished.wait()
            finished.clear()
            if not done:
                continue
            batch = done[:]
            del done[: len(batch)]
            await self._db(DbOp.RECORD, [encode_attempt(a) for a in batch])
            for _ in batch:
                tokens.release()


class WireStore(OutboxStore):
    """An OutboxStore that speaks plain tuples (``claims.WireJob``, ``claims.WireAttempt``)
    to the event loop: claimed webhooks come signed, so the loop computes no HMAC."""

    def call(self, op: DbOp, *args: Any) -> Any:
        """Do ``op``: CLAIM answers WireJobs, RECORD takes WireAttempts."""
        if op is DbOp.CLAIM:
            now = int(clock.now().timestamp())
            return [encode_job(row, message, now) for row, message in self.claim(*args)]
        if op is DbOp.RECORD:
            return self.record([decode_attempt(a) for a in args[0]])
        return super().call(op, *args)


class DbProcessDied(RuntimeError):
    """The database child process ended before answering."""


_HEADER = struct.Struct("!I")


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _db_child(sock: socket.socket, url: str, settings_json: str, name: str) -> None:
    """The database child: answer each request (op, args) in order until the parent closes
    the socket (or dies: its end closes with it)."""
    # The parent stops on SIGINT and then closes the socket; a Ctrl-C reaching the whole
    # process group must not kill the child in the middle of a transaction.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    store = WireStore(engine=engine_for(url), name=name,
                      settings=DispatchSettings.model_validate_json(settings_json))
    while True:
        try:
            op, args = pickle.loads(_recv_exactly(sock, _HEADER.unpack(
                _recv_exactly(sock, _HEADER.size))[0]))
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (True, store.call(DbOp(op), *args))
        except Exception as exc:  # sent to the parent, which raises it
            log.exception("database operation %s failed", op)
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an exception that cannot be pickled
            data = pickle.dumps((False, RuntimeError(f"{op} failed: {exc!r} ({answer[1]!r})")))
        try:
            sock.sendall(_HEADER.pack(len(data)) + data)
        except OSError:
            return  # the parent is gone (killed): nobody to answer


@dataclass
class DbProcess:
    """A WireStore in a child process (started on first use), answering requests in
    order over a socket pair; a child that dies is replaced and the request made again (a
    claim is only a lease, a record is idempotent per attempt number). The child connects with
    the engine's URL: put connection arguments in the URL."""

    engine: Engine
    settings: DispatchSettings
    name: str
    _process: multiprocessing.process.BaseProcess | None = field(init=False, default=None)
    _sock: socket.socket | None = field(init=False, default=None)
    _writer: asyncio.StreamWriter | None = field(init=False, default=None)
    _reader: asyncio.Task[None] | None = field(init=False, default=None)
    # Futures of the requests the current child has not answered yet, in request order.
    _pending: deque[asyncio.Future[Any]] = field(init=False, default_factory=deque)

    async def __call__(self, op: DbOp, *args: Any) -> Any:
        """Do ``op`` with ``args`` in the child and return its answer (or raise its error)."""
        try:
            return await self._call(op, args)
        except DbProcessDied:
            log.warning("the dispatcher's database process died; starting another")
            self.close()
            return await self._call(op, args)

    async def _call(self, op: DbOp, args: tuple[Any, ...]) -> Any:
        if self._writer is None or self._reader is None or self._reader.done():
            self.close()
            await self._start()
        assert self._writer is not None
        data = pickle.dumps((str(op), args), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._writer.write(_HEADER.pack(len(data)) + data)
        except (OSError, RuntimeError) as exc:  # the transport closed under us: child gone
            raise DbProcessDied(f"the database process is gone: {exc!r}") from exc
        # Appended after the write: the answer can only be read once this coroutine yields.
        future = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        ok, answer = await future
        if not ok:
            raise answer
        return answer

    async def _start(self) -> None:
        parent, child = socket.socketpair()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_db_child, name=f"{self.name}-db", daemon=True,
            args=(child, self.engine.url.render_as_string(hide_password=False),
                  self.settings.model_dump_json(), self.name))
        self._process.start()
        child.close()  # the child holds its end: the parent's death closes the pair for it
        self._sock = parent
        reader, self._writer = await asyncio.open_unix_connection(sock=parent)
        # Each child answers only its own requests: a replaced one fails those it kept.
        self._pending = deque()
        self._reader = asyncio.create_task(self._answers(reader, self._pending))

    @staticmethod
    async def _answers(reader: asyncio.StreamReader, pending: deque[asyncio.Future[Any]]
                       ) -> None:
        try:
            while True:
                size = _HEADER.unpack(await reader.readexactly(_HEADER.size))[0]
                answer = pickle.loads(await reader.readexactly(size))
                future = pending.popleft()
                if not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, OSError):
            pass  # the child is gone: whatever it did not answer fails below
        finally:
            while pending:
                future = pending.popleft()
                if not future.done():
                    future.set_exception(DbProcessDied("the database process ended"))

    def close(self) -> None:
        """Stop the child (it finishes the request in hand, then sees the socket close)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
        if self._writer is not None:
            self._writer.close()
        if self._process is not None:
            self._process.join(CHILD_EXIT_S)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._process = self._sock = self._writer = None
