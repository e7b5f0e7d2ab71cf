"""The drafting form's ranked posts: what each adds over the posts above it, and why, in the
reader's language (the search picture's structured reason rendered at the edge)."""

from __future__ import annotations

import re

from bolo import i18n
from bolo.search.explain import Why, WhyCode, baseline_why
from bolo.web.rank_words import rank_reason
from tests.security.factories import World
from tests.web.conftest import ClientFor


def _reasons(html: str) -> list[str]:
    return re.findall(r'<small class="rank-reason">([^<]*)</small>', html)


def test_the_drafting_form_says_what_each_post_adds_in_english_and_korean(
    client_for: ClientFor, world: World
) -> None:
    coordinator = client_for("coordinator")
    url = f"/console/cases/{world.case_id}/alerts/new"
    english = coordinator.get(url, headers={"Accept-Language": "en"}).text
    korean = coordinator.get(url, headers={"Accept-Language": "ko"}).text
    assert "Chance while alerted" in english and "Adds over the posts above" in english
    assert "경보 중 통과 확률" in korean and "위 초소 대비 추가분" in korean
    en, ko = _reasons(english), _reasons(korean)
    assert en and len(ko) == len(en)
    assert en[0].startswith("Rank 1: adds ") and "that no post above catches" in en[0]
    assert ko[0].startswith("1위: 향후 ") and "추가" in ko[0]
    assert not any("adds" in text or "chance of a pass" in text for text in ko)
    gains = re.findall(r'<td class="gain">\+([0-9.]+) %</td>', korean)
    chances = re.findall(r'<td class="alert-probability">([0-9.]+) %</td>', korean)
    assert len(gains) == len(chances) == len(ko)
    assert [float(g) for g in gains] == sorted((float(g) for g in gains), reverse=True)


def _why(**numbers: object) -> Why:
    why = baseline_why(WhyCode.COVERS)
    why.update(numbers)  # type: ignore[typeddict-item]
    return why


def test_every_part_of_a_reason_is_translated() -> None:
    covers = _why(
        rank=3,
        window_s=1800.0,
        new=0.12,
        alert_probability=0.4,
        above=0.28,
        hedge=0.03,
        horizon_s=7200.0,
        probability=0.45,
        eta="2026-03-31T10:00:00+09:00",
        moved_by=[("sighting 2026-03-31T09:10:00+09:00", 0.07)],
    )
    ahead = _why(code=WhyCode.AHEAD, rank=9, window_s=9000.0, horizon_s=7200.0)
    with i18n.use("en"):
        text = rank_reason({"why": covers})
        assert text.startswith("Rank 3: adds 12.0 % of the passes in the next 30 min")
        assert "(its chance 40.0 %, 28.0 % caught above)" in text
        assert (
            "(+3.0 %)" in text and "moved most by sighting 2026-03-31T09:10:00+09:00 (+7 %)" in text
        )
        assert "adds nothing in the next 2.5 h" in rank_reason({"why": ahead})
    with i18n.use("ko"):
        texts = [
            rank_reason({"why": why})
            for why in (
                covers,
                ahead,
                baseline_why(WhyCode.RADIUS, 12.0),
                baseline_why(WhyCode.REACHABILITY),
            )
        ]
    assert texts[0].startswith("3위: 향후 30분 동안") and "2.5시간" in texts[1]
    assert "12.0 %" in texts[0] and "28.0 %" in texts[0] and "(+7 %)" in texts[0]
    assert "반경 12 km" in texts[2] and "도착" in texts[3]
    english_words = re.compile(r"\b(adds|rank|chance|caught|expected|moved|near|earliest)\b")
    assert not any(english_words.search(text.replace("sighting", "")) for text in texts)


def test_an_item_without_a_structured_reason_shows_its_english_reason() -> None:
    with i18n.use("ko"):
        assert rank_reason({"reason": "near the edge"}) == "near the edge"


def test_a_user_who_chose_korean_reads_the_reasons_in_korean(
    client_for: ClientFor, world: World
) -> None:
    coordinator = client_for("coordinator")
    assert coordinator.post("/account/language", data={"language": "ko"}).status_code == 303
    try:
        page = coordinator.get(
            f"/console/cases/{world.case_id}/alerts/new", headers={"Accept-Language": "en"}
        ).text
        reasons = _reasons(page)
        assert reasons and all(text.startswith(f"{k}위: ") for k, text in enumerate(reasons, 1))
    finally:
        coordinator.post("/account/language", data={"language": ""})
