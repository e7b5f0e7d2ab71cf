"""What real extracts contain: odd tags, clipped ways, loops, other file formats, broken files.

Each extract is a few hundred synthetic nodes written with pyosmium (tests/network/osm_writer).
"""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bolo.network import NetworkImportError, load
from bolo.network.cli import app
from bolo.network.graph import Mode, ModeCode
from bolo.network.osm import import_osm
from bolo.network.osm.tags import parse_maxspeed
from bolo.network.store import load_network
from bolo.network.travel import earliest_arrival, nearest_node
from tests.network.osm_writer import Extract

runner = CliRunner()


def _grid_file(tmp_path: Path, name: str = "grid.osm.pbf", **tags: str) -> Path:
    ex = Extract()
    ex.grid(50.0, 10.0, tags={"highway": "tertiary", **tags})
    return ex.write(tmp_path / name)


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("30;50", 50.0),  # per lane or time of day: the highest is the earliest possible
        ("signals;60", 60.0),
        ("DE:zone30", 30.0),
        ("DE:zone:20", 20.0),
        ("GB:nsl_single", 60 * 1.609344),
        ("50 mph", 50 * 1.609344),
        ("RU:urban", 50.0),
    ],
)
def test_maxspeed_values_as_real_data_has_them(value: str, kmh: float) -> None:
    assert parse_maxspeed(value) == pytest.approx(kmh)


@pytest.mark.parametrize("value", ["signals", "variable", "garbage", "0", "DE:zone0", "50,5", ""])
def test_unusable_maxspeed_falls_back_to_the_class(value: str) -> None:
    assert parse_maxspeed(value) is None


def test_a_loop_street_touching_the_grid_once_is_kept(tmp_path: Path) -> None:
    ex = Extract()
    ids = ex.grid(50.0, 10.0)
    corner = ids[0, 0]
    loop = [ex.node(50.0 - 0.001 * k, 10.0 - 0.0005 * k * (10 - k)) for k in range(1, 10)]
    ex.way([corner, *loop, corner], {"highway": "residential"})
    net = import_osm(ex.write(tmp_path / "loop.osm.pbf"), name="loop", root=tmp_path / "n")
    far, metres = nearest_node(net, 49.995, 10.0 - 0.0005 * 25)
    assert metres < 10
    times = earliest_arrival(net, [nearest_node(net, 50.0, 10.0)[0]])
    assert np.isfinite(times[far])


def test_oneway_minus_one_and_reversible(tmp_path: Path) -> None:
    back = import_osm(_grid_file(tmp_path, "b.osm.pbf", oneway="-1"), name="b", root=tmp_path / "n")
    both = import_osm(
        _grid_file(tmp_path, "r.osm.pbf", oneway="reversible"), name="r", root=tmp_path / "n"
    )
    assert both.n_arcs > back.n_arcs
    # Ways run west -> east and south -> north: oneway=-1 drives them the other way.
    south_west = nearest_node(back, 50.0, 10.0)[0]
    north_east = nearest_node(back, 50.022, 10.022)[0]
    times = earliest_arrival(back, [north_east])
    assert np.isfinite(times[south_west])
    assert not np.isfinite(earliest_arrival(back, [south_west])[north_east])


def test_rail_sidings_are_dropped_and_ferries_cross(tmp_path: Path) -> None:
    ex = Extract()
    ids = ex.grid(50.0, 10.0)
    ex.node(50.0001, 10.002, {"railway": "station", "name": "Halt"})
    ex.way([ids[0, 0], ids[0, 11]], {"railway": "rail"})
    ex.way([ids[1, 0], ids[1, 11]], {"railway": "rail", "service": "siding"})
    far = ex.grid(50.2, 10.0)
    ex.way([ids[11, 0], far[0, 0]], {"route": "ferry", "duration": "00:30"})
    net = import_osm(ex.write(tmp_path / "f.osm.pbf"), name="f", root=tmp_path / "n")
    rail_arcs = net.arc_mode == ModeCode.RAIL
    assert rail_arcs.sum() == 2 and np.all(net.arc_metres[rail_arcs] > 1500)
    # Two grids of 12 x 11 x 2 two-way edges, less the corners merged into chains (not the
    # two quays), and the two-way crossing of 19.8 km in its 30 minutes.
    assert (net.arc_mode == ModeCode.ROAD).sum() == 2 * (2 * (2 * 12 * 11 - 4) + 2) + 2
    quay, other_quay = nearest_node(net, 50.022, 10.0)[0], nearest_node(net, 50.2, 10.0)[0]
    assert earliest_arrival(net, [quay])[other_quay] == pytest.approx(1800.0)


