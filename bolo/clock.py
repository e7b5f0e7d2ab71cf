"""The one place bolo reads the time from, so tests can run timers on a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def _system_now() -> datetime:
    return datetime.now(UTC)


_clock: Clock = _system_now


def now() -> datetime:
    """The current time, timezone-aware UTC (from the fake clock when one is in use)."""
    return _clock()


@contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    """Read time from ``clock`` inside the block (tests, replays)."""
    global _clock
    previous = _clock
    _clock = clock
    try:
        yield
    finally:
        _clock = previous


class FakeClock:
    """A settable clock: ``clock.advance(seconds=60)`` moves time forward."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start time")
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by a timedelta given as keyword arguments; return the new time."""
        self.current = self.current + timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (timezone-aware)."""
        if when.tzinfo is None:
            raise ValueError("FakeClock needs timezone-aware times")
        self.current = when
