"""Retry policy as pure functions: outcome classes, exponential backoff with jitter.

Nothing here reads the wall clock or a global random generator: callers pass the time (seconds
on any monotonic scale) and a ``random.Random``, so tests run the policy on a fake clock.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Outcome(StrEnum):
    """What one attempt means for the delivery."""

    DELIVERED = "delivered"  # the post's endpoint took it (2xx)
    SENT = "sent"  # handed to a relay that does not confirm receipt (MQTT broker, Apprise)
    RETRY = "retry"  # transient: try again after the backoff
    SLOW_DOWN = "slow_down"  # the destination asks us to back off (429, 502, 504, Retry-After)
    DISABLE = "disable"  # 410 Gone: the endpoint is disabled, no more sends to it
    PERMANENT = "permanent"  # a 4xx that no retry will fix


SLOW_DOWN_CODES = frozenset({429, 502, 503, 504})
# A Retry-After beyond a year is read as a year (RetryPolicy caps what it obeys lower still).
MAX_RETRY_AFTER_S = 365 * 24 * 3600.0
_DELTA_SECONDS = re.compile(r"[0-9]+")
RETRY_4XX = frozenset({408, 425})


def classify_status(status: int) -> Outcome:
    """The outcome of an HTTP response status code."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.DISABLE
    if status in SLOW_DOWN_CODES:
        return Outcome.SLOW_DOWN
    if status in RETRY_4XX or status >= 500:
        return Outcome.RETRY
    return Outcome.PERMANENT


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent
    or unreadable. Never negative, never more than MAX_RETRY_AFTER_S. The header comes from
    the post's server: whatever it holds, this never raises."""
    if not value:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):  # ASCII digits only: "²".isdigit() is True
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, says RFC 5322 (no zone known)
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER_S)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry (all durations in seconds)."""

    base_s: float = 2.0
    factor: float = 2.0
    max_backoff_s: float = 600.0
    max_attempts: int = 8
    slow_down_factor: float = 4.0
    max_retry_after_s: float = 3600.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay before attempt ``attempt + 1`` after ``attempt`` (1-based) failures.

        "Equal jitter": half the exponential step is fixed, half random, so retries spread out
        but never come back immediately.
        """
        step = min(self.max_backoff_s, self.base_s * self.factor ** max(0, attempt - 1))
        return step / 2 + rng.uniform(0, step / 2)

    def next_delay(
        self, outcome: Outcome, attempt: int, rng: random.Random, retry_after_s: float | None
    ) -> float | None:
        """Seconds until the next attempt, or None when the delivery must not be retried."""
        if outcome in (Outcome.DELIVERED, Outcome.SENT, Outcome.DISABLE, Outcome.PERMANENT):
            return None
        if attempt >= self.max_attempts:
            return None
        delay = self.backoff(attempt, rng)
        if outcome is Outcome.SLOW_DOWN:
            delay *= self.slow_down_factor
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.max_retry_after_s))
        return delay
