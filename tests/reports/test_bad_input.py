"""Requests that must be refused, each with a 4xx and a message saying what is wrong.

These tests share one app and database (nothing they send may be stored).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_public_intake import URL, problems, stored, tip

from bolo.clock import now


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"lat": "north", "lon": 129.0}, "lat", "valid number"),  # wrong type
        ({"lat": True, "lon": 129.0}, "lat", "valid number"),  # bool is not a number
        ({"lat": 95.0, "lon": 129.0}, "lat", "less than or equal to 90"),  # out of range
        ({"what": None}, "what", "required"),  # missing field
        ({"place": None}, "body", "say where"),  # no place at all
        ({"what": "a boy\u0007 hidden bell"}, "what", "control characters"),
        ({"contact": "me\r\nX-Injected: 1"}, "contact", "one line"),  # CRLF
        ({"seen_at": "2026-04-01T14:00:00"}, "seen_at", "time zone"),  # no zone
        ({"seen_at": (now() + timedelta(hours=2)).isoformat()}, "seen_at", "future"),
        ({"seen_at": "yesterday"}, "seen_at", "datetime"),
        ({"colour": "red"}, "colour", "not a known field"),  # extra field
        ({"what": "x" * 5000}, "what", "at most 4000"),
    ],
)
def test_bad_json_input_is_refused_with_a_message(
    module_client: TestClient, change: dict[str, Any], field: str, words: str
) -> None:
    body = tip(**{k: v for k, v in change.items() if v is not None})
    for key in [k for k, v in change.items() if v is None]:
        body.pop(key, None)
    r = module_client.post(URL, json=body)
    assert r.status_code == 422, r.text
    found = problems(r)
    assert field in found and words in found[field], found
    assert stored() == 0


def test_unknown_case(module_client: TestClient) -> None:
    r = module_client.post(URL, json=tip(case_id="no-such-case"))
    assert r.status_code == 422 and "no case" in r.json()["detail"]


def test_wrong_content_type_oversize_and_broken_json(module_client: TestClient) -> None:
    client = module_client
    r = client.post(URL, content=json.dumps(tip()), headers={"content-type": "text/plain"})
    assert r.status_code == 415 and "application/json" in r.json()["detail"]
    r = client.post(
        URL, json=tip(what="x" * 3000, place="y" * 150, contact="z" * 150, padding="p" * 20000)
    )
    assert r.status_code == 413
    r = client.post(URL, content=b'{"what": "abc", ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "Invalid JSON" in problems(r)["body"]
    r = client.post(URL, content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert stored() == 0


def test_photo_of_wrong_type_bad_base64_or_too_big(module_client: TestClient) -> None:
    client = module_client
    r = client.post(URL, json=tip(photo_base64=base64.b64encode(b"GIF89a....").decode()))
    assert r.status_code == 415 and "JPEG, PNG or WebP" in r.json()["detail"]
    r = client.post(URL, json=tip(photo_base64="not base64!"))
    assert r.status_code == 422
    big = base64.b64encode(b"\xff\xd8" + b"0" * (5 * 1024 * 1024)).decode()
    r = client.post(URL, json=tip(photo_base64=big))
    assert r.status_code == 413
    assert stored() == 0


def test_form_needs_its_csrf_token(module_client: TestClient) -> None:
    client = module_client
    fields = {
        "what": "boy and couple at the station",
        "place": "Kilju",
        "seen_at": "2026-11-28T01:00",
        "tz": "+00:00",
    }
    r = client.post("/tips/new", data=fields)
    assert r.status_code == 403 and "missing CSRF token" in r.text
    client.get("/tips/new")
    r = client.post("/tips/new", data={**fields, "csrf_token": "1.forged.deadbeef"})
    assert r.status_code == 403 and "invalid CSRF token" in r.text
    assert stored() == 0
