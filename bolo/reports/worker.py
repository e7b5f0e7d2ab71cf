"""The triage worker: a thread that clusters stored reports as they arrive.

It polls for unclustered reports, clusters a batch (``clustering.cluster_pending``) and waits
between batches three times as long as the batch took, so under a surge it takes at most about a
quarter of one core (and of the interpreter) from the process that hosts it (the tip intake
comes first; the queue shows reports not yet clustered on lines of their own and counts them).
``bolo serve`` starts one; ``bolo report cluster --follow`` runs it as a process of its own.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine

from bolo.reports.clustering import cluster_pending
from bolo.store.db import default_engine

log = logging.getLogger(__name__)


def cluster_all(engine: Engine | None = None, *, batch: int = 1024) -> int:
    """Cluster every report waiting, batch after batch; returns how many were clustered."""
    done = 0
    while True:
        count = cluster_pending(engine or default_engine(), limit=batch)
        done += count
        if count == 0:
            return done


class TriageWorker:
    """Clusters new reports in a daemon thread: ``start()``, then ``stop()``."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        poll_s: float = 1.0,
        busy_share: float = 0.25,
        batch: int = 1024,
    ) -> None:
        if not 0.0 < busy_share <= 1.0:
            raise ValueError("busy_share must be in (0, 1]")
        self.engine = engine
        self.poll_s = poll_s
        self.busy_share = busy_share
        self.batch = batch
        self.clustered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bolo-triage", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to stop and wait up to ``timeout_s`` seconds for its current batch."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def step(self) -> float:
        """Cluster one batch; returns how long to wait before the next (seconds)."""
        started = time.perf_counter()
        try:
            count = cluster_pending(self.engine or default_engine(), limit=self.batch)
        except Exception:  # a failed batch is retried at the next poll; the thread lives on
            log.exception("triage clustering failed")
            return self.poll_s
        self.clustered += count
        if count == 0:
            return self.poll_s
        took = time.perf_counter() - started
        return took * (1.0 - self.busy_share) / self.busy_share

    def _run(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.step())
