"""The network-following isochrone outline on a real extract (Andorra's valleys)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree

from bolo.network.graph import Network
from bolo.network.isochrone import (
    MAX_VERTICES,
    OFFROAD_CAP_M,
    isochrone_geojson,
    isochrone_polygon,
    isochrone_shape,
)
from bolo.network.osm import build_network
from bolo.network.travel import earliest_arrival

ANDORRA = Path(__file__).resolve().parent.parent / "fixtures" / "vh_andorra-latest.osm.pbf"
LA_MASSANA = (42.5450, 1.5148)
MINUTES = 20


@pytest.fixture(scope="module")
def andorra() -> Network:
    return build_network(ANDORRA, name="andorra")


def _xy_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return np.column_stack((lon * 111_320.0 * np.cos(np.radians(42.5)), lat * 110_570.0))


def test_outline_is_cap_ready_and_covers_every_reached_node(andorra: Network) -> None:
    ring = isochrone_polygon(andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1], seconds=MINUTES * 60)
    assert 4 <= len(ring) <= MAX_VERTICES and ring[0] == ring[-1]
    poly = shapely.Polygon([(lo, la) for la, lo in ring])
    assert poly.is_valid and poly.exterior.is_simple and poly.exterior.is_ccw
    times = earliest_arrival(
        andorra,
        [
            int(
                np.argmin(
                    (andorra.node_lat - LA_MASSANA[0]) ** 2
                    + (andorra.node_lon - LA_MASSANA[1]) ** 2
                )
            )
        ],
    )
    reached = times <= MINUTES * 60 - 120  # away from the frontier (snapping differs)
    inside = shapely.contains_xy(
        poly.buffer(0.002), andorra.node_lon[reached], andorra.node_lat[reached]
    )
    assert inside.mean() > 0.99


def test_outline_follows_the_valleys_not_the_hull(andorra: Network) -> None:
    """Every point of the area is near a reached road; the filled outline takes in mountain
    sides no road reaches."""
    shape = isochrone_shape(andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1], seconds=MINUTES * 60)
    filled = isochrone_shape(
        andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1], seconds=MINUTES * 60, follow_network=False
    )
    assert shape.area < 0.7 * filled.area
    assert shape.area < 0.6 * shape.convex_hull.area
    src = int(
        np.argmin((andorra.node_lat - LA_MASSANA[0]) ** 2 + (andorra.node_lon - LA_MASSANA[1]) ** 2)
    )
    times = earliest_arrival(andorra, [src])
    reached = times <= MINUTES * 60 + 60
    # Reached nodes and the drawing points of arcs between two reached nodes.
    tails = np.repeat(np.arange(andorra.n_nodes), np.diff(andorra.indptr))
    assert andorra.geom_ptr is not None and andorra.geom_lat is not None
    assert andorra.geom_lon is not None
    arcs = np.flatnonzero(reached[tails] & reached[andorra.indices])
    points = np.concatenate([np.arange(andorra.geom_ptr[k], andorra.geom_ptr[k + 1]) for k in arcs])
    tree = cKDTree(
        _xy_m(
            np.concatenate((andorra.node_lat[reached], andorra.geom_lat[points])),
            np.concatenate((andorra.node_lon[reached], andorra.geom_lon[points])),
        )
    )
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = shape.bounds
    px, py = rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000)
    keep = shapely.contains_xy(shape, px, py)
    far, _ = tree.query(_xy_m(py[keep], px[keep]))
    # The bound allows for the simplification to <= 100 vertices (several cells).
    assert np.quantile(far, 0.95) < OFFROAD_CAP_M + 600


def test_geojson_keeps_the_holes(andorra: Network) -> None:
    feature = isochrone_geojson(andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1], seconds=1800)
    rings = feature["geometry"]["coordinates"]
    poly = shapely.Polygon(rings[0], rings[1:])
    assert poly.is_valid and len(rings) >= 2
    assert shapely.LinearRing(rings[0]).is_ccw
    assert not any(shapely.LinearRing(r).is_ccw for r in rings[1:])


def test_traced_rings_are_the_union_of_the_cells() -> None:
    """The ring tracing gives exactly the cells' union: one counter-clockwise exterior,
    clockwise holes, valid, on random blobs with holes and corner contacts."""
    from scipy import ndimage

    from bolo.network._outline import no_saddles, trace_rings

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(200):
        grid = ndimage.binary_dilation(
            rng.random((30, 40)) < 0.08, iterations=int(rng.integers(1, 3))
        )
        grid[rng.random(grid.shape) < 0.1] = False
        labels, count = ndimage.label(grid)
        if count == 0:
            continue
        grid = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1
        no_saddles(grid)
        pts, offsets = trace_rings(grid)
        rings = [pts[offsets[k] : offsets[k + 1]] for k in range(offsets.shape[0] - 1)]
        outer = [r for r in rings if shapely.LinearRing(r).is_ccw]
        assert len(outer) == 1
        poly = shapely.Polygon(outer[0], [r for r in rings if not shapely.LinearRing(r).is_ccw])
        assert poly.is_valid
        rows, cols = np.nonzero(grid)
        cells = shapely.union_all(shapely.box(cols, rows, cols + 1, rows + 1))
        assert poly.symmetric_difference(cells).area < 1e-9
        checked += 1
    assert checked > 100


def _one_road(*, drawn: bool) -> Network:
    """Two places 20 km apart (west-east at 40N) joined both ways by a 26 km road, with or
    without drawings (an empty drawing is a straight road)."""
    lat, lon = np.array([40.0, 40.0]), np.array([10.0, 10.0 + 20_000 / (111_320 * np.cos(0.698))])
    return Network(
        name="one-road",
        node_lat=lat,
        node_lon=lon,
        indptr=np.array([0, 1, 2], dtype=np.int64),
        indices=np.array([1, 0], dtype=np.int64),
        arc_seconds=np.full(2, 1300.0),
        arc_metres=np.full(2, 26_000.0),
        arc_mode=np.zeros(2, dtype=np.uint8),
        geom_ptr=np.zeros(3, dtype=np.int64) if drawn else None,
        geom_lat=np.empty(0) if drawn else None,
        geom_lon=np.empty(0) if drawn else None,
    )


def _north_of_midpoint(net: Network, metres: float) -> shapely.Point:
    return shapely.Point(float(net.node_lon.mean()), 40.0 + metres / 111_320)


def test_an_undrawn_road_may_run_anywhere_its_length_allows() -> None:
    # A 26 km road between places 20 km apart can stray up to sqrt(13^2 - 10^2) = 8.3 km
    # from the straight line; a schematic network does not say where, a drawn one does.
    schematic, drawn = _one_road(drawn=False), _one_road(drawn=True)
    whole = isochrone_shape(schematic, lat=40.0, lon=10.0, seconds=2000)
    assert whole.contains(_north_of_midpoint(schematic, 6_000))
    assert not whole.contains(_north_of_midpoint(schematic, 11_000))
    straight = isochrone_shape(drawn, lat=40.0, lon=10.0, seconds=2000)
    assert not straight.contains(_north_of_midpoint(drawn, 6_000))
    # Half-way through the arc's time, the suspects are at most 13 km along the road.
    half = isochrone_shape(schematic, lat=40.0, lon=10.0, seconds=650)
    far_end = shapely.Point(float(schematic.node_lon[1]) - 0.05, 40.0)
    assert not half.contains(far_end) and half.contains(_north_of_midpoint(schematic, 3_000))
