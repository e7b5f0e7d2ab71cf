"""bolo's SSRF guard (``bolo.security.urls``) for the CAP fetcher (``bolo.cap.fetch``), which
takes its guard from outside: cap is a pure package and imports nothing from security."""

from __future__ import annotations

from bolo.cap.fetch import FetchError, install_url_guard
from bolo.security.urls import UnsafeUrl, check_public_url


def cap_url_guard(url: str, *, allow_private: bool) -> str:
    """The first address ``check_public_url`` checked for ``url`` (http or https only, no
    credentials, every address public unless ``allow_private`` or in the operator's allowed
    networks), or FetchError saying why the URL is refused."""
    try:
        return check_public_url(url, allow_private=allow_private)[0]
    except UnsafeUrl as exc:
        raise FetchError(str(exc)) from None


def install() -> None:
    """Make ``bolo.cap.fetch`` check every URL it fetches with ``cap_url_guard``."""
    install_url_guard(cap_url_guard)
