"""The journey reuses the browser fixture of the browser tests."""

from tests.e2e.conftest import browser

__all__ = ["browser"]
