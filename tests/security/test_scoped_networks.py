"""networks_allowed widens the SSRF guard for one block of code only: not through the process
environment, not for other threads, and never beyond the block however it ends."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator

import pytest

from bolo.security.urls import UnsafeUrl, check_public_url, networks_allowed, security_settings

LOOPBACK_URL = "http://127.0.0.1:9/hook"
LAB_URL = "http://10.1.2.3/hook"


def _allowed(url: str) -> bool:
    try:
        check_public_url(url)
    except UnsafeUrl:
        return False
    return True


def _in_thread(check: Callable[[], bool]) -> bool:
    # A plain thread starts from an empty context, as a web server's worker thread does.
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(check()))
    thread.start()
    thread.join()
    return result[0]


@pytest.fixture()
def no_operator_networks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("BOLO_SECURITY_ALLOW_NETWORKS", raising=False)
    security_settings.cache_clear()
    yield
    security_settings.cache_clear()


def test_the_allowance_holds_in_its_block_and_its_tasks_only(no_operator_networks: None) -> None:
    environ = dict(os.environ)
    assert not _allowed(LOOPBACK_URL)
    with networks_allowed("127.0.0.1/32"):
        assert _allowed(LOOPBACK_URL)
        assert dict(os.environ) == environ
        assert not _in_thread(lambda: _allowed(LOOPBACK_URL))

        async def in_tasks() -> tuple[bool, bool]:
            return (
                await asyncio.create_task(asyncio.sleep(0, _allowed(LOOPBACK_URL))),
                await asyncio.to_thread(_allowed, LOOPBACK_URL),
            )

        assert asyncio.run(in_tasks()) == (True, True)
        assert not _allowed(LAB_URL)
    assert not _allowed(LOOPBACK_URL)
    assert dict(os.environ) == environ


def test_the_allowance_ends_when_the_block_raises(no_operator_networks: None) -> None:
    with pytest.raises(RuntimeError), networks_allowed("127.0.0.0/8"):
        assert _allowed(LOOPBACK_URL)
        raise RuntimeError("the replay failed")
    assert not _allowed(LOOPBACK_URL)
    assert security_settings().allow_networks == ""


def test_the_operator_networks_stay_allowed_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLO_SECURITY_ALLOW_NETWORKS", "10.0.0.0/8")
    security_settings.cache_clear()
    try:
        with networks_allowed("127.0.0.1/32"):
            assert _allowed(LOOPBACK_URL) and _allowed(LAB_URL)
        assert _allowed(LAB_URL) and not _allowed(LOOPBACK_URL)
    finally:
        monkeypatch.delenv("BOLO_SECURITY_ALLOW_NETWORKS")
        security_settings.cache_clear()


def test_a_bad_network_is_refused_before_anything_changes(no_operator_networks: None) -> None:
    with pytest.raises(ValueError), networks_allowed("127.0.0.1/33"):
        pass  # pragma: no cover - never entered
    assert not _allowed(LOOPBACK_URL)
