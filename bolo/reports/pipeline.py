"""Group commit for public tips: requests wait while one writer thread stores tips in batches.

Under a surge, one transaction per tip would make SQLite the bottleneck. Requests hand their
prepared row to the writer and await it; the writer takes everything queued (up to
``batch_max``), inserts it in one transaction with one audit entry and only then answers each
request. So every 2xx answer means the tip is committed, and throughput grows with the load.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bolo.reports.service import DuplicateSubmission, existing_receipt, store_rows
from bolo.store.db import default_engine, session_scope

log = logging.getLogger(__name__)
_SEEN_MAX = 200_000


@dataclass
class _Item:
    row: dict[str, Any]
    contact: str | None
    future: asyncio.Future[str]
    loop: asyncio.AbstractEventLoop


def _settle(item: _Item, result: str | None, error: BaseException | None) -> None:
    def apply() -> None:
        if item.future.done():  # the client went away; the tip is stored all the same
            return
        if error is not None:
            item.future.set_exception(error)
        else:
            item.future.set_result(result or "")

    item.loop.call_soon_threadsafe(apply)


class TipWriter:
    """A daemon thread that commits queued tips in batches; ``submit`` awaits the commit."""

    def __init__(self, *, batch_max: int = 512, engine: Engine | None = None) -> None:
        self.batch_max = batch_max
        self.engine = engine
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0

    async def submit(self, row: dict[str, Any], contact: str | None) -> str:
        """Queue one prepared tip row and return its receipt once committed. Raises
        DuplicateSubmission (with the first receipt) when the same tip was seen before."""
        key = row["dedupe_key"]
        with self._lock:
            first = self._seen.get(key)
            if first is not None:
                raise DuplicateSubmission(first)
            self._seen[key] = row["receipt"]
            if len(self._seen) > _SEEN_MAX:
                self._seen.popitem(last=False)
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self._queue.put(_Item(row, contact, future, loop))
        try:
            return await future
        except DuplicateSubmission:
            raise
        except BaseException:
            with self._lock:
                self._seen.pop(key, None)
            raise

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="tip-writer",
                                                    daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Item]) -> None:
        engine = self.engine or default_engine()
        try:
            with session_scope(engine) as session:
                store_rows(session, [i.row for i in batch],
                           {i.row["id"]: i.contact for i in batch if i.contact})
        except IntegrityError:
            # Somebody else (another process) stored one of these: find it, keep the rest.
            for item in batch:
                self._write_one(engine, item)
            return
        except Exception as exc:
            log.exception("tip batch of %d failed", len(batch))
            for item in batch:
                _settle(item, None, exc)
            return
        self.batches += 1
        for item in batch:
            _settle(item, item.row["receipt"], None)

    def _write_one(self, engine: Engine, item: _Item) -> None:
        try:
            with session_scope(engine) as session:
                store_rows(session, [item.row],
                           {item.row["id"]: item.contact} if item.contact else {})
        except IntegrityError as exc:
            with session_scope(engine) as session:
                first = existing_receipt(session, item.row["dedupe_key"])
            _settle(item, None, DuplicateSubmission(first) if first else exc)
        except Exception as exc:
            log.exception("tip %s failed", item.row["id"])
            _settle(item, None, exc)
        else:
            _settle(item, item.row["receipt"], None)
