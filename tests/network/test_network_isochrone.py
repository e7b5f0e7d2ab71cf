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
    ring = isochrone_polygon(andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1],
                             seconds=MINUTES * 60)
    assert 4 <= len(ring) <= MAX_VERTICES and ring[0] == ring[-1]
    poly = shapely.Polygon([(lo, la) for la, lo in ring])
    assert poly.is_valid and poly.exterior.is_simple and poly.exterior.is_ccw
    times = earliest_arrival(andorra, [int(np.argmin(
        (andorra.node_lat - LA_MASSANA[0]) ** 2 + (andorra.node_lon - LA_MASSANA[1]) ** 2))])
    reached = times <= MINUTES * 60 - 120   # away from the frontier (snapping differs)
    inside = shapely.contains_xy(poly.buffer(0.002), andorra.node_lon[reached],
                                 andorra.node_lat[reached])
    assert inside.mean() > 0.99


def test_outline_follows_the_valleys_not_the_hull(andorra: Network) -> None:
    """Every point of the area is near a reached road; the filled outline takes in mountain
    sides no road reaches."""
    shape = isochrone_shape(andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1], seconds=MINUTES * 60)
    filled = isochrone_shape(andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1],
                             seconds=MINUTES * 60, follow_network=False)
    assert shape.area < 0.7 * filled.area
    assert shape.area < 0.6 * shape.convex_hull.area
    src = int(np.argmin((andorra.node_lat - LA_MASSANA[0]) ** 2
                        + (andorra.node_lon - LA_MASSANA[1]) ** 2))
    times = earliest_arrival(andorra, [src])
    reached = times <= MINUTES * 60 + 60
    tree = cKDTree(_xy_m(andorra.node_lat[reached], andorra.node_lon[reached]))
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = shape.bounds
    px, py = rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000)
    keep = shapely.contains_xy(shape, px, py)
    far, _ = tree.query(_xy_m(py[keep], px[keep]))
    # Nodes only (arcs between them are longer): the bound allows an arc's half length.
    assert np.quantile(far, 0.95) < OFFROAD_CAP_M + 800


def test_geojson_keeps_the_holes(andorra: Network) -> None:
    feature = isochrone_geojson(andorra, lat=LA_MASSANA[0], lon=LA_MASSANA[1], seconds=1800)
    rings = feature["geometry"]["coordinates"]
    poly = shapely.Polygon(rings[0], rings[1:])
    assert poly.is_valid and len(rings) >= 2
    assert shapely.LinearRing(rings[0]).is_ccw
    assert not any(shapely.LinearRing(r).is_ccw for r in rings[1:])
