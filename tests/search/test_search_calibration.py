"""Honest uncertainty: regions, the hedge model, settled hypotheses, the outside protocol."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from bolo.search import SearchPicture
from bolo.search.case import parse_case, parse_evidence
from bolo.search.hedge import Frontier
from bolo.search.network_model import network_model
from bolo.search.picture import Strategy
from bolo.search.regions import region_mask
from bolo.search.sim.harness import CATCH_RADIUS_M, LEVELS, proximity_passes, run_case
from bolo.search.sim.scenario import make_scenario
from bolo.search.sim.truth import Trajectory
from tests.search.factories import fork_network, grid_network

T0 = datetime.fromisoformat("2026-03-31T08:00:00+09:00")


def _case(lat: float, lon: float) -> dict[str, Any]:
    return {
        "last_known": {
            "lat": lat,
            "lon": lon,
            "time_earliest": T0.isoformat(),
            "time_latest": (T0 + timedelta(minutes=30)).isoformat(),
        },
        "modes": ["road"],
    }


def test_region_is_the_fewest_most_probable_cells_reaching_the_level() -> None:
    mass = np.asarray([0.1, 0.5, 0.0, 0.3, 0.1])
    assert region_mask(mass, 0.5).tolist() == [False, True, False, False, False]
    assert region_mask(mass, 0.8).tolist() == [False, True, False, True, False]
    assert region_mask(mass, 0.9).sum() == 3
    assert region_mask(mass, 1.0).tolist() == [True, True, False, True, True]
    with pytest.raises(ValueError):
        region_mask(mass, 0.0)


@pytest.mark.parametrize("strategy", ["particle", "reachability", "radius"])
def test_probability_region_holds_the_level(strategy: str) -> None:
    pic = SearchPicture(grid_network(n=20), _case(40.1, 10.1), strategy, seed=2, particles=500)
    pic.advance(T0 + timedelta(hours=2))
    cells = pic.cell_probability()
    r50, r90 = pic.probability_region(0.5), pic.probability_region(0.9)
    assert set(r50) <= set(r90) <= set(cells)
    assert sum(cells[c] for c in r90) >= 0.9 - 1e-9
    assert sum(cells[c] for c in r50) >= 0.5 - 1e-9
    probs = [cells[c] for c in r90]
    assert probs == sorted(probs, reverse=True)


def test_hedge_learns_where_a_fruitless_search_says_they_are_not() -> None:
    net = fork_network()
    model = network_model(net, ("road",))
    case = parse_case(_case(40.0, 10.0))
    frontier = Frontier(model, case)
    frontier.advance(2 * 3600.0)
    east = slice(40, 60)
    before = float(frontier.node_probability()[east].sum())
    frontier.observe(
        parse_evidence(
            {
                "kind": "search",
                "post_id": "p_east",
                "from": T0.isoformat(),
                "to": (T0 + timedelta(hours=2)).isoformat(),
                "detection_probability": 0.9,
                "found": False,
            }
        ),
        0.0,
    )
    after = frontier.node_probability()
    assert float(after[east].sum()) < 0.5 * before
    assert after.sum() == pytest.approx(1.0)


def test_settled_hypotheses_stand_for_their_destination_catchment() -> None:
    """Hours on, many hypotheses stay at a destination: the picture spreads them over the
    nodes that destination stands for instead of piling them on its one node."""
    net = grid_network(n=20)
    pic = SearchPicture(net, _case(40.1, 10.1), "particle", seed=4, particles=600)
    pic.advance(T0 + timedelta(hours=10))
    assert pic._pf is not None
    p = pic._pf.node_probability()
    dest = network_model(net, ("road",)).dest_nodes
    others = np.setdiff1d(np.arange(net.n_nodes), dest)
    assert float(p[dest].max()) < 0.1
    assert int((p[others] > 1e-4).sum()) > 0.5 * others.shape[0]


def test_proximity_passes_catch_within_the_radius_only() -> None:
    net = grid_network(n=10)
    # Along the bottom row: nodes 0 -> 1 -> 2 -> 3, one minute per arc.
    tr = Trajectory(
        node=np.asarray([0, 1, 2, 3], dtype=np.int64),
        arrive=np.asarray([0.0, 60.0, 120.0, 180.0]),
        depart=np.asarray([0.0, 60.0, 120.0, 1e9]),
        mode=np.zeros(4, dtype=np.uint8),
        exited=False,
    )
    slots, times = proximity_passes(net, tr)
    near = {net.posts[s].node for s in slots}
    assert near == {2}  # row 0 posts sit at columns 2, 5 and 7; the path ends at 3
    assert np.all(np.diff(times) >= 0)
    assert CATCH_RADIUS_M < 1000  # the next row's posts (1.1 km) are too far


def test_the_harness_records_what_the_picture_claims_for_its_regions() -> None:
    net = grid_network(n=20)
    sc = make_scenario(net, seed=3, index=1, modes=("road",))
    res = run_case(net, sc, Strategy.PARTICLE, budget=4, seed=0, particles=300)
    steps = len(res.inside[0.5])
    assert steps > 0
    for q in LEVELS:
        assert len(res.mass[q]) == len(res.share[q]) == steps
        # Whole cells: a region holds at least its level, never more than everything.
        assert all(q - 1e-9 <= m <= 1.0 + 1e-9 for m in res.mass[q])


@pytest.mark.parametrize("strategy", ["particle", "reachability"])
def test_the_map_is_computed_once_per_time_and_evidence(
    strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cells, both regions and the node map read one computation; new evidence or a later
    time computes it anew."""
    pic = SearchPicture(grid_network(n=20), _case(40.1, 10.1), strategy, seed=2, particles=300)
    pic.advance(T0 + timedelta(hours=1))
    calls = []
    compute = pic._node_map
    monkeypatch.setattr(pic, "_node_map", lambda: calls.append(1) or compute())
    first = pic.node_probability()
    pic.cell_probability(), pic.probability_region(0.9), pic.probability_region(0.5)
    pic.advance(T0 + timedelta(hours=1))  # not later: nothing changes
    assert np.array_equal(pic.node_probability(), first) and len(calls) == 1
    assert not first.flags.writeable  # callers cannot change the shared map
    pic.observe(
        {
            "kind": "search",
            "post_id": pic.network.posts[0].post_id,
            "from": T0.isoformat(),
            "to": (T0 + timedelta(minutes=50)).isoformat(),
            "found": False,
        }
    )
    pic.probability_region(0.9)
    assert len(calls) == 2
    pic.advance(T0 + timedelta(hours=2))
    pic.cell_probability(), pic.probability_region(0.5)
    assert len(calls) == 3


