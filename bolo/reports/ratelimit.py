"""Token-bucket rate limits for public intake: one bucket per client and one for everyone.

A request passes only when both its client's bucket and the overall bucket hold a token; otherwise
the caller answers 429 with ``Retry-After`` set to the seconds returned. Times are monotonic
seconds (``time.monotonic``), passed in so tests need no sleeping.
"""

from __future__ import annotations

import math
import threading
import time

from bolo.buckets import TokenBucket, refilled, seconds_to_token

OVERFLOW = "*overflow*"


class RateLimiter:
    """Per-client and overall token buckets, safe to share between threads.

    A client's bucket is kept as a ``(tokens, stamp)`` tuple rather than a ``TokenBucket``:
    under a surge there is one per tipster, and tuples of floats are not tracked by Python's
    cyclic garbage collector, whose full collections would otherwise scan every one of them.

    At most ``max_clients`` buckets are kept. When the table is full, the buckets that have
    refilled (they carry no history) are dropped, at most once per refill time so that a
    flood of new clients does not scan the table on every request; if it is still full, new
    clients share one overflow bucket. No client's bucket is ever reset by others arriving.
    """

    def __init__(
        self,
        *,
        per_client_rate: float,
        per_client_burst: float,
        overall_rate: float,
        overall_burst: float,
        max_clients: int = 100_000,
    ) -> None:
        TokenBucket(per_client_rate, per_client_burst)  # refuses a bad per-client setting
        self.per_client_rate = per_client_rate
        self.per_client_burst = float(per_client_burst)
        self.overall = TokenBucket(overall_rate, overall_burst)
        self.max_clients = max_clients
        self._clients: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        # Seconds for an empty bucket to refill: a sweep sooner than that would find little.
        self._sweep_every_s = max(1.0, self.per_client_burst / per_client_rate)
        self._swept_at = -math.inf

    def acquire(self, client: str, at: float | None = None) -> float:
        """Take a token for ``client``; return 0 when allowed, else the seconds to wait
        (rounded up to whole seconds, at least 1, as ``Retry-After`` wants)."""
        moment = time.monotonic() if at is None else at
        with self._lock:
            state = self._clients.get(client)
            if state is None and len(self._clients) >= self.max_clients:
                self._forget_idle(moment)
                if len(self._clients) >= self.max_clients:
                    client = OVERFLOW
                    state = self._clients.get(client)
            tokens = self.per_client_burst if state is None else self._refilled(state, moment)
            self.overall.refill(moment)
            mine = seconds_to_token(tokens, self.per_client_rate)
            wait = max(mine, self.overall.wait())
            if wait > 0.0:
                self._clients[client] = (tokens, moment)
                return float(max(1, math.ceil(wait)))
            self._clients[client] = (tokens - 1.0, moment)
            self.overall.tokens -= 1.0
            return 0.0

    def _refilled(self, state: tuple[float, float], moment: float) -> float:
        return refilled(*state, moment, rate=self.per_client_rate, burst=self.per_client_burst)

    def _forget_idle(self, moment: float) -> None:
        # A full bucket carries no history: dropping it changes nothing for that client.
        if moment - self._swept_at < self._sweep_every_s:
            return
        self._swept_at = moment
        for key, state in list(self._clients.items()):
            if self._refilled(state, moment) >= self.per_client_burst:
                del self._clients[key]
