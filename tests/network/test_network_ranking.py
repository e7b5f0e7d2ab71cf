"""Baseline post ranking equals sorting a full one-to-all search; isochrones are CAP-ready."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bolo.network import BUNDLED_CORRIDORS, PointTooFar
from bolo.network.build import haversine_m
from bolo.network.corridors import load_corridors
from bolo.network.graph import Mode, NetworkPost, PostKind
from bolo.network.isochrone import cap_polygon_text, isochrone_geojson, isochrone_polygon
from bolo.network.posts import place_post, with_posts
from bolo.network.ranking import rank_posts_by_arrival, source_node
from bolo.network.travel import earliest_arrival
from tests.network.factories import random_network

DPRK = load_corridors(BUNDLED_CORRIDORS["dprk"])
SONGCHON = (39.2434, 126.1906)


def _brute(net, lat, lon, start, now, budget, include_passed=False):  # type: ignore[no-untyped-def]
    node, access = source_node(net, lat, lon, max_metres=30_000)
    times = earliest_arrival(net, [node], start_seconds=[start + access])
    rows = [
        (float(times[p.node]), p.post_id)
        for p in net.posts
        if np.isfinite(times[p.node]) and (include_passed or times[p.node] > now)
    ]
    return sorted(rows)[:budget]


@settings(max_examples=25, deadline=None)
@given(now_h=st.floats(0, 6), budget=st.integers(1, 40), passed=st.booleans())
def test_dprk_ranking_matches_full_search(now_h: float, budget: int, passed: bool) -> None:
    got = rank_posts_by_arrival(
        DPRK,
        lat=SONGCHON[0],
        lon=SONGCHON[1],
        start_earliest=1000.0,
        now=1000.0 + now_h * 3600,
        budget=budget,
        include_passed=passed,
        max_snap_metres=30_000,
    )
    expected = _brute(DPRK, *SONGCHON, 1000.0, 1000.0 + now_h * 3600, budget, passed)
    assert [(a.earliest_seconds, a.post.post_id) for a in got] == expected
    assert all(a.possibly_passed == (a.earliest_seconds <= 1000.0 + now_h * 3600) for a in got)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5000), budget=st.integers(1, 10))
def test_random_ranking_matches_full_search(seed: int, budget: int) -> None:
    net = random_network(seed, n=80, m=300)
    rng = np.random.default_rng(seed)
    net.posts = [
        NetworkPost(f"p{i}", PostKind.PATROL, "", 0.0, 0.0, Mode.ROAD, int(node))
        for i, node in enumerate(rng.choice(net.n_nodes, 15))
    ]
    lat, lon = float(net.node_lat[0]), float(net.node_lon[0])
    got = rank_posts_by_arrival(net, lat=lat, lon=lon, start_earliest=0.0, now=50.0, budget=budget)
    assert [(a.earliest_seconds, a.post.post_id) for a in got] == _brute(
        net, lat, lon, 0.0, 50.0, budget
    )


def test_latest_start_shifts_and_errors() -> None:
    got = rank_posts_by_arrival(
        DPRK,
        lat=SONGCHON[0],
        lon=SONGCHON[1],
        start_earliest=0.0,
        start_latest=600.0,
        now=0.0,
        budget=3,
        max_snap_metres=30_000,
    )
    assert all(a.earliest_if_left_latest_seconds == a.earliest_seconds + 600 for a in got)
    with pytest.raises(ValueError):
        rank_posts_by_arrival(
            DPRK,
            lat=SONGCHON[0],
            lon=SONGCHON[1],
            start_earliest=10.0,
            start_latest=0.0,
            now=0.0,
            budget=3,
            max_snap_metres=30_000,
        )
    with pytest.raises(PointTooFar):
        rank_posts_by_arrival(DPRK, lat=0.0, lon=0.0, start_earliest=0.0, now=0.0, budget=3)


@pytest.mark.parametrize("minutes", [5, 60, 180, 600])
def test_isochrone_is_cap_ready(minutes: int) -> None:
    ring = isochrone_polygon(
        DPRK, lat=SONGCHON[0], lon=SONGCHON[1], seconds=minutes * 60, max_snap_metres=30_000
    )
    assert 4 <= len(ring) <= 100 and ring[0] == ring[-1]
    poly = shapely.Polygon([(lo, la) for la, lo in ring])
    assert poly.is_valid and poly.exterior.is_simple and poly.exterior.is_ccw
    assert poly.contains(shapely.Point(SONGCHON[1], SONGCHON[0]))
    node, access = source_node(DPRK, *SONGCHON, max_metres=30_000)
    times = earliest_arrival(DPRK, [node], start_seconds=[access])
    reached = times <= minutes * 60
    inside = shapely.contains_xy(poly.buffer(0.05), DPRK.node_lon[reached], DPRK.node_lat[reached])
    assert inside.all()
    assert len(cap_polygon_text(ring).split()) == len(ring)


def test_isochrone_grows_and_geojson() -> None:
    small = shapely.Polygon(
        [
            (lo, la)
            for la, lo in isochrone_polygon(
                DPRK, lat=SONGCHON[0], lon=SONGCHON[1], seconds=1800, max_snap_metres=30_000
            )
        ]
    )
    big = shapely.Polygon(
        [
            (lo, la)
            for la, lo in isochrone_polygon(
                DPRK, lat=SONGCHON[0], lon=SONGCHON[1], seconds=6 * 3600, max_snap_metres=30_000
            )
        ]
    )
    assert big.area > 4 * small.area
    feature = isochrone_geojson(
        DPRK,
        lat=SONGCHON[0],
        lon=SONGCHON[1],
        seconds=3600,
        modes=[Mode.RAIL, Mode.ROAD],
        max_snap_metres=30_000,
    )
    ring = feature["geometry"]["coordinates"][0]
    assert feature["type"] == "Feature" and ring[0] == ring[-1]
    assert all(124 < lo < 131 and 37 < la < 43 for lo, la in ring)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5000), budget=st.integers(1, 10), radius=st.floats(0, 2500))
@example(seed=423, budget=1, radius=0.0)  # node 0 has no arc leaving it: ranking starts elsewhere
def test_ranking_counts_the_first_node_of_each_catchment(
    seed: int, budget: int, radius: float
) -> None:
    net = random_network(seed, n=80, m=300)
    rng = np.random.default_rng(seed)
    lat = rng.uniform(41.0, 41.1, 12)
    lon = rng.uniform(-8.7, -8.6, 12)
    posts = [
        place_post(
            net,
            post_id=f"p{i}",
            kind=PostKind.PATROL,
            lat=float(lat[i]),
            lon=float(lon[i]),
            mode=Mode.ROAD,
            max_metres=1e6,
        )
        for i in range(12)
    ]
    net = with_posts(net, posts, catchment_metres=radius)
    start = (float(net.node_lat[0]), float(net.node_lon[0]))
    got = rank_posts_by_arrival(
        net, lat=start[0], lon=start[1], start_earliest=0.0, now=50.0, budget=budget
    )
    # The oracle starts where a traveller at node 0 joins the network (node 0 itself unless
    # no arc leaves it), at the same access time the ranking adds.
    source, access = source_node(net, *start)
    times = earliest_arrival(net, [source], start_seconds=[access])
    rows = []
    for p in posts:
        near = haversine_m(p.lat, p.lon, net.node_lat, net.node_lon) <= radius
        near &= net.node_has_mode(Mode.ROAD)
        near[p.node] = True
        first = float(times[near].min())
        if np.isfinite(first) and first > 50.0:
            rows.append((first, p.post_id))
    assert [(a.earliest_seconds, a.post.post_id) for a in got] == sorted(rows)[:budget]
