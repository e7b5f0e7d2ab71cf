"""Operations of a real `bolo serve`: ready once its dispatcher beats, Prometheus metrics by
their names, JSON logs with a request id and no ack token."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.serve.running import bolo_serve

SECRET_TOKEN = "SeCrEtAcKtOkEn123"
METRIC_NAMES = (
    "bolo_http_requests_total",
    "bolo_http_request_duration_seconds_bucket",
    "bolo_tips_total",
    "bolo_deliveries",
    "bolo_outbox_depth",
    "bolo_time_to_first_delivery_seconds_bucket",
    "bolo_time_to_ack_seconds_bucket",
    "bolo_escalation_steps_total",
    "bolo_triage_backlog",
    "bolo_dispatchers_alive",
    "bolo_triage_worker_alive",
    "bolo_delivery_attempts",
)


def _ready(base: str) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        answer = httpx.get(f"{base}/readyz", timeout=10)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_serve_is_ready_measured_and_logs_without_tokens(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    with bolo_serve(data_dir, env={"BOLO_LOG_FORMAT": "json"}) as served:
        ready = _ready(served.base)
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "migrations", "dispatcher", "triage"}
        ack = httpx.get(
            f"{served.base}/api/v1/dispatch/ack/no-such-delivery?t={SECRET_TOKEN}",
            headers={"X-Request-ID": "req-42"},
            timeout=10,
        )
        assert ack.headers["x-request-id"] == "req-42"
        tip = httpx.post(f"{served.base}/api/v1/public/tips", json={"what": ""}, timeout=10)
        assert 400 <= tip.status_code < 500
        metrics = httpx.get(f"{served.base}/metrics", timeout=10)
        assert metrics.status_code == 200
        text = metrics.text
        assert [n for n in METRIC_NAMES if n not in text] == []
        assert 'bolo_tips_total{result="refused"} 1.0' in text
        assert 'route="/api/v1/dispatch/ack/{delivery_id}"' in text
        assert 'bolo_dispatchers_alive{role="dispatcher"} 1.0' in text
    lines = [
        json.loads(line) for line in served.log.read_text().splitlines() if line.startswith("{")
    ]
    assert SECRET_TOKEN not in served.log.read_text()
    access = [
        r for r in lines if r.get("event") == "http.request" and r.get("request_id") == "req-42"
    ]
    assert len(access) == 1 and access[0]["path"].startswith("/api/v1/dispatch/ack/")
    assert access[0]["status"] == ack.status_code and access[0]["level"] == "info"
    assert all("timestamp" in r and "level" in r for r in lines)
