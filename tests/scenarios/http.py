"""A plain HTTP POST for the replay receiver's tests (no client library between the test and
the server)."""

from __future__ import annotations

import urllib.error
import urllib.request


def post_status(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url``; the HTTP status of the answer, error statuses included."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
