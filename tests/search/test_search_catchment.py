"""A post watches every node within its catchment radius, not only the node nearest to it.

The fork network's east branch is the main road; a dead-end street of 160 m leaves it at
``east[3]``, and the post stands 180 m off the main road, 20 m from the dead end: the dead
end is its nearest node, yet a checkpoint there sees every car on the main road.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from bolo.network.build import haversine_m
from bolo.network.graph import Mode, Network, NetworkPost, PostKind
from bolo.network.posts import place_post, post_catchments, with_posts
from bolo.network.ranking import rank_posts_by_arrival
from bolo.search import SearchPicture
from tests.search.factories import fork_network

T0 = datetime.fromisoformat("2026-03-31T08:00:00+09:00")
ARM = 20
M_PER_DEG_LAT = 111_195.0


def _spur_network() -> tuple[Network, int]:
    """The fork plus a dead-end street at east[3], and the post beside its end."""
    net = fork_network(ARM)
    junction = 2 * ARM + 3
    # The east branch runs north-east; the street goes north-west, at right angles.
    step_lat = 160.0 / np.sqrt(2) / M_PER_DEG_LAT
    step_lon = step_lat / np.cos(np.radians(net.node_lat[junction]))
    lat = np.append(net.node_lat, net.node_lat[junction] + step_lat)
    lon = np.append(net.node_lon, net.node_lon[junction] - step_lon)
    end = lat.shape[0] - 1
    tails = [*np.repeat(np.arange(net.n_nodes), np.diff(net.indptr)).tolist(), junction, end]
    heads = [*net.indices.tolist(), end, junction]
    secs = [*net.arc_seconds.tolist(), 20.0, 20.0]
    metres = [*net.arc_metres.tolist(), 160.0, 160.0]
    order = np.argsort(tails, kind="stable")
    t = np.asarray(tails)[order]
    indptr = np.zeros(end + 2, dtype=np.int64)
    np.cumsum(np.bincount(t, minlength=end + 1), out=indptr[1:])
    spur = replace(
        net,
        node_lat=lat,
        node_lon=lon,
        indptr=indptr,
        indices=np.asarray(heads, dtype=np.int64)[order],
        arc_seconds=np.asarray(secs)[order],
        arc_metres=np.asarray(metres)[order],
        arc_mode=np.zeros(len(heads), dtype=np.uint8),
        cache={},
    )
    post_lat = net.node_lat[junction] + step_lat * 180 / 160
    post_lon = net.node_lon[junction] - step_lon * 180 / 160
    beside = place_post(
        spur, post_id="beside", kind=PostKind.CHECKPOINT, lat=post_lat, lon=post_lon, mode=Mode.ROAD
    )
    assert beside.node == end  # the nearest node is the dead end's
    assert 170 < float(haversine_m(post_lat, post_lon, lat[junction], lon[junction])) < 190
    control = NetworkPost(
        "on_road",
        PostKind.CHECKPOINT,
        "on_road",
        float(lat[junction]),
        float(lon[junction]),
        Mode.ROAD,
        junction,
    )
    west = NetworkPost(
        "west",
        PostKind.CHECKPOINT,
        "west",
        float(lat[ARM + 3]),
        float(lon[ARM + 3]),
        Mode.ROAD,
        ARM + 3,
    )
    return with_posts(spur, [beside, control, west]), junction


def _case() -> dict[str, object]:
    return {
        "last_known": {
            "lat": 40.0,
            "lon": 10.0,
            "time_earliest": T0.isoformat(),
            "time_latest": (T0 + timedelta(minutes=10)).isoformat(),
        },
        "modes": ["road"],
    }


def test_the_catchment_holds_the_main_road_node_within_the_radius() -> None:
    net, junction = _spur_network()
    assert set(post_catchments(net).of(0).tolist()) == {net.posts[0].node, junction}
    narrow = with_posts(net, net.posts, catchment_metres=100.0)
    assert post_catchments(narrow).of(0).tolist() == [net.posts[0].node]


def test_a_post_beside_the_main_road_arrives_with_the_main_road() -> None:
    net, _ = _spur_network()
    got = {
        a.post.post_id: a.earliest_seconds
        for a in rank_posts_by_arrival(
            net, lat=40.0, lon=10.0, start_earliest=0.0, now=0.0, budget=3
        )
    }
    assert got["beside"] == got["on_road"]


def test_a_post_beside_the_main_road_is_ranked_as_passable() -> None:
    net, _ = _spur_network()
    pic = SearchPicture(net, _case(), seed=5, particles=800)
    pic.advance(T0 + timedelta(minutes=10))
    prob = {r["post_id"]: r["probability"] for r in pic.rank(3, horizon_hours=3)}
    assert prob["on_road"] > 0.2  # the suspects use the east branch
    assert prob["beside"] >= 0.9 * prob["on_road"]


def test_a_fruitless_search_clears_the_catchment() -> None:
    net, junction = _spur_network()
    at = T0 + timedelta(hours=2)
    base = SearchPicture(net, _case(), seed=3, particles=600)
    base.advance(at)
    told = SearchPicture(net, _case(), seed=3, particles=600)
    told.observe(
        {
            "kind": "search",
            "post_id": "beside",
            "from": T0.isoformat(),
            "to": at.isoformat(),
            "detection_probability": 0.9,
            "found": False,
        }
    )
    told.advance(at)
    beyond = np.arange(junction + 1, 3 * ARM)  # the east branch past the post
    before = float(base.node_probability()[beyond].sum())
    after = float(told.node_probability()[beyond].sum())
    assert before > 0.2
    assert after < 0.5 * before
