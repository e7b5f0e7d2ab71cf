"""Every browser asks for /favicon.ico: bolo answers with its own icon, offline, without a
session (a 404 for it filled every page's console and the server log)."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image

from bolo.api import create_app


def test_favicon_is_served_without_a_session(data_dir: object) -> None:
    answer = TestClient(create_app(timers=False)).get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert "max-age" in answer.headers["cache-control"]
    assert Image.open(io.BytesIO(answer.content)).size == (32, 32)
