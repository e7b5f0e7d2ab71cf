"""Token buckets: a rate limit as a pure state machine on the caller's clock.

A bucket earns ``rate`` tokens per second and stores at most ``burst``; a send or a request
takes one. Times are monotonic seconds passed in by the caller (``time.monotonic``, an event
loop's ``time()``), so tests need no sleeping. The dispatcher limits each destination with
one (``bolo.dispatch.channels.limits``), public intake each client and everyone together
(``bolo.reports.ratelimit``).
"""

from __future__ import annotations

from dataclasses import dataclass


def refilled(tokens: float, stamp: float, at: float, *, rate: float, burst: float) -> float:
    """Tokens of a bucket last seen holding ``tokens`` at ``stamp``, at time ``at`` (monotonic
    seconds; never more than ``burst``, never less when time ran backwards)."""
    return tokens if at <= stamp else min(burst, tokens + (at - stamp) * rate)


def seconds_to_token(tokens: float, rate: float) -> float:
    """Seconds until a bucket holding ``tokens`` has one (0 when it has one now)."""
    return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate


@dataclass
class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; starts full."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a bucket needs rate > 0 per second and burst >= 1")
        if self.tokens < 0:
            self.tokens = self.burst

    def refill(self, at: float) -> None:
        """Add the tokens earned since the last call (``at`` in monotonic seconds)."""
        if at > self.stamp:
            self.tokens = refilled(self.tokens, self.stamp, at, rate=self.rate, burst=self.burst)
            self.stamp = at

    def wait(self) -> float:
        """Seconds until one token is available (0 when one is there now)."""
        return seconds_to_token(self.tokens, self.rate)

    def take(self, at: float) -> bool:
        """Take one token if the bucket holds one at ``at`` (monotonic seconds); whether it
        was taken. After a refusal, ``wait()`` says how long until the next."""
        self.refill(at)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
