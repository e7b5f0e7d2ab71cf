"""Networks in several pieces (islands, enclaves): the last-known place on a small piece."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bolo.network.graph import Network
from bolo.network.isochrone import isochrone_rings
from bolo.network.osm import import_osm
from bolo.network.ranking import rank_posts_by_arrival
from tests.network.osm_writer import Extract

ISLAND = (49.605, 10.105)


@pytest.fixture(scope="module")
def islands(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """A mainland of primary roads (~26 km a side, patrol posts, a police station) and a small
    island of residential streets 40 km south with no post, exit or named place."""
    ex = Extract()
    ex.grid(50.0, 10.0, side=14, step=0.02, tags={"highway": "primary"})
    ex.node(50.0001, 10.0001, {"amenity": "police", "name": "Main police"})
    ex.grid(49.6, 10.1, side=11, step=0.001, tags={"highway": "residential"})
    folder = tmp_path_factory.mktemp("islands")
    return import_osm(ex.write(folder / "i.osm.pbf"), name="i", root=folder / "n")


def test_ranking_from_the_island_names_no_post_out_of_reach(islands: Network) -> None:
    ranked = rank_posts_by_arrival(
        islands, lat=ISLAND[0], lon=ISLAND[1], start_earliest=0.0, now=60.0, budget=5
    )
    assert ranked == []
    rings = isochrone_rings(islands, lat=ISLAND[0], lon=ISLAND[1], seconds=3600)
    assert len(rings) == 1 and all(abs(la - ISLAND[0]) < 0.05 for la, _ in rings[0])


def test_the_particle_picture_stays_on_the_island(islands: Network) -> None:
    from bolo.search import SearchPicture

    case = {
        "last_known": {
            "lat": ISLAND[0],
            "lon": ISLAND[1],
            "time_earliest": "2026-03-31T08:00:00+00:00",
            "time_latest": "2026-03-31T08:30:00+00:00",
        },
        "modes": ["road"],
        "hints": [],
        "evidence": [],
    }
    picture = SearchPicture(islands, case, strategy="particle", seed=0, particles=300)
    picture.advance("2026-03-31T10:00:00+00:00")
    ranked = picture.rank(3)
    assert len(ranked) == 3 and all(r["probability"] == 0.0 for r in ranked)
    on_island = islands.node_lat < 49.7
    assert picture.node_probability()[on_island].sum() > 0.99
    # The suspects move around the island: not all the mass stays at the last-known place.
    assert np.count_nonzero(picture.node_probability()[on_island] > 1e-3) > 3


def test_a_last_known_place_at_a_cut_carriageway_end_joins_where_the_road_goes_on(
    tmp_path: Path,
) -> None:
    from bolo.search import SearchPicture

    ex = Extract()
    ids = ex.grid(50.0, 10.0, tags={"highway": "primary"})
    end = ex.node(49.99, 10.022)  # a one-way carriageway leaving the extract ends here
    ex.way([ids[0, 11], end], {"highway": "primary", "oneway": "yes"})
    net = import_osm(ex.write(tmp_path / "c.osm.pbf"), name="c", root=tmp_path / "n")
    rank = rank_posts_by_arrival(net, lat=49.99, lon=10.022, start_earliest=0, now=0, budget=3)
    assert len(rank) == 3
    ring = isochrone_rings(net, lat=49.99, lon=10.022, seconds=600)[0]
    assert max(la for la, _ in ring) > 50.02  # the whole grid, not the dead end alone
    case = {
        "last_known": {
            "lat": 49.99,
            "lon": 10.022,
            "time_earliest": "2026-03-31T08:00:00+00:00",
            "time_latest": "2026-03-31T08:10:00+00:00",
        },
        "modes": ["road"],
    }
    picture = SearchPicture(net, case, strategy="particle", seed=0, particles=200)
    picture.advance("2026-03-31T09:00:00+00:00")
    assert len(picture.rank(3)) == 3


def test_rank_cli_says_when_no_post_is_ahead(data_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bolo.network.cli import app

    ex = Extract()
    ex.grid(50.0, 10.0, tags={"highway": "primary"})
    import_osm(ex.write(tmp_path / "g.osm.pbf"), name="g")
    args = ["rank", "g", "--from", "50.01,10.01", "--elapsed-minutes"]
    ahead = CliRunner().invoke(app, [*args, "0.1"])
    assert ahead.exit_code == 0 and "patrol-" in ahead.stdout
    passed = CliRunner().invoke(app, [*args, "60"])
    assert passed.exit_code == 0 and passed.stdout.startswith("no post ahead of the suspects")
