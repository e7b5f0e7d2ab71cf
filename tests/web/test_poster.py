"""The poster: HTML and PDF of a live Actual alert only, in the chosen language, with QR codes
that lead back to the public page and the tip form."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from bolo.alerts import service as alerts
from bolo.alerts import takedown
from bolo.alerts.activation import Attestation
from bolo.alerts.schemas import AlertDraft
from bolo.api import create_app
from bolo.auth.model import User
from bolo.settings import get_settings
from bolo.store.db import session_scope
from tests.security.factories import World

KO_HEADLINE = "아동 유괴: 송촌역 부근에서 7세 여아"


def _korean_alert(engine: Engine, world: World, status: str = "Actual") -> str:
    with session_scope(engine) as db:
        coordinator = db.get(User, world.users["coordinator"].id)
        approver = db.get(User, world.users["approver"].id)
        assert coordinator is not None and approver is not None
        draft = AlertDraft.model_validate(
            {
                "cap_status": status,
                "texts": [
                    {
                        "language": "en-US",
                        "headline": "Child abduction near Songchon",
                        "description": "Girl, 7, red coat.",
                        "instruction": "Check every car.",
                    },
                    {
                        "language": "ko-KR",
                        "headline": KO_HEADLINE,
                        "description": "빨간 외투를 입은 7세 여아, 회색 승합차.",
                        "instruction": "모든 차량을 확인하십시오.",
                    },
                ],
                "area": {
                    "description": "Songchon",
                    "circles": [{"lat": 39.2, "lon": 126.2, "radius_km": 50}],
                },
                "target_post_ids": [world.posts[0]],
            }
        )
        version = alerts.draft_alert(db, case_id=world.case_id, data=draft, author=coordinator)
        alerts.submit_for_approval(
            db,
            version_id=version.id,
            author=coordinator,
            attestation=Attestation(abduction_believed=True, risk_of_harm=True),
        )
        alerts.approve(db, version_id=version.id, sha256=version.sha256, approver=approver)
        return version.alert_id


@pytest.fixture()
def public(sqlite_engine: Engine) -> TestClient:
    return TestClient(create_app(timers=False), headers={"Accept": "text/html"})


def test_poster_page_in_korean(public: TestClient, sqlite_engine: Engine, world: World) -> None:
    alert_id = _korean_alert(sqlite_engine, world)
    page = public.get(f"/alerts/{alert_id}/poster?lang=ko")
    assert page.status_code == 200
    assert "실종 아동: 유괴" in page.text and KO_HEADLINE in page.text
    assert "@page { size: A4" in page.text and page.text.count("<svg") == 2
    english = public.get(f"/alerts/{alert_id}/poster", headers={"Accept-Language": "en"})
    assert "MISSING CHILD: ABDUCTED" in english.text and KO_HEADLINE not in english.text


def test_no_poster_unless_actual_and_active(
    public: TestClient, sqlite_engine: Engine, world: World
) -> None:
    drill = _korean_alert(sqlite_engine, world, status="Exercise")
    assert public.get(f"/alerts/{drill}/poster").status_code == 404
    assert public.get(f"/alerts/{drill}/poster.pdf").status_code == 404
    assert public.get("/alerts/no-such-alert/poster").status_code == 404
    live = _korean_alert(sqlite_engine, world)
    with session_scope(sqlite_engine) as db:
        coordinator = db.get(User, world.users["coordinator"].id)
        assert coordinator is not None
        takedown.cancel_alert(db, alert_id=live, actor=coordinator, reason="found")
    assert public.get(f"/alerts/{live}/poster?lang=ko").status_code == 404


@pytest.mark.e2e
def test_poster_pdf_has_the_korean_headline_and_qr_codes_that_lead_back(
    public: TestClient, sqlite_engine: Engine, world: World, tmp_path: Path
) -> None:
    assert shutil.which("pdftotext") and shutil.which("pdftoppm"), "apt install poppler-utils"
    alert_id = _korean_alert(sqlite_engine, world)
    pdf = public.get(f"/alerts/{alert_id}/poster.pdf?lang=ko")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert KO_HEADLINE in " ".join(text.split()) and "실종 아동: 유괴" in text
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\n", pages) and "(A4)" in pages, pages  # one A4 page
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("page*.png")))
    if keep := os.environ.get("BOLO_POSTER_PNG"):
        image.save(keep)
    found = {code.text for code in zxingcpp.read_barcodes(image)}
    base = get_settings().public_base_url.rstrip("/")
    with session_scope(sqlite_engine) as db:
        from bolo.alerts.model import Alert

        case_id = db.get(Alert, alert_id).case_id  # type: ignore[union-attr]
    assert found == {f"{base}/alerts/{alert_id}?lang=ko", f"{base}/tips/new?case={case_id}&lang=ko"}
