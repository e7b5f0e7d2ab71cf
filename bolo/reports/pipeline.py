"""Group commit for public tips: requests wait while their tips are stored in batches.

Under a surge, one transaction per tip would make the database (and its audit entry per
transaction) the bottleneck. Each request hands its prepared row to the ``TipWriter`` of its
event loop and awaits it; one flusher at a time takes everything queued (up to ``batch_max``),
inserts it in one transaction with one audit entry in a worker thread, and only then answers
each request. Every 2xx answer therefore means the tip is committed, and the work per tip falls
as the load rises. Items never cross threads one by one (a thread wake-up per tip costs more
than its insert): the hand-over is one list per batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bolo.reports.service import DuplicateSubmission, existing_receipt, store_rows
from bolo.store.db import default_engine

log = logging.getLogger(__name__)
_SEEN_MAX = 200_000


@dataclass
class _Item:
    row: dict[str, Any]
    contact: str | None
    future: asyncio.Future[str]


class TipWriter:
    """Batches tips of one event loop into transactions; ``submit`` awaits the commit."""

    def __init__(
        self, *, batch_max: int = 512, linger_s: float = 0.002, engine: Engine | None = None
    ) -> None:
        self.batch_max = batch_max
        self.linger_s = linger_s
        self.engine = engine
        self.batches = 0
        self._pending: list[_Item] = []
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._flusher: asyncio.Task[None] | None = None
        self._factory: sessionmaker[Session] | None = None

    async def submit(self, row: dict[str, Any], contact: str | None) -> str:
        """Queue one prepared tip row and return its receipt once committed. Raises
        DuplicateSubmission (with the first receipt) when the same tip was seen before."""
        key = row["dedupe_key"]
        first = self._seen.get(key)
        if first is not None:
            raise DuplicateSubmission(first)
        self._seen[key] = row["receipt"]
        if len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(row, contact, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        try:
            return await future
        except DuplicateSubmission:
            raise
        except BaseException:
            self._seen.pop(key, None)
            raise

    async def _flush(self) -> None:
        while self._pending:
            # Linger before each batch that is not full, so the tips arriving meanwhile share
            # its transaction: the commit and the batch's audit entry cost ~3 ms of CPU
            # whatever the batch size (cf. ~0.15 ms per tip), so fewer, larger batches raise
            # the rate the machine can take (20% fewer batches at 32 connections).
            if len(self._pending) < self.batch_max:
                await asyncio.sleep(self.linger_s)
            batch = self._pending[: self.batch_max]
            del self._pending[: self.batch_max]
            try:
                errors = await asyncio.to_thread(self._write, batch)
            except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
                for item in batch + self._pending:
                    if not item.future.done():
                        item.future.set_exception(exc)
                self._pending.clear()
                raise
            self.batches += 1
            for index, item in enumerate(batch):
                if item.future.done():  # the client went away; the tip is stored all the same
                    continue
                error = errors.get(index)
                if error is not None:
                    item.future.set_exception(error)
                else:
                    item.future.set_result(item.row["receipt"])

    def _sessions(self) -> sessionmaker[Session]:
        # One factory per engine: building a sessionmaker per batch costs more than the insert.
        engine = self.engine or default_engine()
        if self._factory is None or self._factory.kw.get("bind") is not engine:
            self._factory = sessionmaker(bind=engine, expire_on_commit=False)
        return self._factory

    def _write(self, batch: list[_Item]) -> dict[int, BaseException]:
        """Store a batch in one transaction; returns the errors by position (empty: all
        stored). Runs in a worker thread."""
        factory = self._sessions()
        try:
            # A plain connection: everything here is Core, the ORM session only added overhead.
            with cast(Engine, factory.kw["bind"]).begin() as conn:
                store_rows(
                    conn,
                    [i.row for i in batch],
                    {i.row["id"]: i.contact for i in batch if i.contact},
                )
        except IntegrityError:
            # Somebody else (another process) stored one of these: find it, keep the rest.
            errors: dict[int, BaseException] = {}
            for index, item in enumerate(batch):
                error = self._write_one(factory, item)
                if error is not None:
                    errors[index] = error
            return errors
        except Exception as exc:
            log.exception("tip batch of %d failed", len(batch))
            return dict.fromkeys(range(len(batch)), exc)
        return {}

    @staticmethod
    def _write_one(factory: sessionmaker[Session], item: _Item) -> BaseException | None:
        try:
            with factory.begin() as session:
                store_rows(
                    session, [item.row], {item.row["id"]: item.contact} if item.contact else {}
                )
        except IntegrityError as exc:
            with factory() as session:
                first = existing_receipt(session, item.row["dedupe_key"])
            return DuplicateSubmission(first) if first else exc
        except Exception as exc:
            log.exception("tip %s failed", item.row["id"])
            return exc
        return None
