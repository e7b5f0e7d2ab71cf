"""CAP times: parsing with an explicit offset, and writing in the form the 1.2 schema accepts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from bolo.cap.errors import CapRefused

# The 1.2 schema's pattern (its `[-,+]` admits a comma by mistake; we do not).
CAP12_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")


def parse_time(text: str, *, what: str = "time") -> datetime:
    """Parse an xs:dateTime that carries an offset; raise `CapRefused` when it has none or is bad.

    `Z` and fractional seconds (allowed by CAP 1.0 and 1.1) are accepted here; the 1.2 schema
    check, not this function, rejects them in 1.2 messages.
    """
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CapRefused(f"bad {what}: {value!r}") from exc
    if parsed.tzinfo is None:
        raise CapRefused(f"{what} without offset: {value!r}")
    try:
        parsed.astimezone(UTC)  # stored and compared in UTC: 9999-12-31T23:00-14:00 is not
    except OverflowError:
        raise CapRefused(f"bad {what}: {value!r} is outside the years 1-9999 in UTC") from None
    return parsed


def format_time(value: datetime) -> str:
    """Write `YYYY-MM-DDThh:mm:ss+hh:mm` (seconds truncated; UTC written `+00:00`).

    A naive datetime is refused with ValueError: CAP times must say their offset. An offset that
    is not a whole number of minutes is written in UTC instead.
    """
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("CAP times must be timezone-aware")
    if offset % timedelta(minutes=1):
        value = value.astimezone(UTC)
        offset = timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{sign}{hours:02d}:{mins:02d}"
    )


def fixed_offset(minutes: int) -> timezone:
    """A fixed-offset timezone of `minutes` east of UTC."""
    return timezone(timedelta(minutes=minutes))
