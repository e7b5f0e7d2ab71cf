"""The CAP XML bolo renders for an alert and its Cancel, in two languages, byte for byte: a
change to the rendering that alters a single byte fails here (golden files in golden/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bolo.alerts.render import render_alert, render_cancel, to_xml
from bolo.alerts.schemas import AlertContent
from bolo.settings import reset_settings

GOLDEN = Path(__file__).parent / "golden"
SENT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
CONTENT = AlertContent.model_validate(
    {
        "texts": [
            {
                "language": "en-US",
                "headline": "Child abduction: girl, 7, red coat",
                "description": "Taken from Main Street at 11:50 in a grey van.",
                "instruction": "Call 112 if you see her. Do not approach.",
            },
            {
                "language": "ko-KR",
                "headline": "아동 유괴: 7세 여아, 빨간 외투",
                "description": "11시 50분 중앙로에서 회색 승합차로 납치.",
                "instruction": "보시면 112에 신고하십시오.",
            },
        ],
        "area": {
            "description": "North corridor",
            "polygons": [[[39.0, 125.7], [39.1, 125.7], [39.1, 125.8], [39.0, 125.7]]],
            "circles": [{"lat": 39.05, "lon": 125.75, "radius_km": 12.5}],
        },
        "web": "https://alerts.example.org/alerts/a1",
        "contact": "Duty desk +850 2 000 000",
    }
)
CHILDREN = [{"name": "Mi-rae", "photo_url": "https://alerts.example.org/media/p1.jpg"}, {}]
REFERENCES = [("bolo@example.org", "bolo-first", SENT - timedelta(hours=1))]


PROFILES = [None, "ipaws", "google"]


@pytest.fixture(params=PROFILES, ids=lambda p: p or "plain")
def profile(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Render under each CAP profile bolo offers (none, ipaws, google), unsigned."""
    if request.param is None:
        monkeypatch.delenv("BOLO_CAP_PROFILE", raising=False)
    else:
        monkeypatch.setenv("BOLO_CAP_PROFILE", request.param)
    monkeypatch.setenv("BOLO_PUBLIC_BASE_URL", "https://alerts.example.org")
    monkeypatch.delenv("BOLO_CAP_SIGNING_KEY", raising=False)
    monkeypatch.delenv("BOLO_CAP_SIGNING_CERT", raising=False)
    reset_settings()
    yield request.param or "plain"
    reset_settings()


def _alert() -> str:
    return to_xml(
        render_alert(
            identifier="bolo-update",
            sender="bolo@example.org",
            sender_name="bolo child abduction alerts",
            sent=SENT,
            expires=SENT + timedelta(hours=24),
            status="Actual",
            msg_type="Update",
            content=CONTENT,
            children=CHILDREN,
            references=REFERENCES,
            incident="C-20260301-ABCDEF",
            note="second version",
        )
    )


def _cancel() -> str:
    return to_xml(
        render_cancel(
            identifier="bolo-cancel",
            sender="bolo@example.org",
            sender_name="bolo child abduction alerts",
            sent=SENT,
            status="Actual",
            last=CONTENT,
            references=REFERENCES,
            incident="C-20260301-ABCDEF",
            reason="Found safe.",
        )
    )


@pytest.mark.parametrize("name, make", [("alert", _alert), ("cancel", _cancel)])
def test_rendered_cap_is_byte_identical_to_the_golden_file(
    name: str, make: Callable[[], str], profile: str
) -> None:
    assert make() == (GOLDEN / f"{name}-{profile}.xml").read_text(encoding="utf-8")
