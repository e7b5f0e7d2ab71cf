"""What the console's header badges and the drafting map's legend say, in English and Korean:
the auto-refresh badge says nothing about alerts, an alert page says LIVE or NOT LIVE, the
drafting form's map names the picture's regions, the delivery board's states are translated."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from sqlalchemy import Engine, update

from bolo.alerts.model import Alert
from bolo.reports.model import Report
from bolo.store.db import session_scope
from bolo.web.mapdata import report_points
from tests.security.factories import World
from tests.web.conftest import ClientFor
from tests.web.test_languages import english_left

EN, KO = {"Accept-Language": "en"}, {"Accept-Language": "ko"}


def _attr(html: str, element_id: str, name: str) -> str:
    """The attribute ``name`` of the element ``element_id`` ('' when it has none)."""
    found: dict[str, str] = {}

    class Finder(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = {k: v or "" for k, v in attrs}
            if values.get("id") == element_id:
                found.update(values)

    Finder().feed(html)
    assert found, f"no #{element_id}"
    return found.get(name, "")


def _text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, f"no #{element_id}"
    return found.group(1).strip()


def test_the_refresh_badge_says_what_it_means_in_both_languages(client_for: ClientFor) -> None:
    coordinator = client_for("coordinator")
    english = coordinator.get("/console", headers=EN).text
    korean = coordinator.get("/console", headers=KO).text
    assert _attr(english, "live-status", "data-live-text") == "auto-refresh on"
    assert "says nothing about alerts" in _attr(english, "live-status", "title")
    assert _attr(korean, "live-status", "data-live-text") == "자동 새로 고침 켜짐"
    assert "경보와는 관계가 없습니다" in _attr(korean, "live-status", "title")
    assert 'id="mode-badge"' not in english  # a page about no alert has no mode


def test_an_alert_page_says_whether_the_alert_is_live(
    client_for: ClientFor, world: World, sqlite_engine: Engine
) -> None:
    coordinator = client_for("coordinator")
    url = f"/console/alerts/{world.alert_id}"
    live = coordinator.get(url, headers=EN).text
    assert _text(live, "mode-badge") == "LIVE" and "badge mode live" in live
    assert "reaches posts and the public" in _attr(live, "mode-badge", "title")
    update_form = coordinator.get(f"{url}/update", headers=KO).text
    assert _text(update_form, "mode-badge") == "실제 경보"  # its update form says it too
    with session_scope(sqlite_engine) as db:
        db.execute(update(Alert).where(Alert.id == world.alert_id).values(cap_status="Exercise"))
    english = coordinator.get(url, headers=EN).text
    korean = coordinator.get(url, headers=KO).text
    assert _text(english, "mode-badge") == "Exercise - NOT LIVE"
    assert "badge mode exercise" in english
    assert "the public never sees it" in _attr(english, "mode-badge", "title")
    assert _text(korean, "mode-badge") == "훈련 - 실제 아님"
    assert "일반에는 절대 공개되지 않습니다" in _attr(korean, "mode-badge", "title")


def test_the_drafting_map_names_the_regions_in_both_languages(
    client_for: ClientFor, world: World
) -> None:
    coordinator = client_for("coordinator")
    url = f"/console/cases/{world.case_id}/alerts/new"
    english = coordinator.get(url, headers=EN).text
    korean = coordinator.get(url, headers=KO).text
    legend = re.search(r'id="pick-legend".*?</p>', english, re.S)
    assert legend and "Suspects 90% likely within" in legend.group(0)
    assert "Suspects 50% likely within" in legend.group(0)
    legend = re.search(r'id="pick-legend".*?</p>', korean, re.S)
    assert legend and "용의자가 90% 확률로 있는 구역" in legend.group(0)
    assert "용의자가 50% 확률로 있는 구역" in legend.group(0)
    labels = json.loads(_attr(korean, "pick-map", "data-labels"))
    assert labels == {
        "region90": "용의자가 90% 확률로 있는 구역",
        "region50": "용의자가 50% 확률로 있는 구역",
    }
    assert "/static/regions.js" in korean


def test_the_delivery_board_is_in_korean(client_for: ClientFor, world: World) -> None:
    board = client_for("coordinator").get("/console/deliveries", headers=KO).text
    rows = re.findall(r'<tr class="(?:waiting|acked)"><td>.*?</td><td>(.*?)</td>', board, re.S)
    assert rows, "the world's live alert's post is on the board"
    assert not any(re.search("[A-Za-z]", state) for state in rows), rows
    assert english_left(board) == []


def test_the_case_maps_words_are_in_the_readers_language(
    client_for: ClientFor, world: World
) -> None:
    coordinator = client_for("coordinator")
    url = f"/console/cases/{world.case_id}/map.json"
    korean = coordinator.get(url, headers=KO).json()
    english = coordinator.get(url, headers=EN).json()
    kinds = {
        f["properties"]["kind"]: f["properties"]["kind_word"] for f in korean["posts"]["features"]
    }
    assert kinds.get("checkpoint") == "검문소", kinds
    assert {f["properties"]["kind_word"] for f in english["posts"]["features"]} >= {"checkpoint"}
    seen = datetime(2026, 3, 31, 9, 10, tzinfo=UTC)
    report = Report(
        id="r-1",
        kind="sighting",
        state="credible",
        lat=39.3,
        lon=126.3,
        seen_at=seen,
        receipt="R-1",
        radius_m=500.0,
    )
    shown = report_points([report], lang="ko")["features"][0]["properties"]
    assert shown["kind_word"] == "목격" and not shown["state_word"].isascii(), shown
