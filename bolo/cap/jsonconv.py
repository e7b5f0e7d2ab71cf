"""The CAP model as JSON-ready data (times as CAP strings, enums as their CAP values)."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from bolo.cap.model import Alert
from bolo.cap.times import format_time


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """A JSON-ready dict of `alert`: model field names, CAP enum values, CAP time strings."""
    data: dict[str, Any] = _plain(alert)
    return data


def alert_to_json(alert: Alert, *, indent: int | None = 2) -> str:
    """`alert` as a JSON document (UTF-8 text, non-ASCII kept)."""
    return json.dumps(alert_to_dict(alert), indent=indent, ensure_ascii=False)