def test_clipped_ways_keep_their_located_runs_and_leave_exits(tmp_path: Path) -> None:
    ex = Extract()
    ids = ex.grid(50.0, 10.0)
    # A primary road leaving the extract: its last nodes are not in the file.
    ex.way([ids[5, 11], ex.node(50.01, 10.03), 999_001, 999_002], {"highway": "primary"})
    net = import_osm(ex.write(tmp_path / "c.osm.pbf"), name="c", root=tmp_path / "n")
    cut = [e for e in net.exits if e.kind == "road_cut"]
    assert [(net.node_lat[e.node], net.node_lon[e.node]) for e in cut] == [(50.01, 10.03)]


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2", ".osm.gz"])
def test_xml_and_compressed_extracts_import_like_pbf(tmp_path: Path, suffix: str) -> None:
    pbf = import_osm(_grid_file(tmp_path), name="p", root=tmp_path / "n")
    other = import_osm(_grid_file(tmp_path, f"grid{suffix}"), name="o", root=tmp_path / "n")
    assert other.n_nodes == pbf.n_nodes and other.n_arcs == pbf.n_arcs


def _hostile(tmp_path: Path, kind: str) -> Path:
    ex = Extract()
    path = tmp_path / f"{kind}.osm.pbf"
    if kind == "empty-pbf":
        return ex.write(path)
    if kind == "no-highways":
        ex.grid(50.0, 10.0, tags={"building": "yes"})
    elif kind in ("footway", "construction", "proposed", "abandoned"):
        ex.grid(50.0, 10.0, tags={"highway": kind})
    elif kind == "one-point":
        a, b = ex.node(50.0, 10.0), ex.node(50.0, 10.0)
        ex.way([a, b], {"highway": "primary"})
    elif kind == "all-nodes-missing":
        ex.way([5, 6, 7], {"highway": "primary"})
    elif kind in ("negative-ids", "nan-coordinate"):
        path = tmp_path / f"{kind}.osm"
        lat = "nan" if kind == "nan-coordinate" else "50.01"
        path.write_text(
            "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6' generator='JOSM'>"
            f"<node id='-1' lat='50.0' lon='10.0'/><node id='-2' lat='{lat}' lon='10.0'/>"
            "<way id='-3'><nd ref='-1'/><nd ref='-2'/><tag k='highway' v='primary'/></way>"
            "</osm>",
            encoding="utf-8",
        )
        return path
    elif kind == "not-osm":
        path.write_bytes(b"PK\x03\x04 a zip file, not OSM" * 50)
        return path
    elif kind == "html":
        path = tmp_path / "page.osm"
        path.write_text("<html><body>404 Not Found</body></html>", encoding="utf-8")
        return path
    elif kind == "bad-bz2":
        path = tmp_path / "bad.osm.bz2"
        path.write_bytes(bz2.compress(b"hello, not xml"))
        return path
    elif kind == "truncated":
        whole = _grid_file(tmp_path, "whole.osm.pbf").read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
        return path
    return ex.write(path)


