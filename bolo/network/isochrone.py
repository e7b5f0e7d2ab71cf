"""Isochrones: the area reachable within a time, as one polygon ready for CAP.

The default outline follows the network: every reached arc is drawn on a grid of at most
GRID cells a side, each point widened by how far the suspects could still go off the network
in the time left (OFFROAD_MPS, at most OFFROAD_CAP_M, at least one cell; nothing beside rail
lines, whose trains stop only at stations; on a network without drawings, the ellipse each
reached arc's length allows between its ends: see _undrawn_ellipses). The cells become one
polygon with holes where no reached road comes near enough, simplified so its exterior has
at most 100 vertices (first = last), valid and counter-clockwise. The exterior alone is the
CAP ring (a CAP polygon has no holes). ``follow_network=False`` gives a filled outline
instead: reached points rasterised, closed, hole-filled (close to the convex hull of the
reached roads).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from bolo.network._kernels import raster_reached_kernel
from bolo.network._outline import (
    raster_reach_kernel,
    spread_reach_kernel,
)
from bolo.network.antimeridian import drawing_lon, drawing_network, to_wgs84
from bolo.network.graph import FloatArray, Mode, Network
from bolo.network.grid_polygon import (
    MAX_VERTICES,
    outline_from_grid,
    polygon_from_grid,
    simplify_polygon,
)
from bolo.network.ranking import DEFAULT_MAX_SNAP_METRES, source_node
from bolo.network.travel import WALK_METRES_PER_SECOND, arc_weights, earliest_arrival

GRID = 160
_MIN_CELL_DEG = 0.0005  # about 50 m: finer than that, road gaps fragment the area
OUTLINE_GRID = 256  # the network-following outline needs finer cells to show valleys
OFFROAD_MPS = WALK_METRES_PER_SECOND  # walking pace off the network
OFFROAD_CAP_M = 500.0  # a car left farther than this from any road is not a fast escape
_M_PER_DEG = 111_320.0


def _reached_points(
    network: Network, times: FloatArray, limit: float, also: tuple[float, float] | None
) -> tuple[FloatArray, FloatArray, float]:
    """The reached nodes (and ``also``) as grid coordinates: x = lon * scale, y = lat (degrees),
    and the scale (cosine of the mean latitude). ValueError when nothing is reached."""
    reached = times <= limit
    lat, lon = network.node_lat[reached], network.node_lon[reached]
    if also is not None:
        lat, lon = np.append(lat, also[0]), np.append(lon, also[1])
    if lat.size == 0:
        raise ValueError("nothing is reached")
    scale = float(np.cos(np.radians(np.mean(lat))))
    return lon * scale, lat, scale


def _drawings(network: Network) -> tuple[np.ndarray, FloatArray, FloatArray]:
    """The arcs' drawing points (pointer, lat, lon); empty arrays for a network without them."""
    g_ptr, g_lat, g_lon = np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
    if network.geom_ptr is not None and network.geom_lat is not None:
        g_ptr, g_lat = network.geom_ptr, network.geom_lat
        g_lon = network.geom_lon if network.geom_lon is not None else g_lon
    return g_ptr, g_lat, g_lon


