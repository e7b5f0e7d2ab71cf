"""The search picture's promises: evidence moves probability the right way, seeds repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from bolo.search import CaseError, SearchPicture, parse_evidence
from bolo.search.explain import WhyCode, english
from bolo.search.geo import haversine_m
from tests.search.factories import fork_network, grid_network

T0 = datetime.fromisoformat("2026-03-31T08:00:00+09:00")


def _case(lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "last_known": {
            "lat": lat,
            "lon": lon,
            "time_earliest": T0.isoformat(),
            "time_latest": (T0 + timedelta(minutes=30)).isoformat(),
        },
        "modes": ["road"],
    }
    case.update(extra)
    return case


def _branch_mass(pic: SearchPicture, arm: int = 20) -> tuple[float, float]:
    p = pic.node_probability()
    return float(p[arm : 2 * arm].sum()), float(p[2 * arm :].sum())


def test_search_that_found_nothing_moves_probability_away_from_that_post() -> None:
    net = fork_network()
    at = T0 + timedelta(hours=2)
    search = {
        "kind": "search",
        "post_id": "p_east",
        "from": T0.isoformat(),
        "to": at.isoformat(),
        "detection_probability": 0.9,
        "found": False,
    }
    base = SearchPicture(net, _case(40.0, 10.0), seed=3, particles=600)
    base.advance(at)
    told = SearchPicture(net, _case(40.0, 10.0), seed=3, particles=600)
    told.observe(search)
    told.advance(at)
    west0, east0 = _branch_mass(base)
    west1, east1 = _branch_mass(told)
    assert east0 > 0.2 and west0 > 0.2  # symmetric prior: both branches are used
    assert east1 < 0.5 * east0
    assert west1 > west0


def test_a_certain_sighting_concentrates_probability_there() -> None:
    net = grid_network(n=25)
    seen_at = T0 + timedelta(hours=1)
    node = 3 * 25 + 20
    lat, lon = float(net.node_lat[node]), float(net.node_lon[node])
    pic = SearchPicture(net, _case(40.12, 10.12), seed=1, particles=800)
    pic.advance(seen_at)
    near = haversine_m(lat, lon, net.node_lat, net.node_lon) < 1500.0
    before = float(pic.node_probability()[near].sum())
    pic.observe(
        {
            "kind": "sighting",
            "time": seen_at.isoformat(),
            "lat": lat,
            "lon": lon,
            "radius_m": 300.0,
            "credibility": 1.0,
        }
    )
    pic.advance(seen_at)
    after = float(pic.node_probability()[near].sum())
    assert before < 0.3
    assert after > 0.9


def test_same_seed_same_picture_and_another_seed_another() -> None:
    net = grid_network(n=20)
    case = _case(40.1, 10.1, hints=[{"kind": "heading", "bearing_deg": 45, "weight": 0.6}])
    at = T0 + timedelta(minutes=50)
    pics = [SearchPicture(net, case, seed=s, particles=400) for s in (5, 5, 6)]
    for p in pics:
        p.observe(
            {
                "kind": "sighting",
                "time": (T0 + timedelta(minutes=40)).isoformat(),
                "lat": 40.15,
                "lon": 10.15,
                "radius_m": 800,
                "credibility": 0.7,
            }
        )
        p.advance(at)
    a, b, c = (p.node_probability() for p in pics)
    assert np.array_equal(a, b)
    assert pics[0].rank(5) == pics[1].rank(5)
    assert not np.array_equal(a, c)


def test_late_evidence_gives_the_picture_of_evidence_known_in_time() -> None:
    net = grid_network(n=20)
    sighting = {
        "kind": "sighting",
        "time": (T0 + timedelta(minutes=40)).isoformat(),
        "lat": 40.05,
        "lon": 10.15,
        "radius_m": 500,
        "credibility": 0.8,
    }
    early = SearchPicture(net, _case(40.1, 10.1), seed=2, particles=300)
    early.observe(sighting)
    early.advance(T0 + timedelta(minutes=90))
    late = SearchPicture(net, _case(40.1, 10.1), seed=2, particles=300)
    late.advance(T0 + timedelta(minutes=90))
    late.observe(sighting)
    late.advance(T0 + timedelta(minutes=90))
    assert np.array_equal(early.node_probability(), late.node_probability())


@pytest.mark.parametrize("strategy", ["particle", "reachability", "radius"])
def test_rank_items_have_the_documented_shape(strategy: str) -> None:
    net = grid_network(n=15)
    pic = SearchPicture(net, _case(40.07, 10.07), strategy=strategy, particles=200)
    pic.advance(T0 + timedelta(minutes=20))
    ranked = pic.rank(4)
    assert len(ranked) == 4
    assert len({r["post_id"] for r in ranked}) == 4
    for r in ranked:
        assert set(r) == {
            "post_id",
            "probability",
            "eta",
            "reason",
            "alert_probability",
            "gain",
            "why",
        }
        assert r["why"]["code"] in set(WhyCode) and english(r["why"]) == r["reason"]
        assert 0.0 <= r["probability"] <= 1.0
        assert 0.0 <= r["gain"] <= 1.0 and 0.0 <= r["alert_probability"] <= 1.0
        assert r["eta"] is None or datetime.fromisoformat(r["eta"]).tzinfo is not None
        assert isinstance(r["reason"], str) and r["reason"]
    assert abs(sum(pic.cell_probability().values()) - 1.0) < 1e-6


def test_bad_input_is_refused_with_a_case_error() -> None:
    net = grid_network(n=10)
    with pytest.raises(CaseError):
        SearchPicture(
            net, {"last_known": {"lat": 40, "lon": 10, "time_earliest": "2026-03-31T08:00:00"}}
        )
    pic = SearchPicture(net, _case(40.05, 10.05), particles=50)
    with pytest.raises(CaseError):
        pic.observe(
            {"kind": "search", "post_id": "nope", "from": T0.isoformat(), "to": T0.isoformat()}
        )
    with pytest.raises(CaseError):
        SearchPicture(net, _case(40.05, 10.05), strategy="psychic")


def test_a_heading_tip_raises_the_posts_it_points_to() -> None:
    net = grid_network(n=25)
    at = T0 + timedelta(minutes=45)

    def north_exit(bearing: float) -> float:
        case = _case(
            40.12, 10.12, hints=[{"kind": "heading", "bearing_deg": bearing, "weight": 0.8}]
        )
        pic = SearchPicture(net, case, seed=4, particles=600)
        pic.advance(at)
        ranked = {r["post_id"]: r["probability"] for r in pic.rank(len(net.posts))}
        return ranked["x_north"]

    assert north_exit(0.0) > 2 * north_exit(180.0)


def test_a_found_vehicle_keeps_the_suspects_within_walking_distance() -> None:
    # Grid arcs: 1.1 km in 60 s by road (66 km/h); on foot (1.4 m/s) the same arc takes 13 min.
    net = grid_network(n=25)
    found_at = T0 + timedelta(hours=1)
    node = 12 * 25 + 12
    lat, lon = float(net.node_lat[node]), float(net.node_lon[node])
    far = haversine_m(lat, lon, net.node_lat, net.node_lon) > 8000.0

    def mass_far_after_an_hour(kind: str) -> float:
        pic = SearchPicture(net, _case(40.12, 10.12), seed=5, particles=800)
        pic.observe(
            {
                "kind": kind,
                "time": found_at.isoformat(),
                "lat": lat,
                "lon": lon,
                "radius_m": 300.0,
                "credibility": 1.0,
            }
        )
        pic.advance(found_at + timedelta(hours=1))
        return float(pic.node_probability()[far].sum())

    on_foot = mass_far_after_an_hour("vehicle_found")
    by_car = mass_far_after_an_hour("sighting")  # the same report, the car still theirs
    assert on_foot < 0.02  # an hour's walk is ~5 km
    assert by_car > 0.15


def test_vehicle_found_is_parsed_with_its_defaults() -> None:
    from bolo.search.case import VEHICLE_RADIUS_M, VehicleFound

    ev = parse_evidence({"kind": "vehicle_found", "time": T0.isoformat(), "lat": 40.0, "lon": 10.0})
    assert isinstance(ev, VehicleFound)
    assert ev.credibility == 1.0 and ev.radius_m == VEHICLE_RADIUS_M


def test_a_late_sighting_reweighed_without_replay_gives_the_replayed_picture() -> None:
    # A weak sighting causes no resampling: the late picture re-weighs its particles by where
    # they were 45 minutes ago instead of replaying them (bolo.search.late).
    net = grid_network(n=20)
    sighting = {
        "kind": "sighting",
        "time": (T0 + timedelta(minutes=45)).isoformat(),
        "lat": 40.1,
        "lon": 10.12,
        "radius_m": 2000,
        "credibility": 0.3,
    }
    steps = [T0 + timedelta(minutes=10 * k) for k in range(1, 10)]
    early = SearchPicture(net, _case(40.1, 10.1), seed=2, particles=300)
    early.observe(sighting)
    late = SearchPicture(net, _case(40.1, 10.1), seed=2, particles=300)
    for t in steps:
        early.advance(t)
        late.advance(t)
    assert late._pf is not None
    particles = late._pf.state.parts
    late.observe(sighting)
    late.advance(steps[-1])
    assert late._pf.state.parts is particles  # re-weighed: no rewind, no replay
    assert early._pf is not None and early._pf.state.epoch == 0  # no resampling
    np.testing.assert_array_equal(early._pf.state.parts.node, late._pf.state.parts.node)
    np.testing.assert_allclose(
        early.node_probability(), late.node_probability(), rtol=1e-9, atol=1e-15
    )
    e, r = early.rank(3), late.rank(3)
    assert [x["post_id"] for x in e] == [x["post_id"] for x in r]
    assert [x["probability"] for x in e] == pytest.approx([x["probability"] for x in r])


def test_two_late_sightings_give_the_picture_of_both_known_in_time() -> None:
    # The second late sighting lies between the first one's time and now: the first must be
    # counted at its own time (not at the time it was applied) for the order to be right.
    net = grid_network(n=20)
    first = {
        "kind": "sighting",
        "time": (T0 + timedelta(minutes=40)).isoformat(),
        "lat": 40.1,
        "lon": 10.12,
        "radius_m": 2000,
        "credibility": 0.3,
    }
    second = {**first, "time": (T0 + timedelta(minutes=60)).isoformat(), "lon": 10.13}
    steps = [T0 + timedelta(minutes=10 * k) for k in range(1, 10)]
    early = SearchPicture(net, _case(40.1, 10.1), seed=2, particles=300)
    early.observe(first)
    early.observe(second)
    late = SearchPicture(net, _case(40.1, 10.1), seed=2, particles=300)
    for t in steps:
        early.advance(t)
        late.advance(t)
    late.observe(first)
    late.advance(steps[-1])
    late.observe(second)
    late.advance(steps[-1])
    assert late._pf is not None and early._pf is not None
    assert late._pf.state.applied_at[max(late._pf.state.applied_at)][0] < late._pf.state.t
    np.testing.assert_allclose(
        early.node_probability(), late.node_probability(), rtol=1e-9, atol=1e-15
    )
