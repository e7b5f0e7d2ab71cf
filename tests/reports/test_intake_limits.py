"""Limits of the public tip intake: a photo's pixels are capped from its header before any
decoding, photos decode in a bounded pool, IPv6 clients are limited by their /64, and the
per-client limiter never resets the buckets of clients already seen when its table is full."""

from __future__ import annotations

import asyncio
import base64
import io
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bolo.clock import now
from bolo.reports import photo as photo_module
from bolo.reports.photo import MAX_PIXELS, PhotoError, clean_photo, clean_photo_bounded
from bolo.reports.public import reset_public_state
from bolo.reports.ratelimit import RateLimiter

URL = "/api/v1/public/tips"


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 20, 30, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_small_file_of_too_many_pixels_is_refused_before_decoding() -> None:
    bomb = _png(6320, 6320)  # ~170 KB of file, 40 million pixels
    assert len(bomb) < 300_000
    with pytest.raises(PhotoError, match="million pixels") as refused:
        clean_photo(bomb)
    assert refused.value.status == 413
    # A phone's 12 MP photo still passes, shrunk to at most 2048 px a side.
    side = int(MAX_PIXELS**0.5) - 1
    cleaned = clean_photo(_png(side, side))
    with Image.open(io.BytesIO(cleaned.data)) as out:
        assert max(out.size) == 2048


def test_the_tip_endpoint_refuses_the_pixel_bomb(client: TestClient) -> None:
    body = {
        "what": "a boy on a truck",
        "place": "Kilchu",
        "seen_at": (now() - timedelta(minutes=30)).isoformat(),
        "photo_base64": base64.b64encode(_png(6320, 6320)).decode(),
    }
    answer = client.post(URL, json=body)
    assert answer.status_code == 413 and "million pixels" in answer.text


async def test_photos_decode_in_a_bounded_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def slow_clean(raw: bytes) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1
        return raw

    monkeypatch.setattr(photo_module, "clean_photo", slow_clean)
    capacity = photo_module.DECODE_WORKERS + photo_module.DECODE_WAITING
    tasks = [asyncio.create_task(clean_photo_bounded(b"x")) for _ in range(capacity)]
    await asyncio.sleep(0.2)
    with pytest.raises(PhotoError) as refused:  # one more than the pool holds
        await clean_photo_bounded(b"x")
    assert refused.value.status == 429
    release.set()
    assert await asyncio.gather(*tasks) == [b"x"] * capacity
    assert peak[0] == photo_module.DECODE_WORKERS


def test_ipv6_clients_are_limited_by_their_64(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLO_TIPS_PER_CLIENT_BURST", "1")
    monkeypatch.setenv("BOLO_TIPS_PER_CLIENT_PER_MINUTE", "1")
    monkeypatch.setenv("BOLO_TIPS_TRUSTED_PROXIES", "testclient")
    reset_public_state()

    def send(address: str, what: str) -> int:
        body = {
            "what": what,
            "place": "Kilchu",
            "seen_at": (now() - timedelta(minutes=30)).isoformat(),
        }
        return client.post(URL, json=body, headers={"X-Forwarded-For": address}).status_code

    assert send("2001:db8:1:2::1", "first from a /64") == 201
    assert send("2001:db8:1:2:ffff:1:2:3", "same /64, other address") == 429
    assert send("2001:db8:1:3::1", "the next /64") == 201
    assert send("::ffff:203.0.113.7", "mapped IPv4") == 201
    assert send("203.0.113.7", "the same IPv4 unmapped") == 429
    reset_public_state()


def test_a_full_table_never_resets_the_clients_it_holds() -> None:
    limiter = RateLimiter(
        per_client_rate=1 / 60,
        per_client_burst=2,
        overall_rate=1e6,
        overall_burst=1e6,
        max_clients=3,
    )
    for name in ("a", "b", "c"):
        assert limiter.acquire(name, 0.0) == limiter.acquire(name, 0.0) == 0.0
        assert limiter.acquire(name, 0.0) > 0  # drained
    # Newcomers while the table is full (nobody idle) share one overflow bucket ...
    assert limiter.acquire("d", 1.0) == 0.0
    assert limiter.acquire("e", 1.0) == 0.0
    assert limiter.acquire("f", 1.0) > 0
    # ... and the clients already held stay drained: no fresh burst for anyone.
    assert all(limiter.acquire(name, 2.0) > 0 for name in ("a", "b", "c"))
    # Once their buckets have refilled, they are dropped and newcomers get their own.
    assert limiter.acquire("g", 200.0) == 0.0
    assert limiter.acquire("g", 200.0) == 0.0


def test_a_flood_of_new_clients_does_not_scan_the_table_each_time() -> None:
    limiter = RateLimiter(
        per_client_rate=1 / 60,
        per_client_burst=5,
        overall_rate=1e9,
        overall_burst=1e9,
        max_clients=100_000,
    )
    for i in range(100_000):
        limiter.acquire(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}", 0.0)
    started = time.perf_counter()
    for i in range(20_000):
        limiter.acquire(f"flood-{i}", 1.0 + i * 1e-4)
    assert time.perf_counter() - started < 5.0