def reached_grid(
    network: Network, times: FloatArray, limit: float, *, also: tuple[float, float] | None = None
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Rasterise everything reached by ``limit`` (nodes, drawing points of fully reached arcs,
    stopping points on partly reached arcs) on a grid of at most ~GRID cells a side.

    ``times`` are arrival times (seconds) on the clock of ``limit``. Returns the boolean grid
    (rows = latitude) and its frame (x0, y0, cell, scale) where x = lon * scale (degrees).
    ``also`` is one more (lat, lon) point to cover (the last-known place)."""
    x, y, scale = _reached_points(network, times, limit, also)
    span = max(float(x.max() - x.min()), float(y.max() - y.min()))
    cell = max(span / (GRID - 8), _MIN_CELL_DEG)
    # Partly reached arcs and curvy drawings reach past the nodes' box: leave a margin.
    x0, y0 = float(x.min()) - 6.5 * cell, float(y.min()) - 6.5 * cell
    shape = (int((float(y.max()) - y0) / cell) + 7, int((float(x.max()) - x0) / cell) + 7)
    grid = np.zeros(shape, dtype=np.bool_)
    frame = (x0, y0, cell, scale)
    g_ptr, g_lat, g_lon = _drawings(network)
    raster_reached_kernel(
        network.indptr,
        network.indices,
        network.arc_seconds,
        network.node_lat,
        network.node_lon,
        g_ptr,
        g_lat,
        g_lon,
        times,
        float(limit),
        np.array(frame),
        grid,
    )
    return grid, frame


def _undrawn_ellipses(
    network: Network, times: FloatArray, limit: float, seconds: FloatArray, scale: float
) -> FloatArray:
    """Where the reached arcs of a network without drawings (a schematic one: each arc known
    by its two ends and its length) may run. A road of length L from A to B keeps every point P
    within |AP| + |PB| <= L, an ellipse: drawing the straight line AB instead would put the
    area where the road is not. Rows (ax, ay, bx, by, travelled, L) in the grid's degrees
    (x = lon * scale, y = lat), travelled being how far along the arc the suspects get by
    ``limit`` (seconds); only arcs longer than their chord. Empty for a network with drawings."""
    if network.geom_ptr is not None or network.n_arcs == 0:
        return np.empty((0, 6))
    src = np.repeat(np.arange(network.n_nodes), np.diff(network.indptr))
    dst = network.indices
    start = times[src]
    usable = (start <= limit) & (seconds >= 0.0) & np.isfinite(seconds)
    ax, ay = network.node_lon[src] * scale, network.node_lat[src]
    bx, by = network.node_lon[dst] * scale, network.node_lat[dst]
    chord = np.hypot(bx - ax, by - ay)
    length = network.arc_metres / _M_PER_DEG
    keep = usable & (length > chord * 1.01)
    whole = (times[dst] <= limit) | (seconds == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(whole, 1.0, np.clip((limit - start) / seconds, 0.0, 1.0))
    rows = np.column_stack((ax, ay, bx, by, share * length, length))
    return np.asarray(rows[keep], dtype=np.float64)


def _fill_ellipses(
    reach: np.ndarray,
    ellipses: FloatArray,
    frame: tuple[float, float, float, float],
    floor_m: float,
) -> None:
    """Mark in ``reach`` (at least ``floor_m`` metres) every cell whose centre P lies where an
    arc of ``_undrawn_ellipses`` may run: |AP| + |PB| <= L and |AP| <= travelled."""
    x0, y0, cell, _ = frame
    for ax, ay, bx, by, travelled, length in ellipses:
        cx, cy, half = (ax + bx) / 2.0, (ay + by) / 2.0, length / 2.0
        lo_x, hi_x = max(cx - half, ax - travelled), min(cx + half, ax + travelled)
        lo_y, hi_y = max(cy - half, ay - travelled), min(cy + half, ay + travelled)
        i0, i1 = max(int((lo_y - y0) / cell), 0), min(int((hi_y - y0) / cell) + 1, reach.shape[0])
        j0, j1 = max(int((lo_x - x0) / cell), 0), min(int((hi_x - x0) / cell) + 1, reach.shape[1])
        if i0 >= i1 or j0 >= j1:
            continue
        py = (y0 + (np.arange(i0, i1) + 0.5) * cell)[:, None]
        px = (x0 + (np.arange(j0, j1) + 0.5) * cell)[None, :]
        from_a = np.hypot(px - ax, py - ay)
        inside = (from_a + np.hypot(px - bx, py - by) <= length) & (from_a <= travelled)
        block = reach[i0:i1, j0:j1]
        block[inside] = np.maximum(block[inside], floor_m)


def reach_grid(
    network: Network,
    times: FloatArray,
    limit: float,
    *,
    also: tuple[float, float] | None = None,
    arc_seconds: FloatArray | None = None,
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The network-following area on a grid of at most ~OUTLINE_GRID cells a side (plus the
    off-road margin): True where a point reached by ``limit`` (seconds, clock of ``times``)
    can still get to in the time left (see module doc). Returns (grid, frame) as
    ``reached_grid``; ``also`` is one more (lat, lon) point inside (the last-known place);
    ``arc_seconds`` the traveller's seconds per arc (inf: not usable; default: nominal)."""
    seconds = network.arc_seconds if arc_seconds is None else arc_seconds
    x, y, scale = _reached_points(network, times, limit, also)
    ellipses = _undrawn_ellipses(network, times, limit, seconds, scale)
    if ellipses.size:
        # The frame takes in the ellipses' boxes too (see _undrawn_ellipses).
        side = np.array([-1.0, 1.0]) * ellipses[:, 5:6] / 2.0
        x = np.concatenate([x, ((ellipses[:, 0:1] + ellipses[:, 2:3]) / 2.0 + side).ravel()])
        y = np.concatenate([y, ((ellipses[:, 1:2] + ellipses[:, 3:4]) / 2.0 + side).ravel()])
    span = max(float(x.max() - x.min()), float(y.max() - y.min()))
    cell = max(span / (OUTLINE_GRID - 8), _MIN_CELL_DEG)
    cell_m = cell * _M_PER_DEG
    pad = 6.5 + OFFROAD_CAP_M / cell_m
    x0, y0 = float(x.min()) - pad * cell, float(y.min()) - pad * cell
    shape = (
        int((float(y.max()) - y0) / cell + pad) + 2,
        int((float(x.max()) - x0) / cell + pad) + 2,
    )
    reach = np.full(shape, -np.inf)
    frame = (x0, y0, cell, scale)
    g_ptr, g_lat, g_lon = _drawings(network)
    raster_reach_kernel(
        network.indptr,
        network.indices,
        seconds,
        network.arc_metres,
        network.arc_mode,
        network.node_lat,
        network.node_lon,
        g_ptr,
        g_lat,
        g_lon,
        times,
        float(limit),
        np.array(frame),
        OFFROAD_MPS,
        OFFROAD_CAP_M,
        cell_m,
        reach,
    )
    _fill_ellipses(reach, ellipses, frame, cell_m)
    if also is not None:
        iy, ix = int((also[0] - y0) / cell), int((also[1] * scale - x0) / cell)
        if 0 <= iy < shape[0] and 0 <= ix < shape[1]:
            reach[iy, ix] = max(reach[iy, ix], cell_m)
    spread_reach_kernel(reach, cell_m)
    return reach >= 0.0, frame


def isochrone_shape(
    network: Network,
    *,
    lat: float,
    lon: float,
    seconds: float,
    modes: Collection[Mode] | None = None,
    max_snap_metres: float = DEFAULT_MAX_SNAP_METRES,
    follow_network: bool = True,
) -> Polygon | MultiPolygon:
    """The area reachable from (lat, lon) within ``seconds`` as a shapely Polygon (lon, lat;
    WGS84 degrees): following the network with holes (default) or the filled outline (see
    module doc). An area across the antimeridian is a MultiPolygon cut at lon = +-180."""
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    node, access = source_node(network, lat, lon, max_metres=max_snap_metres)
    times = earliest_arrival(
        network, [node], start_seconds=[access], limit_seconds=seconds, modes=modes
    )
    # Drawn on a plane where a network across the antimeridian is in one piece.
    drawn, x_lon = drawing_network(network), drawing_lon(network, lon)
    if follow_network:
        grid, frame = reach_grid(
            drawn, times, seconds, also=(lat, x_lon), arc_seconds=arc_weights(network, modes)
        )
        return to_wgs84(outline_from_grid(grid, frame))
    grid, frame = reached_grid(drawn, times, seconds, also=(lat, x_lon))
    x0, y0, cell, scale = frame
    # The last-known place itself is always inside (it may sit off the network).
    iy, ix = int((lat - y0) / cell), int((x_lon * scale - x0) / cell)
    if 0 <= iy < grid.shape[0] and 0 <= ix < grid.shape[1]:
        grid[iy, ix] = True
    return to_wgs84(polygon_from_grid(grid, frame))


def isochrone_rings(
    network: Network,
    *,
    lat: float,
    lon: float,
    seconds: float,
    modes: Collection[Mode] | None = None,
    max_snap_metres: float = DEFAULT_MAX_SNAP_METRES,
    follow_network: bool = True,
) -> list[list[tuple[float, float]]]:
    """The reachable area's exteriors as closed (lat, lon) rings of at most 100 points, first =
    last, valid and non-self-intersecting: each the content of one CAP ``<polygon>``. One ring,
    or one per side for an area across the antimeridian (the side holding ``lon`` first)."""
    shape = isochrone_shape(
        network,
        lat=lat,
        lon=lon,
        seconds=seconds,
        modes=modes,
        max_snap_metres=max_snap_metres,
        follow_network=follow_network,
    )
    parts = list(shape.geoms) if isinstance(shape, MultiPolygon) else [shape]
    parts.sort(key=lambda p: (p.bounds[0] > lon or p.bounds[2] < lon, -p.area))
    rings = []
    for part in parts:
        if len(part.exterior.coords) > MAX_VERTICES:
            part = simplify_polygon(Polygon(part.exterior), _MIN_CELL_DEG)
        rings.append([(float(y), float(x)) for x, y in part.exterior.coords])
    return rings


def isochrone_polygon(
    network: Network,
    *,
    lat: float,
    lon: float,
    seconds: float,
    modes: Collection[Mode] | None = None,
    max_snap_metres: float = DEFAULT_MAX_SNAP_METRES,
    follow_network: bool = True,
) -> list[tuple[float, float]]:
    """The reachable area's exterior as a closed (lat, lon) ring of at most 100 points,
    first = last, valid and non-self-intersecting: the content of a CAP ``<polygon>``. For an
    area across the antimeridian, the part on the side of ``lon`` (``isochrone_rings`` gives
    every part)."""
    return isochrone_rings(
        network,
        lat=lat,
        lon=lon,
        seconds=seconds,
        modes=modes,
        max_snap_metres=max_snap_metres,
        follow_network=follow_network,
    )[0]


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
    """The isochrone as a GeoJSON Feature (RFC 7946: lon, lat; exterior counter-clockwise,
    then the holes where nothing is reached, clockwise): a Polygon, or a MultiPolygon cut at
    the antimeridian."""
    shape = isochrone_shape(
        network, lat=lat, lon=lon, seconds=seconds, modes=modes, max_snap_metres=max_snap_metres
    )
    parts = [
        [[[float(x), float(y)] for x, y in r.coords] for r in (p.exterior, *p.interiors)]
        for p in (orient(q, 1.0) for q in getattr(shape, "geoms", [shape]))
    ]
    geometry: dict[str, Any] = (
        {"type": "Polygon", "coordinates": parts[0]}
        if len(parts) == 1
        else {"type": "MultiPolygon", "coordinates": parts}
    )
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "network": network.name,
            "from": [lat, lon],
            "seconds": seconds,
            "modes": sorted(m.value for m in modes) if modes else "all",
            "attribution": network.attribution,
        },
    }
