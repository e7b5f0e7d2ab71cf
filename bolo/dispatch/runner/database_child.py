"""The in-process dispatcher's database child: a ``WireStore`` in a process of its own,
reached over one socket pair (``DbProcess``).

The child claims rows and builds their messages, signing webhooks ahead, and records
attempts; the dispatcher's event loop only sends. Requests and answers are length-prefixed
pickles of plain tuples (``WireJob``, ``WireAttempt``), answered in order, so no
executor threads in the sending process compete with its loop for the interpreter lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.process
import pickle
import signal
import socket
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bolo import clock
from bolo.dispatch.attempts import Attempt, Claimed
from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.config import DispatchSettings
from bolo.dispatch.keys import parsed_key
from bolo.dispatch.policy import Outcome
from bolo.dispatch.runner.database import DbOp, OutboxStore
from bolo.dispatch.signing import Ed25519Key, Key, signature
from bolo.posts.channel_kinds import ChannelKind
from bolo.store.db import engine_for

log = logging.getLogger(__name__)
CHILD_EXIT_S = 10.0  # how long close() waits for the database child to finish and leave


# What crosses the socket: claimed jobs and finished attempts as plain tuples, which pickle for
# a fraction of what the dataclasses cost the event loop. They stay positional on purpose: a
# NamedTuple unpickles through its class's __new__ (5.0 against 1.6 us a job on the sending
# loop), so each is built in one place (encode_*) and read in one (decode_*), in this order:
# id, version_id, post_id, url, channel_kind, attempts, body, title, text, region, secrets,
# signature, signed_at.
WireJob = tuple[str, str, str, str, str, int, bytes, str, str, str, tuple[str, ...], str, int]
# delivery_id, number, outcome, status_code, error, retry_after_s, duration_s.
WireAttempt = tuple[str, int, str, int | None, str | None, float | None, float]


def _secret(key: Key) -> str:
    return key.private if isinstance(key, Ed25519Key) else key.secret


def encode_job(row: Claimed, message: Message, timestamp: int) -> WireJob:
    """A claimed row and its message as a plain tuple; a webhook is signed for ``timestamp``
    (Unix seconds) here, on the database side, so the sending loop computes no HMAC."""
    signed = ""
    if row.channel_kind == ChannelKind.WEBHOOK and message.keys:
        with contextlib.suppress(ValueError):  # the send signs again and reports why not
            signed = signature(
                msg_id=message.msg_id, timestamp=timestamp, body=message.body, keys=message.keys
            )
    return (
        row.id,
        row.version_id,
        row.post_id,
        row.url,
        row.channel_kind,
        row.attempts,
        message.body,
        message.title,
        message.text,
        message.region,
        tuple(_secret(k) for k in message.keys),
        signed,
        timestamp if signed else 0,
    )


def decode_job(job: WireJob) -> tuple[Claimed, Message]:
    """The row and message ``encode_job`` was given (with the signature it made)."""
    (
        id_,
        version_id,
        post_id,
        url,
        kind,
        attempts,
        body,
        title,
        text,
        region,
        secrets,
        signed,
        signed_at,
    ) = job
    return (
        Claimed(id_, version_id, post_id, url, kind, attempts),
        Message(
            id_,
            post_id,
            url,
            body,
            title,
            text,
            region,
            tuple(k for k in map(parsed_key, secrets) if k is not None),
            signed,
            signed_at,
        ),
    )


def encode_attempt(attempt: Attempt) -> WireAttempt:
    """A finished attempt as a plain tuple."""
    r = attempt.result
    return (
        attempt.delivery_id,
        attempt.number,
        r.outcome.value,
        r.status_code,
        r.error,
        r.retry_after_s,
        r.duration_s,
    )


def decode_attempt(wire: WireAttempt) -> Attempt:
    """The attempt ``encode_attempt`` was given."""
    id_, number, outcome, status, error, retry_after, duration = wire
    return Attempt(
        id_,
        number,
        SendResult(
            Outcome(outcome),
            status_code=status,
            error=error,
            retry_after_s=retry_after,
            duration_s=duration,
        ),
    )


class WireStore(OutboxStore):
    """An OutboxStore that speaks plain tuples (``WireJob``, ``WireAttempt``)
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
    store = WireStore(
        engine=engine_for(url),
        name=name,
        settings=DispatchSettings.model_validate_json(settings_json),
    )
    while True:
        try:
            op, args = pickle.loads(
                _recv_exactly(sock, _HEADER.unpack(_recv_exactly(sock, _HEADER.size))[0])
            )
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
    # Which child is current: a caller whose request the dead child took replaces it only if
    # no other caller already did (several requests are outstanding when a child dies).
    _generation: int = field(init=False, default=0)
    _restart: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    async def __call__(self, op: DbOp, *args: Any) -> Any:
        """Do ``op`` with ``args`` in the child and return its answer (or raise its error)."""
        generation = await self._started()
        try:
            return await self._call(op, args)
        except DbProcessDied:
            log.warning("the dispatcher's database process died; starting another")
            async with self._restart:
                if self._generation == generation:
                    self.close()
            await self._started()
            return await self._call(op, args)

    async def _started(self) -> int:
        """Start a child unless a live one is there; return its generation."""
        async with self._restart:
            if self._writer is None or self._reader is None or self._reader.done():
                self.close()
                await self._start()
                self._generation += 1
            return self._generation

    async def _call(self, op: DbOp, args: tuple[Any, ...]) -> Any:
        if self._writer is None:
            raise DbProcessDied("the database process was closed")
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
            target=_db_child,
            name=f"{self.name}-db",
            daemon=True,
            args=(
                child,
                self.engine.url.render_as_string(hide_password=False),
                self.settings.model_dump_json(),
                self.name,
            ),
        )
        self._process.start()
        child.close()  # the child holds its end: the parent's death closes the pair for it
        self._sock = parent
        reader, self._writer = await asyncio.open_unix_connection(sock=parent)
        # Each child answers only its own requests: a replaced one fails those it kept.
        self._pending = deque()
        self._reader = asyncio.create_task(self._answers(reader, self._pending))

    @staticmethod
    async def _answers(reader: asyncio.StreamReader, pending: deque[asyncio.Future[Any]]) -> None:
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
        """Stop the child (it finishes the request in hand, then sees the socket close);
        blocks until it has left (at most CHILD_EXIT_S, then it is killed)."""
        process = self._hang_up()
        if process is not None:
            _reap(process)

    async def aclose(self) -> None:
        """``close`` without holding the event loop while the child finishes and leaves."""
        process = self._hang_up()
        if process is not None:
            await asyncio.to_thread(_reap, process)

    def _hang_up(self) -> multiprocessing.process.BaseProcess | None:
        """Close our end of the socket; return the child to wait for."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
        if self._writer is not None:
            self._writer.close()
        process = self._process
        self._process = self._sock = self._writer = None
        return process


def _reap(process: multiprocessing.process.BaseProcess) -> None:
    process.join(CHILD_EXIT_S)
    if process.is_alive():
        process.kill()
        process.join()
