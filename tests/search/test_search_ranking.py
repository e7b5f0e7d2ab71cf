"""The ranking's objective: a catch while the posts are alerted, and reasons that say so."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bolo.search import SearchPicture
from bolo.search.explain import WhyCode, english
from tests.search.factories import grid_network

T0 = datetime.fromisoformat("2026-03-31T08:00:00+09:00")
CASE = {
    "last_known": {
        "lat": 40.07,
        "lon": 10.07,
        "time_earliest": T0.isoformat(),
        "time_latest": (T0 + timedelta(minutes=30)).isoformat(),
    },
    "modes": ["road"],
}


def _picture(horizon_hours: float, alert_hours: float | None = None) -> SearchPicture:
    pic = SearchPicture(
        grid_network(n=15),
        CASE,
        particles=600,
        horizon_hours=horizon_hours,
        alert_hours=alert_hours,
    )
    pic.advance(T0 + timedelta(minutes=40))
    return pic


def test_the_order_is_for_the_alert_window_and_the_probability_for_the_horizon() -> None:
    short, long = _picture(0.5), _picture(3.0, alert_hours=0.5)
    assert [r["post_id"] for r in long.rank(6)] == [r["post_id"] for r in short.rank(6)]
    assert list(long.ranked_slots()) == list(short.ranked_slots())
    by_id = {r["post_id"]: r for r in long.rank(6)}
    for r in short.rank(6):
        assert by_id[r["post_id"]]["probability"] >= r["probability"] - 1e-12
    # Without an alert window the picture ranks for its horizon; the window decides the order.
    plain = _picture(3.0)
    assert plain.rank(6) == plain.rank(6, alert_hours=3.0)
    assert [r["post_id"] for r in plain.rank(6)] != [r["post_id"] for r in long.rank(6)]


def test_each_reason_says_what_the_post_adds_over_the_posts_above_it() -> None:
    ranked = _picture(2.0, alert_hours=0.5).rank(8)
    gains = [r["gain"] for r in ranked]
    assert gains == sorted(gains, reverse=True)  # greedy coverage: gains never grow
    partly_caught = 0
    for k, r in enumerate(ranked, start=1):
        assert r["reason"].startswith(f"rank {k} for the next 30 min: ")
        if r["gain"] == 0:
            assert "adds nothing there" in r["reason"]
            continue
        assert f"gain {r['gain']:.3f}" in r["reason"]
        found = re.search(r"catches ([0-9.]+) of the forecast passes", r["reason"])
        assert found is not None
        new = float(found.group(1))
        assert new <= r["alert_probability"] + 0.005
        # Its probability may exceed that of a post above it: the reason says how much of
        # it the posts above already catch.
        if r["alert_probability"] - new >= 0.01:
            partly_caught += 1
            assert "caught above" in r["reason"]
    assert partly_caught > 0


def test_the_structured_reason_holds_the_numbers_the_text_quotes() -> None:
    ranked = _picture(2.0, alert_hours=0.5).rank(40)
    assert {r["why"]["code"] for r in ranked} == {WhyCode.COVERS, WhyCode.AHEAD}
    for k, r in enumerate(ranked, start=1):
        why = r["why"]
        assert english(why) == r["reason"]
        assert (why["rank"], why["window_s"], why["horizon_s"]) == (k, 1800.0, 7200.0)
        assert why["gain"] == r["gain"] and why["probability"] == r["probability"]
        if why["code"] == WhyCode.COVERS:
            assert why["alert_probability"] == r["alert_probability"]
            caught = max(why["new"], r["alert_probability"])
            assert abs(why["new"] + why["above"] - caught) < 1e-9
