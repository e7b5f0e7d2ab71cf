"""The triage worker: clusters stored reports as they arrive, one worker per database.

``TriageWorker`` polls for unclustered reports and clusters a batch at a time
(``clustering.cluster_pending``). It holds the database's ``triage-clustering`` lease
(``bolo.store.leases``) and renews it in the transaction that writes each batch, so a second
worker on the same database (another ``bolo serve``, a ``bolo report cluster --follow``) waits
and takes over only when the first stops or its lease expires.

``bolo serve`` runs the worker as a process of its own (``WorkerProcess``: ``python -m
bolo.reports.worker``), at a lower scheduling priority, so clustering never competes with the
requests for the server's interpreter and the server's requests come first for the CPU. It
restarts the process when it dies and stops it when the server stops; the process also ends by
itself when its parent is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import Connection, Engine, select

from bolo import clock
from bolo.reports.clustering import cluster_pending
from bolo.store.db import default_engine
from bolo.store.leases import Lease, hold, holder_name, release, take

log = logging.getLogger(__name__)
LEASE = "triage-clustering"
LEASE_S = 60.0  # a worker that stopped renewing is replaced after this many seconds
NICE = 10  # the worker process's priority below the server's (os.nice increment)


class TriageWorker:
    """Clusters new reports while it holds the database's clustering lease: ``step()`` does one
    batch; ``run(stop)`` loops; ``start()``/``stop()`` run the loop in a daemon thread."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        poll_s: float = 1.0,
        busy_share: float = 1.0,
        batch: int = 1024,
        lease_s: float = LEASE_S,
        holder: str | None = None,
    ) -> None:
        if not 0.0 < busy_share <= 1.0:
            raise ValueError("busy_share must be in (0, 1]")
        self.engine = engine
        self.poll_s = poll_s
        self.busy_share = busy_share
        self.batch = batch
        self.lease_s = lease_s
        self.holder = holder or holder_name()
        self.clustered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _engine(self) -> Engine:
        return self.engine or default_engine()

    def _renew(self, conn: Connection) -> bool:
        return hold(conn, name=LEASE, holder=self.holder, ttl_s=self.lease_s)

    def step(self) -> float:
        """Cluster one batch if this worker holds (or can take) the lease; returns how long to
        wait before the next step (seconds)."""
        started = time.perf_counter()
        try:
            if not take(self._engine(), name=LEASE, holder=self.holder, ttl_s=self.lease_s):
                return self.poll_s  # another worker clusters this database
            count = cluster_pending(self._engine(), limit=self.batch, guard=self._renew)
        except Exception:  # a failed batch is retried at the next poll; the worker lives on
            log.exception("triage clustering failed")
            return self.poll_s
        self.clustered += count
        if count == 0:
            return self.poll_s
        took = time.perf_counter() - started
        return took * (1.0 - self.busy_share) / self.busy_share

    def drain(self) -> int:
        """Cluster every report waiting, batch after batch, then give the lease up; returns
        how many were clustered (0 as well when another worker holds the lease)."""
        done = 0
        try:
            while take(self._engine(), name=LEASE, holder=self.holder, ttl_s=self.lease_s):
                count = cluster_pending(self._engine(), limit=self.batch, guard=self._renew)
                done += count
                if count == 0:
                    break
        finally:
            self.release()
        self.clustered += done
        return done

    def other_holder(self) -> str | None:
        """The holder of the clustering lease when another worker holds it now (else None)."""
        with self._engine().connect() as conn:
            lease = conn.execute(
                select(Lease.holder, Lease.expires_at).where(Lease.name == LEASE)
            ).first()
        if lease is None or lease.holder == self.holder or lease.expires_at < clock.now():
            return None
        return str(lease.holder)

    def release(self) -> None:
        """Give the lease up (another worker may take over at once)."""
        with contextlib.suppress(Exception):  # an unreachable database: the lease expires
            release(self._engine(), name=LEASE, holder=self.holder)

    def run(self, stop: threading.Event, parent_pid: int | None = None) -> None:
        """Step until ``stop`` is set (or, given ``parent_pid``, that process is no longer this
        one's parent), then release the lease."""
        try:
            while not stop.is_set():
                if parent_pid is not None and os.getppid() != parent_pid:
                    log.warning("triage worker: its server is gone, stopping")
                    break
                stop.wait(self.step())
        finally:
            self.release()

    def start(self) -> None:
        """Run the loop in a daemon thread (once)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run, args=(self._stop,), name="bolo-triage", daemon=True
            )
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread, waiting up to ``timeout_s`` seconds for its current batch."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None


def cluster_all(engine: Engine | None = None, *, batch: int = 1024) -> int:
    """Cluster every report waiting (``TriageWorker.drain``); returns how many were clustered
    (0 when another worker holds the clustering lease)."""
    return TriageWorker(engine, batch=batch).drain()


class WorkerProcess:
    """The triage worker as a child process of this one: ``start()``, ``stop()``. A child that
    exits or dies is started again after ``restart_s`` seconds (doubling, up to
    ``max_restart_s``, while it keeps dying young). Every child holds the lease under the same
    holder name, so a restarted one takes over its predecessor's lease at once."""

    def __init__(
        self,
        command: list[str] | None = None,
        *,
        restart_s: float = 1.0,
        max_restart_s: float = 30.0,
    ) -> None:
        self.command = command or [sys.executable, "-m", "bolo.reports.worker"]
        self.restart_s = restart_s
        self.max_restart_s = max_restart_s
        self.holder = holder_name()
        self.starts = 0
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        """The running child's process id (None before the first start)."""
        child = self._child
        return child.pid if child is not None else None

    def exit_code(self) -> int | None:
        """How the current child ended, while it is dead and not yet restarted (negative: the
        signal that killed it); None while it runs, and before the first start."""
        child = self._child
        return None if child is None else child.poll()

    def start(self) -> None:
        """Start the child and a thread that restarts it when it dies (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._supervise, name="bolo-triage-supervisor", daemon=True
            )
            self._thread.start()

    def _supervise(self) -> None:
        delay = self.restart_s
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                self._child = subprocess.Popen(
                    [*self.command, "--parent", str(os.getpid()), "--holder", self.holder]
                )
                self.starts += 1
            began = time.monotonic()
            code = self._child.wait()
            if self._stop.is_set():
                return
            if time.monotonic() - began > 4 * self.max_restart_s:
                delay = self.restart_s  # it had been running well: restart promptly
            log.warning("triage worker exited with %s; restarting in %.0f s", code, delay)
            if self._stop.wait(delay):
                return
            delay = min(2 * delay, self.max_restart_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the child (SIGTERM: it finishes its batch's transaction and gives the lease
        up; SIGKILL after ``timeout_s`` seconds) and the supervising thread."""
        with self._lock:
            self._stop.set()
            child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout_s)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None


def main(argv: list[str] | None = None) -> None:
    """``python -m bolo.reports.worker [--parent PID] [--holder NAME]``: the worker process
    ``bolo serve`` starts (with ``--parent``, it stops when that process is no longer its
    parent; ``--holder`` names it as the clustering lease's holder)."""
    from bolo.ops.logs import setup_logging

    parser = argparse.ArgumentParser(description="bolo's triage clustering worker")
    parser.add_argument("--parent", type=int, default=None)
    parser.add_argument("--holder", default=None)
    args = parser.parse_args(argv)
    setup_logging()
    with contextlib.suppress(OSError):
        os.nice(NICE)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    TriageWorker(holder=args.holder).run(stop, parent_pid=args.parent)


if __name__ == "__main__":
    main()
