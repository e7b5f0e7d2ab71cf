"""Reading JSON that arrives from outside: one exception for everything unreadable."""

from __future__ import annotations

import json
from typing import Any


def load_json(data: bytes | str) -> Any:
    """``json.loads(data)``, raising ValueError (a ``json.JSONDecodeError`` when the text is
    malformed) for everything it cannot read: bytes that are not UTF-8, and nesting too deep
    for the parser (its RecursionError, some thousand levels), which a sender controls."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
