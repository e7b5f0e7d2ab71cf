"""Triage as pure functions: de-duplication, credibility with reasons, evidence, rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bolo.buckets import TokenBucket
from bolo.reports.intake import ReportKind, SearchResult
from bolo.reports.ratelimit import RateLimiter
from bolo.reports.triage_rules import (
    CaseFacts,
    ReportFacts,
    cluster,
    credibility,
    evidence,
    same_event,
    text_similarity,
)

T0 = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
KILJU = (40.9642, 129.3278)


def tip(
    rid: str,
    text: str,
    minutes: float = 0.0,
    where: tuple[float, float] | None = KILJU,
    **extra: object,
) -> ReportFacts:
    lat, lon = where if where else (None, None)
    fields: dict[str, object] = {"how_located": "place", **extra}
    return ReportFacts(
        id=rid,
        kind=ReportKind.TIP,
        text=text,
        time=T0 + timedelta(minutes=minutes),
        lat=lat,
        lon=lon,
        radius_m=1500.0,
        **fields,
    )  # type: ignore[arg-type]


def test_close_similar_reports_cluster_and_distinct_ones_do_not() -> None:
    reports = [
        tip("a", "couple with a small boy at Kilju station"),
        tip(
            "b",
            "a couple and a small boy, Kilju station platform",
            minutes=20,
            where=(40.97, 129.33),
        ),
        tip("c", "couple with small boy at the station in Kilju", minutes=50),
        tip("d", "couple with a small boy at Kilju station", minutes=60 * 5),  # later
        tip("e", "couple with a small boy at Kilju station", where=(39.03, 125.75)),  # far
        tip("f", "stray dog near the market", minutes=5, where=(40.99, 129.40)),
    ]
    labels = cluster(reports)
    assert labels[:3] == ["a", "a", "a"]
    assert len(set(labels[3:]) | {"a"}) == 4


def test_identical_text_without_place_is_a_duplicate() -> None:
    a = tip("a", "white van, plate 12-345, two adults and a crying boy", where=None)
    b = tip("b", "white van, plate 12-345, two adults and a crying boy!", 10, where=None)
    assert same_event(a, b)
    assert not same_event(a, tip("c", "a cat on a roof somewhere", 10, where=None))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 600),
            st.floats(-0.3, 0.3),
            st.sampled_from(
                ["couple with a boy", "a couple with the boy", "red car", "nothing to report"]
            ),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_clustering_is_a_partition_labelled_by_its_earliest_member(
    items: list[tuple[float, float, str]],
) -> None:
    reports = [
        tip(f"r{i}", text, minutes, (KILJU[0] + dy, KILJU[1]))
        for i, (minutes, dy, text) in enumerate(items)
    ]
    labels = cluster(reports)
    by_id = {r.id: r for r in reports}
    for report, label in zip(reports, labels, strict=True):
        assert by_id[label].time <= report.time
        assert labels[reports.index(by_id[label])] == label  # the head labels itself


def test_text_similarity_bounds() -> None:
    assert text_similarity("Kilju station", "Kilju station") == 1.0
    assert text_similarity("abc", "") == 0.0
    assert 0.0 < text_similarity("couple with boy", "a couple with the boy") < 1.0


def test_credibility_rewards_detail_precision_agreement_and_penalises_the_impossible() -> None:
    case = CaseFacts(lat=39.2068, lon=126.2039, since=T0 - timedelta(hours=1))
    vague, vague_why = credibility(tip("a", "saw them", where=None))
    rich, rich_why = credibility(
        tip("b", "couple with a boy in a grey truck heading north", how_located="coordinates"),
        case,
        corroborations=2,
    )
    assert vague < 0.3 < rich <= 1.0
    assert any("no usable place" in r for r in vague_why)
    assert any("agree" in r for r in rich_why) and any("precise place" in r for r in rich_why)
    # Kilju is ~370 km from Songch'on: not reachable within one hour on these roads.
    far, far_why = credibility(tip("c", "couple with a boy", minutes=0), case)
    assert any("not reachable" in r for r in far_why)
    assert far < credibility(tip("c", "couple with a boy", minutes=60 * 8), case)[0]
    early, early_why = credibility(tip("d", "couple with a boy", minutes=-300), case)
    assert any("before the child went missing" in r for r in early_why) and early < rich


def test_photo_gps_far_from_the_stated_place_lowers_the_score() -> None:
    near = credibility(tip("a", "couple with boy", photo_lat=40.96, photo_lon=129.33))[0]
    far = credibility(tip("b", "couple with boy", photo_lat=39.0, photo_lon=125.7))[0]
    assert near > far


def test_evidence_formats() -> None:
    sighting = evidence(tip("a", "couple with boy"), 0.7)
    assert sighting == [
        {
            "kind": "sighting",
            "time": T0.isoformat(),
            "lat": KILJU[0],
            "lon": KILJU[1],
            "radius_m": 1500.0,
            "credibility": 0.7,
        }
    ]
    search = ReportFacts(
        id="s",
        kind=ReportKind.SEARCH,
        text="all passengers",
        time=T0,
        post_id="kilju-guard",
        searched_to=T0 + timedelta(hours=4),
        result=SearchResult.NOTHING_FOUND,
        detection_probability=0.6,
    )
    assert evidence(search, 0.9) == [
        {
            "kind": "search",
            "post_id": "kilju-guard",
            "from": "2026-04-02T10:00:00+00:00",
            "to": "2026-04-02T14:00:00+00:00",
            "detection_probability": 0.6,
            "found": False,
        }
    ]
    assert evidence(tip("n", "no place", where=None), 0.5) == []


def test_rate_limiter_per_client_and_overall() -> None:
    limiter = RateLimiter(
        per_client_rate=1.0, per_client_burst=2, overall_rate=3.0, overall_burst=3
    )
    assert [limiter.acquire("a", 0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.acquire("b", 0.0) == 0.0
    assert limiter.acquire("c", 0.0) == 1.0  # overall bucket empty
    assert limiter.acquire("c", 0.4) == 0.0  # 1.2 overall tokens earned in 0.4 s
    assert limiter.acquire("c", 0.4) == 1.0  # 0.2 left: 0.27 s to wait, rounded up to 1 s
    assert limiter.acquire("a", 1.0) == 0.0  # a's bucket earned one token back


def test_rate_limiter_forgets_idle_clients() -> None:
    limiter = RateLimiter(
        per_client_rate=10.0, per_client_burst=1, overall_rate=1e6, overall_burst=1e6, max_clients=3
    )
    for i in range(10):
        assert limiter.acquire(f"c{i}", float(i)) == 0.0
    assert len(limiter._clients) <= 3


def test_bucket_needs_sane_parameters() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0.0, 1.0)
