"""Metrics and log hygiene in one process: the database-wide figures follow the outbox, the
metrics token is enforced, a dispatcher worker serves its own /metrics, and secrets are cut
out of every log line."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.dispatch.signing import new_secret
from bolo.ops.logs import scrub, setup_logging
from bolo.settings import reset_settings
from tests.serve.factories import issue_webhook_alert
from tests.serve.running import BOLO, bolo_env, free_port


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in the metrics")


def test_outbox_figures_follow_the_database(sqlite_engine: Engine) -> None:
    client = TestClient(create_app(timers=False))
    before = client.get("/metrics").text
    assert _sample(before, "bolo_outbox_depth") == 0
    issue_webhook_alert(free_port(), new_secret())  # nothing listens: it stays due
    time.sleep(5.1)  # the figures are cached for 5 s
    after = client.get("/metrics").text
    assert _sample(after, "bolo_outbox_depth") == 1
    assert 'bolo_deliveries{channel="webhook",status="pending"} 1.0' in after


def test_metrics_token(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLO_METRICS_TOKEN", "scrape-me")
    reset_settings()
    client = TestClient(create_app(timers=False))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200 and "bolo_http_requests_total" in ok.text


def test_a_dispatcher_worker_serves_its_metrics(sqlite_engine: Engine, data_dir: Path) -> None:
    issue_webhook_alert(free_port(), new_secret())  # nothing listens there: a failed attempt
    port = free_port()
    with (data_dir / "worker.log").open("wb") as log_file:
        proc = subprocess.Popen(
            [*BOLO, "dispatcher", "--metrics-port", str(port)],
            env=bolo_env(data_dir, {"BOLO_DATABASE_URL": str(sqlite_engine.url)}),
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        deadline, text = time.monotonic() + 30, ""
        while time.monotonic() < deadline and "bolo_delivery_attempts_total{" not in text:
            with contextlib.suppress(httpx.TransportError):
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            time.sleep(0.3)
        log = (data_dir / "worker.log").read_text(errors="replace")
        assert 'bolo_delivery_attempts_total{channel="webhook",outcome="retry"} 1.0' in text, log
        assert 'bolo_delivery_send_seconds_count{channel="webhook"} 1.0' in text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_secrets_are_cut_out_of_log_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        scrub("GET /api/v1/dispatch/ack/d1?t=abc.DEF-1&x=2")
        == "GET /api/v1/dispatch/ack/d1?t=[redacted]&x=2"
    )
    assert "whsec_[redacted]" in scrub("key whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert scrub("Authorization: Bearer tok.en_1") == "Authorization: Bearer [redacted]"
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        setup_logging("json")
        structlog.get_logger("test").info("sent", url="https://h/x?token=s3cret", password="pw")
        logging.getLogger("uvicorn.access").info('"GET /ack/1?t=s3cret HTTP/1.1" 200')
    finally:
        root.handlers, root.level = saved
        structlog.reset_defaults()
    err = capsys.readouterr().err
    assert "s3cret" not in err and '"pw"' not in err and err.count("[redacted]") == 3


def test_request_labels_stay_bounded(sqlite_engine: Engine) -> None:
    client = TestClient(create_app(timers=False))
    for i in range(3):
        client.request(f"BREW{i}", "/healthz")
        client.get(f"/no/such/page/{i}")
    text = client.get("/metrics").text
    assert "BREW" not in text and "/no/such/page" not in text
    assert 'method="other",route="/healthz"' in text and 'route="unmatched"' in text
