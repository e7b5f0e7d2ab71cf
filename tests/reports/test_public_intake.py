"""The public tip endpoint and form: every bad-input class gets a 4xx saying what is wrong."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from bolo.clock import now
from bolo.reports.model import Report
from bolo.reports.public import reset_public_state
from bolo.store.db import session_scope

URL = "/api/v1/public/tips"


def tip(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "what": "a couple with a small boy on a truck",
        "place": "Kilchu",
        "seen_at": (now() - timedelta(minutes=30)).isoformat(),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def problems(response: Any) -> dict[str, str]:
    return {p["field"]: p["problem"] for p in response.json().get("problems", [])}


def stored() -> int:
    with session_scope() as s:
        return int(s.execute(select(func.count()).select_from(Report)).scalar_one())


def test_valid_tip_gets_a_receipt_and_is_geocoded(client: TestClient) -> None:
    r = client.post(URL, json=tip())
    assert r.status_code == 201, r.text
    body = r.json()
    assert re.fullmatch(r"T-[A-Z2-9]{4}-[A-Z2-9]{4}", body["receipt"])
    assert body["place"].startswith("Kilju") and abs(body["lat"] - 40.964) < 0.01
    assert stored() == 1


def test_duplicate_submission_gets_409_with_the_first_receipt(client: TestClient) -> None:
    body = tip()
    first = client.post(URL, json=body)
    again = client.post(URL, json=body)
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json()["receipt"] == first.json()["receipt"]
    assert stored() == 1


def test_html_is_stored_inert_and_shown_escaped(client: TestClient) -> None:
    script = "<script>alert('x')</script> boy with a couple"
    r = client.post(URL, json=tip(what=script))
    assert r.status_code == 201
    with session_scope() as s:
        assert s.execute(select(Report.text)).scalar_one() == script
    form = client.get("/tips/new")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    page = client.post(
        "/tips/new",
        data={
            "csrf_token": token.group(1),
            "what": script + "!",
            "place": "Hamheung",
            "seen_at": "2026-11-28T01:00",
            "tz": "+00:00",
        },
    )
    assert page.status_code == 201, page.text
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


def _jpeg_with_gps(size: tuple[int, int] = (32, 32)) -> bytes:
    image = Image.new("RGB", size, (10, 120, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (40.0, 57.0, 51.0), 3: "E", 4: (129.0, 19.0, 40.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photo_gps_is_read_then_metadata_stripped(client: TestClient) -> None:
    photo = base64.b64encode(_jpeg_with_gps()).decode()
    r = client.post(URL, json=tip(place=None, photo_base64=photo))
    assert r.status_code == 201, r.text
    assert abs(r.json()["lat"] - 40.964) < 0.001
    with session_scope() as s:
        path = s.execute(select(Report.photo_path)).scalar_one()
    from bolo.settings import get_settings

    kept = Image.open(get_settings().data_dir / str(path))
    assert len(kept.getexif()) == 0 and "exif" not in kept.info


def test_form_map_click_and_zone_less_time(client: TestClient) -> None:
    from bolo.reports.mapimage import lonlat_to_pixel

    form = client.get("/tips/new?case=")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None and form.status_code == 200
    x, y = lonlat_to_pixel(129.3278, 40.9642)
    fields = {
        "csrf_token": token.group(1),
        "what": "couple and boy walking north",
        "seen_at": "2026-11-28T01:00",
        "map.x": str(round(x)),
        "map.y": str(round(y)),
    }
    r = client.post("/tips/new", data=fields)
    assert r.status_code == 422 and "time zone" in r.text  # no tz chosen: refused
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert token is not None
    r = client.post(
        "/tips/new",
        data={**fields, "csrf_token": token.group(1), "tz": "+09:00"},
        files={"photo": ("p.jpg", _jpeg_with_gps(), "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    with session_scope() as s:
        report = s.execute(select(Report)).scalar_one()
    assert abs(report.lat - 40.9642) < 0.02 and report.how_located == "coordinates"
    assert report.photo_lat is not None and report.via == "web"


def test_rate_limits_answer_429_with_retry_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLO_TIPS_PER_CLIENT_BURST", "2")
    monkeypatch.setenv("BOLO_TIPS_PER_CLIENT_PER_MINUTE", "1")
    reset_public_state()
    codes = [client.post(URL, json=tip(what=f"boy seen, report {i}")).status_code for i in range(4)]
    assert codes == [201, 201, 429, 429]
    r = client.post(URL, json=tip(what="another"))
    assert int(r.headers["Retry-After"]) >= 1
    other = client.post(
        URL, json=tip(what="from elsewhere"), headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert other.status_code == 429  # the test client is no trusted proxy: XFF is ignored
    assert stored() == 2
