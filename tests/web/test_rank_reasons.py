"""The drafting form's ranked posts: what each adds over the posts above it, and why, in the
reader's language (the search picture's structured reason rendered at the edge)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bolo import i18n
from bolo.search import SearchPicture
from bolo.search.explain import Why, WhyCode, baseline_why
from bolo.search.explain import evidence_ref as _ref
from bolo.web.rank_words import evidence_name, rank_reason
from tests.search.factories import grid_network
from tests.security.factories import World
from tests.web.conftest import ClientFor
from tests.web.test_languages import english_left


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
    assert english_left(korean) == []  # the posts' kinds too
    gains = re.findall(r'<td class="gain">\+([0-9.]+) %</td>', korean)
    chances = re.findall(r'<td class="alert-probability">([0-9.]+) %</td>', korean)
    assert len(gains) == len(chances) == len(ko)
    # Expected times for people (local, with the offset), not ISO strings.
    etas = re.findall(r'<td class="eta">([^<]*)</td>', korean)
    assert len(etas) == len(ko) and not any("T" in eta for eta in etas), etas
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
        evidence=[_ref("sighting", time="2026-03-31T09:10:00+09:00", change=0.07)],
    )
    ahead = _why(code=WhyCode.AHEAD, rank=9, window_s=9000.0, horizon_s=7200.0)
    with i18n.use("en"):
        text = rank_reason({"why": covers})
        assert text.startswith("Rank 3: adds 12.0 % of the passes in the next 30 min")
        assert "(its chance 40.0 %, 28.0 % caught above)" in text
        assert (
            "(+3.0 %)" in text and "moved most by sighting 2026-03-31 00:10 +00:00 (+7 %)" in text
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
    assert "목격 2026-03-31 00:10 +00:00 (+7 %)" in texts[0]
    assert not any(_ENGLISH.search(text) for text in texts)


# Any English word of a reason (the numbers, units and times stay as they are).
_ENGLISH = re.compile(r"[A-Za-z]{3,}")


def test_every_kind_of_evidence_is_named_in_korean() -> None:
    refs = [
        _ref("sighting", time="2026-03-31T09:10:00+09:00"),
        _ref("vehicle_found", time="2026-03-31T09:40:00+09:00"),
        _ref("search", post_id="p-7"),
        _ref("heading", bearing_deg=45.0, weight=0.6),
        _ref("destination", lat=39.0391, lon=125.7625, weight=0.5),
    ]
    with i18n.use("ko"):
        names = [evidence_name(ref) for ref in refs]
        labelled = evidence_name(_ref("sighting", label="S-12", time="2026-03-31T09:10:00+09:00"))
    assert names == [
        "목격 2026-03-31 00:10 +00:00",
        "차량 발견 2026-03-31 00:40 +00:00",
        "p-7 수색에서 발견 없음",
        "방향 제보 45° (신뢰도 0.60)",
        "목적지 제보 39.0391, 125.7625 (신뢰도 0.50)",
    ]
    assert labelled == "목격 S-12"  # the caller's own name, after its kind


T0 = datetime.fromisoformat("2026-03-31T08:00:00+09:00")


def test_the_evidence_of_a_real_picture_is_named_in_korean() -> None:
    """Hints, a sighting and a fruitless search move a real picture's posts: each is
    described as data beside its English label, and named in Korean from that data."""
    net = grid_network(n=20)
    later = (T0 + timedelta(minutes=40)).isoformat()
    case = {
        "last_known": {
            "lat": 40.1,
            "lon": 10.1,
            "time_earliest": T0.isoformat(),
            "time_latest": (T0 + timedelta(minutes=30)).isoformat(),
        },
        "modes": ["road"],
        "hints": [
            {"kind": "heading", "bearing_deg": 45, "weight": 0.6},
            {"kind": "destination", "lat": 40.18, "lon": 10.02, "weight": 0.5},
        ],
        "evidence": [
            {"kind": "sighting", "time": later, "lat": 40.15, "lon": 10.15, "credibility": 0.9},
            {
                "kind": "search",
                "post_id": net.posts[0].post_id,
                "from": T0.isoformat(),
                "to": later,
                "detection_probability": 0.9,
            },
        ],
    }
    pic = SearchPicture(net, case, seed=5, particles=400)
    pic.advance(T0 + timedelta(minutes=70))
    ranked = pic.rank(len(net.posts))
    refs = [ref for item in ranked for ref in item["why"]["evidence"]]
    kinds = {ref["kind"] for ref in refs}
    assert "sighting" in kinds and kinds <= {"heading", "destination", "sighting", "search"}
    for item in ranked:
        why = item["why"]
        assert [r["change"] for r in why["evidence"]] == [d for _, d in why["moved_by"]]
    with i18n.use("ko"):
        texts = [rank_reason(item) for item in ranked if item["why"]["moved_by"]]
    assert texts and any("목격 2026-03-30 23:40 +00:00" in t for t in texts)
    assert not any(_ENGLISH.search(t) for t in texts), texts


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
