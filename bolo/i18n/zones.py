"""Time zones: bolo stores UTC and shows and takes times in ``BOLO_TIMEZONE`` (IANA name)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bolo.settings import get_settings


class UnknownZone(ValueError):
    """``BOLO_TIMEZONE`` is not an IANA time zone name."""


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZone(
            f"BOLO_TIMEZONE={name!r} is not an IANA time zone name (e.g. Asia/Seoul, UTC)"
        ) from exc


def zone() -> ZoneInfo:
    """The installation's time zone (``BOLO_TIMEZONE``; UTC by default)."""
    return _zone(get_settings().timezone)


def offset_text(value: datetime) -> str:
    """The UTC offset of an aware time as ``+09:00`` (``+00:00`` for UTC)."""
    raw = value.strftime("%z") or "+0000"
    return f"{raw[:3]}:{raw[3:5]}"


def local(value: datetime) -> datetime:
    """``value`` in the installation's zone (a naive value is taken as UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(zone())


def show(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time for people: local, always with its offset (``2026-04-01 23:00 +09:00``)."""
    if value is None:
        return "-"
    there = local(value)
    return f"{there.strftime(fmt)} {offset_text(there)}"


def form_value(value: datetime) -> str:
    """A time for an ``<input type=datetime-local>``: local wall-clock minutes."""
    return local(value).strftime("%Y-%m-%dT%H:%M")


def from_form(text: str) -> datetime:
    """A form's time in UTC: a wall-clock time (``2026-04-01T23:00``) is local to
    ``BOLO_TIMEZONE``; a time with an offset keeps it. ValueError when it is not a time."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone())
    return parsed.astimezone(UTC)