@pytest.mark.parametrize(
    "kind",
    [
        "empty-pbf",
        "no-highways",
        "footway",
        "construction",
        "proposed",
        "abandoned",
        "one-point",
        "all-nodes-missing",
        "negative-ids",
        "nan-coordinate",
        "not-osm",
        "html",
        "bad-bz2",
        "truncated",
    ],
)
def test_hostile_files_fail_clearly_and_keep_the_previous_network(
    data_dir: Path, tmp_path: Path, kind: str
) -> None:
    good = runner.invoke(app, ["import", str(_grid_file(tmp_path)), "--name", "x", "--json"])
    assert good.exit_code == 0, good.output
    before = load("x").n_arcs
    bad = runner.invoke(app, ["import", str(_hostile(tmp_path, kind)), "--name", "x"])
    assert bad.exit_code == 1, bad.output
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.output
    if kind == "negative-ids":
        assert "negative ids" in bad.stderr
    assert load("x").n_arcs == before
    leftovers = [p.name for p in (data_dir / "networks").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def _cap_findings(ring: list[tuple[float, float]]) -> list[str]:
    from bolo.cap.findings import Findings
    from bolo.cap.geometry import polygon_findings

    found = Findings()
    polygon_findings(ring, "/polygon", found)
    return [str(f) for f in found.items]


@pytest.mark.parametrize(
    ("lat", "lon", "parts"),
    [(-16.8, 179.99, 2), (-16.8, -179.99, 2), (70.0, 20.0, 1), (-78.0, 166.0, 1)],
)
def test_isochrones_across_the_antimeridian_and_far_north_are_valid_cap(
    data_dir: Path, tmp_path: Path, lat: float, lon: float, parts: int
) -> None:
    from bolo.network.isochrone import isochrone_geojson, isochrone_rings

    ex = Extract()
    ex.grid(lat - 0.011, lon - 0.011)  # 12 x 12 streets, 2.4 km a side, around (lat, lon)
    net = import_osm(ex.write(tmp_path / "g.osm.pbf"), name="g")
    rings = isochrone_rings(net, lat=lat, lon=lon, seconds=600)
    assert len(rings) == parts
    for ring in rings:
        assert _cap_findings(ring) == [] and len(ring) <= 100
        assert max(abs(la - lat) for la, _ in ring) < 0.05
    if parts == 2:  # one ring each side of lon = 180, the start's side first
        sides = [np.sign(np.mean([lo for _, lo in r])) for r in rings]
        assert sides == [np.sign(lon), -np.sign(lon)]
    geometry = isochrone_geojson(net, lat=lat, lon=lon, seconds=600)["geometry"]
    assert geometry["type"] == ("MultiPolygon" if parts == 2 else "Polygon")
    cli = runner.invoke(app, ["isochrone", "g", "--from", f"{lat},{lon}", "--minutes", "10"])
    assert cli.exit_code == 0 and len(cli.stdout.splitlines()) == parts


def test_one_way_dead_ends_are_no_traps_but_major_roads_keep_their_direction(
    tmp_path: Path,
) -> None:
    ex = Extract()
    ids = ex.grid(50.0, 10.0)
    # A one-way residential branch of two ways ending in a dead end, and a one-way primary
    # dead end (a carriageway cut by the extract's edge).
    mid, end = ex.node(49.995, 10.0), ex.node(49.99, 10.0)
    ex.way([ids[0, 0], mid], {"highway": "residential", "oneway": "yes"})
    ex.way([mid, end], {"highway": "residential", "oneway": "yes"})
    cut = ex.node(49.99, 10.022)
    ex.way([ids[0, 11], cut], {"highway": "primary", "oneway": "yes"})
    net = import_osm(ex.write(tmp_path / "d.osm.pbf"), name="d", root=tmp_path / "n")
    grid_node = nearest_node(net, 50.01, 10.01)[0]
    end_node, metres = nearest_node(net, 49.99, 10.0, mode=Mode.ROAD)
    assert metres < 1 and np.isfinite(earliest_arrival(net, [end_node])[grid_node])
    cut_node, metres = nearest_node(net, 49.99, 10.022, mode=Mode.ROAD)
    assert metres < 1 and np.isfinite(earliest_arrival(net, [cut_node])).sum() == 1


def test_duplicate_ids_and_a_huge_way_import(tmp_path: Path) -> None:
    ex = Extract()
    refs = [ex.node(50.0, 10.0 + k * 1e-5) for k in range(20_000)]  # 14.3 km, 20 000 nodes
    way = ex.way(refs, {"highway": "primary"})
    ex.way(refs[:2], {"highway": "primary"})
    ex.ways.append(ex.ways[0])  # the same way twice, as merged extracts have it
    ex.nodes.append(ex.nodes[0])
    net = import_osm(ex.write(tmp_path / "h.osm"), name="h", root=tmp_path / "n")
    assert way == ex.ways[-1].id and net.n_nodes == 3
    assert net.arc_metres.max() == pytest.approx(19_998 * 0.716, rel=0.01)


def test_a_failing_gazetteer_leaves_the_previous_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bolo.network.osm as osm

    root = tmp_path / "n"
    first = import_osm(_grid_file(tmp_path), name="x", root=root)

    def broken(source: Path, folder: Path) -> int:
        raise NetworkImportError(f"{source}: place names unreadable")

    monkeypatch.setattr(osm, "extract_places", broken)
    other = Extract()
    other.grid(51.0, 11.0, side=14)
    with pytest.raises(NetworkImportError):
        import_osm(other.write(tmp_path / "other.osm.pbf"), name="x", root=root)
    again = load_network(root, "x")
    assert again.n_arcs == first.n_arcs and again.node_lat[0] == first.node_lat[0]
    assert sorted(p.name for p in root.iterdir()) == ["x"]
