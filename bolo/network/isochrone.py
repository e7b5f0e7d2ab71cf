"""Isochrones: the area reachable within a time, as one simple polygon ready for CAP.

Reached nodes, the drawing points of fully reached arcs and the cut points of partly reached
arcs are rasterised on a grid of at most GRID cells a side; the grid is closed (gaps along fast
roads), holes are filled, and the cells become one polygon, simplified to at most 100 vertices
(first = last), valid and counter-clockwise.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from bolo.network._kernels import raster_reached_kernel
from bolo.network.graph import FloatArray, Mode, Network
from bolo.network.ranking import DEFAULT_MAX_SNAP_METRES, source_node
from bolo.network.travel import earliest_arrival

GRID = 160
MAX_VERTICES = 100
_MIN_CELL_DEG = 0.0005  # about 50 m: finer than that, road gaps fragment the area


def reached_grid(network: Network, times: FloatArray, limit: float, *,
                 also: tuple[float, float] | None = None) -> tuple[
        np.ndarray, tuple[float, float, float, float]]:
    """Rasterise everything reached by ``limit`` (nodes, drawing points of fully reached arcs,
    stopping points on partly reached arcs) on a grid of at most ~GRID cells a side.

    ``times`` are arrival times (seconds) on the clock of ``limit``. Returns the boolean grid
    (rows = latitude) and its frame (x0, y0, cell, scale) where x = lon * scale (degrees).
    ``also`` is one more (lat, lon) point to cover (the last-known place)."""
    reached = times <= limit
    lat, lon = network.node_lat[reached], network.node_lon[reached]
    if also is not None:
        lat, lon = np.append(lat, also[0]), np.append(lon, also[1])
    if lat.size == 0:
        raise ValueError("nothing is reached")
    scale = float(np.cos(np.radians(np.mean(lat))))
    x, y = lon * scale, lat
    span = max(float(x.max() - x.min()), float(y.max() - y.min()))
    cell = max(span / (GRID - 8), _MIN_CELL_DEG)
    # Partly reached arcs and curvy drawings reach past the nodes' box: leave a margin.
    x0, y0 = float(x.min()) - 6.5 * cell, float(y.min()) - 6.5 * cell
    shape = (int((float(y.max()) - y0) / cell) + 7, int((float(x.max()) - x0) / cell) + 7)
    grid = np.zeros(shape, dtype=np.bool_)
    frame = (x0, y0, cell, scale)
    g_ptr, g_lat, g_lon = np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
    if network.geom_ptr is not None and network.geom_lat is not None:
        g_ptr, g_lat = network.geom_ptr, network.geom_lat
        g_lon = network.geom_lon if network.geom_lon is not None else g_lon
    raster_reached_kernel(
        network.indptr, network.indices, network.arc_seconds, network.node_lat, network.node_lon,
        g_ptr, g_lat, g_lon, times, float(limit), np.array(frame), grid,
    )
    return grid, frame


def polygon_from_grid(grid: np.ndarray, frame: tuple[float, float, float, float]) -> Polygon:
    """One simple polygon (lon, lat) covering the marked cells (see module doc)."""
    x0, y0, cell, scale = frame
    grid = _one_blob(grid)
    rows, starts, ends = _runs(grid)
    boxes = shapely.box(x0 + starts * cell, y0 + rows * cell, x0 + ends * cell,
                        y0 + (rows + 1) * cell)
    shape = shapely.union_all(boxes)
    if not isinstance(shape, Polygon):
        shape = shape.convex_hull
    shape = _simplify(Polygon(shape.exterior), cell)
    coords = np.asarray(shape.exterior.coords)
    return orient(Polygon(np.column_stack((coords[:, 0] / scale, coords[:, 1]))), 1.0)


def _one_blob(grid: np.ndarray) -> np.ndarray:
    structure = np.ones((3, 3), dtype=np.bool_)
    # Components by edge (4-)connectivity: cells touching only at a corner would union into
    # a MultiPolygon.
    _, count = ndimage.label(grid)
    if count <= 1:
        return np.asarray(ndimage.binary_fill_holes(grid), dtype=np.bool_)
    for iterations in (1, 3, 8, 20):
        closed = ndimage.binary_closing(grid, structure, iterations=iterations, border_value=0)
        closed |= grid
        filled = ndimage.binary_fill_holes(closed)
        _, count = ndimage.label(filled)
        if count <= 1:
            return np.asarray(filled, dtype=np.bool_)
    hull = shapely.convex_hull(shapely.multipoints(np.argwhere(grid)[:, ::-1] + 0.5))
    yy, xx = np.mgrid[0:grid.shape[0], 0:grid.shape[1]]
    inside = shapely.contains_xy(shapely.buffer(hull, 1.0), xx + 0.5, yy + 0.5)
    return np.asarray(inside | grid, dtype=np.bool_)


def _runs(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    padded = np.zeros((grid.shape[0], grid.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    diff = np.diff(padded, axis=1)
    r1, c1 = np.nonzero(diff == 1)
    _, c2 = np.nonzero(diff == -1)
    return r1, c1, c2


def _simplify(shape: Polygon, cell: float) -> Polygon:
    exact = shapely.simplify(shape, 0.0)  # drops collinear staircase points only
    if isinstance(exact, Polygon) and len(exact.exterior.coords) <= MAX_VERTICES:
        return exact
    tolerance = cell * 0.75
    out = shape
    for _ in range(40):
        out = shapely.simplify(shape, tolerance, preserve_topology=True)
        if isinstance(out, Polygon) and out.is_valid and len(out.exterior.coords) <= MAX_VERTICES:
            return Polygon(out.exterior)
        tolerance *= 1.5
    hull = shape.convex_hull
    return Polygon(shapely.simplify(hull, tolerance).exterior)


def isochrone_shape(
    network: Network,
    *,
    lat: float,
    lon: float,
    seconds: float,
    modes: Collection[Mode] | None = None,
    max_snap_metres: float = DEFAULT_MAX_SNAP_METRES,
) -> Polygon:
    """The area reachable from (lat, lon) within ``seconds`` as a shapely Polygon (lon, lat)."""
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    node, access = source_node(network, lat, lon, max_metres=max_snap_metres)
    times = earliest_arrival(network, [node], start_seconds=[access], limit_seconds=seconds,
                             modes=modes)
    grid, frame = reached_grid(network, times, seconds, also=(lat, lon))
    x0, y0, cell, scale = frame
    # The last-known place itself is always inside (it may sit off the network).
    iy, ix = int((lat - y0) / cell), int((lon * scale - x0) / cell)
    if 0 <= iy < grid.shape[0] and 0 <= ix < grid.shape[1]:
        grid[iy, ix] = True
    return polygon_from_grid(grid, frame)


def isochrone_polygon(
    network: Network,
    *,
    lat: float,
    lon: float,
    seconds: float,
    modes: Collection[Mode] | None = None,
    max_snap_metres: float = DEFAULT_MAX_SNAP_METRES,
) -> list[tuple[float, float]]:
    """The reachable area as a closed (lat, lon) ring of at most 100 points, first = last,
    valid and non-self-intersecting: the content of a CAP ``<polygon>``."""
    shape = isochrone_shape(network, lat=lat, lon=lon, seconds=seconds, modes=modes,
                            max_snap_metres=max_snap_metres)
    return [(float(y), float(x)) for x, y in shape.exterior.coords]


def cap_polygon_text(ring: list[tuple[float, float]]) -> str:
    """A (lat, lon) ring as CAP 1.2 polygon text: space-separated "lat,lon" pairs."""
    return " ".join(f"{la:.5f},{lo:.5f}" for la, lo in ring)


def isochrone_geojson(
    network: Network,
    *,
    lat: float,
    lon: float,
    seconds: float,
    modes: Collection[Mode] | None = None,
    max_snap_metres: float = DEFAULT_MAX_SNAP_METRES,
) -> dict[str, Any]:
    """The isochrone as a GeoJSON Feature (RFC 7946: lon, lat; exterior counter-clockwise)."""
    ring = isochrone_polygon(network, lat=lat, lon=lon, seconds=seconds, modes=modes,
                             max_snap_metres=max_snap_metres)
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[lo, la] for la, lo in ring]]},
        "properties": {
            "network": network.name, "from": [lat, lon], "seconds": seconds,
            "modes": sorted(m.value for m in modes) if modes else "all",
            "attribution": network.attribution,
        },
    }
