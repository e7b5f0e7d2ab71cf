"""The tip endpoint's DirectRoute: still documented, still checked and hardened like any route;
and the tuple-based per-client rate limiter agrees with one TokenBucket per client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from bolo.buckets import TokenBucket
from bolo.clock import now
from bolo.reports.ratelimit import RateLimiter

URL = "/api/v1/public/tips"


def _tip() -> dict[str, Any]:
    return {
        "what": "a couple with a small boy on a truck",
        "place": "Kilchu",
        "seen_at": (now() - timedelta(minutes=30)).isoformat(),
    }


def test_direct_route_keeps_the_app_wide_checks(module_client: TestClient) -> None:
    r = module_client.post(f"{URL}?debug=1", json=_tip())
    assert r.status_code == 422
    assert r.json()["errors"][0]["location"] == ["query", "debug"]
    assert module_client.get(URL).status_code == 405
    r = module_client.post(URL, content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_direct_route_is_documented(module_client: TestClient) -> None:
    operation = module_client.get("/openapi.json").json()["paths"][URL]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "what" in schema["properties"] and "201" in operation["responses"]


def test_the_app_has_no_dependency_the_lean_route_would_skip() -> None:
    # DirectRoute runs no FastAPI dependencies: it calls the strict query check itself. Another
    # app-wide dependency would silently not run for the tip endpoint.
    from bolo.api import create_app
    from bolo.auth.deps import strict_json_body

    calls = [d.dependency for d in create_app(timers=False).router.dependencies]
    assert calls == [strict_json_body]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.floats(0.0, 5.0)), max_size=40),
    st.floats(0.2, 5.0),
    st.integers(1, 4),
)
def test_tuple_buckets_agree_with_token_buckets(
    steps: list[tuple[str, float]], rate: float, burst: int
) -> None:
    limiter = RateLimiter(
        per_client_rate=rate, per_client_burst=burst, overall_rate=1e9, overall_burst=1e9
    )
    buckets: dict[str, TokenBucket] = {}
    moment = 0.0
    for client, gap in steps:
        moment += gap
        bucket = buckets.setdefault(client, TokenBucket(rate, burst, stamp=moment))
        bucket.refill(moment)
        expected = bucket.wait()
        if expected == 0.0:
            bucket.tokens -= 1.0
        got = limiter.acquire(client, moment)
        assert (got == 0.0) == (expected == 0.0)
