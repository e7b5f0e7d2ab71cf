"""The CAP tests fetch through bolo's SSRF guard, as the ``bolo`` command installs it at start
(``bolo.cap.fetch`` takes its guard from outside: cap imports nothing from security)."""

from __future__ import annotations

import pytest

from bolo.security import fetchguard


@pytest.fixture(autouse=True)
def _bolo_url_guard() -> None:
    fetchguard.install()
