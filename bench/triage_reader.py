"""A coordinator reading the triage page during a tip surge (bench/tips_bench.py
--with-triage-reader): signs in, then loads ``/console/triage?case=ID`` every 2 s, the next
view starting only once the last has been answered (as the console's live refresh does)."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import httpx


class TriageReader:
    """Loads a case's triage page every ``period_s`` seconds in a thread: ``start``, ``stop``."""

    def __init__(
        self,
        base: str,
        case_id: str,
        username: str,
        password: str,
        period_s: float = 2.0,
        idle: bool = False,
    ) -> None:
        self.idle = idle  # a control run: the surge as with a reader, but nothing is read
        self.base, self.case_id = base, case_id
        self.username, self.password = username, password
        self.period_s = period_s
        self.durations: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="triage-reader", daemon=True)

    def start(self) -> None:
        """Sign in and start reading (nothing when idle)."""
        if not self.idle:
            self._thread.start()

    def stop(self) -> None:
        """Stop after the view in progress."""
        self._stop.set()
        if not self.idle:
            self._thread.join(120)

    def figures(self) -> dict[str, Any]:
        """The views' count and timings (ms), and the first failures."""
        return page_figures([self])

    def _run(self) -> None:
        with httpx.Client(
            base_url=self.base, timeout=120, headers={"Accept": "text/html"}
        ) as client:
            answer = client.post(
                "/login", data={"username": self.username, "password": self.password}
            )
            if answer.status_code != 303:
                self.failures.append(f"login: {answer.status_code}")
                return
            while not self._stop.is_set():
                started = time.perf_counter()
                page = client.get(f"/console/triage?case={self.case_id}")
                self.durations.append(time.perf_counter() - started)
                if page.status_code != 200:
                    self.failures.append(f"page: {page.status_code}")
                self._stop.wait(max(0.0, self.period_s - (time.perf_counter() - started)))


def page_figures(readers: list[TriageReader]) -> dict[str, Any]:
    """The views of all ``readers`` together: count, timings (ms), the first failures."""
    ms = [1000.0 * d for r in readers for d in r.durations]
    return {
        "reader_views": len(ms),
        "reader_page_ms_median": round(statistics.median(ms), 1) if ms else None,
        "reader_page_ms_max": round(max(ms), 1) if ms else None,
        "reader_failures": [f for r in readers for f in r.failures][:5],
    }