def _fork_picture(**extra: Any) -> SearchPicture:
    case = _case(40.0, 10.0)
    case["hints"] = [{"kind": "heading", "bearing_deg": 45.0, "weight": 0.9}]  # the east arm
    case.update(extra)
    pic = SearchPicture(fork_network(), case, "particle", seed=5, particles=600)
    pic.advance(T0 + timedelta(hours=2))
    return pic


def test_the_hedge_share_follows_which_model_foresaw_the_evidence() -> None:
    """Even odds without evidence; a fruitless search where the particles (told east) expected
    the suspects moves the map towards the hedge, a sighting where they are moves it away."""
    quiet = _fork_picture()
    assert quiet.hedge_share() == pytest.approx(0.5)
    east_end = fork_network().node_lat[59], fork_network().node_lon[59]
    searched = _fork_picture(
        evidence=[
            {
                "kind": "search",
                "post_id": "p_east",
                "from": T0.isoformat(),
                "to": (T0 + timedelta(hours=2)).isoformat(),
                "detection_probability": 0.9,
                "found": False,
            }
        ]
    )
    seen = _fork_picture(
        evidence=[
            {
                "kind": "sighting",
                "time": (T0 + timedelta(minutes=110)).isoformat(),
                "lat": float(east_end[0]),
                "lon": float(east_end[1]),
                "radius_m": 1500.0,
                "credibility": 0.8,
            }
        ]
    )
    assert searched.hedge_share() > 0.55
    assert seen.hedge_share() < 0.45
    for pic in (quiet, searched, seen):
        assert pic._pf is not None and pic._frontier is not None
        h = pic.hedge_share()
        mixed = (1 - h) * pic._pf.node_probability() + h * pic._frontier.node_probability()
        assert np.allclose(pic.node_probability(), mixed)
    base = SearchPicture(fork_network(), _case(40.0, 10.0), "reachability")
    assert base.hedge_share() == 0.0
