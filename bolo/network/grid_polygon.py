"""Cells of a grid marked as reached, made into one valid polygon (lon, lat; WGS84 degrees)
with at most MAX_VERTICES exterior points: the outline with its holes
(``outline_from_grid``) or the filled cover (``polygon_from_grid``). A grid's ``frame`` is
(x0, y0, cell, scale): cell (ix, iy) spans x0 + ix * cell (longitude * scale, scale the
cosine of the latitude so cells are square on the ground) and y0 + iy * cell (latitude)."""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from bolo.network._outline import no_saddles, trace_rings

MAX_VERTICES = 100
MIN_HOLE_CELLS = 6.0  # smaller holes are raster noise, not places nothing reaches


def outline_from_grid(grid: np.ndarray, frame: tuple[float, float, float, float]) -> Polygon:
    """One polygon (lon, lat) of the marked cells, holes kept (those of at least
    MIN_HOLE_CELLS cells), exterior simplified to <= MAX_VERTICES points, counter-clockwise.
    Parts that touch no other (a station reached by a train) are joined by closing; cells
    touching only at a corner are joined by one more cell (so the rings never touch)."""
    x0, y0, cell, scale = frame
    grid = grid.copy()
    _, count = ndimage.label(grid)
    if count > 1:
        grid = _joined(grid)
    no_saddles(grid)
    pts, offsets = trace_rings(grid)
    rings = [
        pts[offsets[k] : offsets[k + 1]] * cell + np.array([x0, y0])
        for k in range(offsets.shape[0] - 1)
    ]
    outer = [r for r in rings if shapely.LinearRing(r).is_ccw]
    if len(outer) != 1:
        return polygon_from_grid(grid, frame)  # not one part after all: fill it in
    holes = [
        r
        for r in rings
        if not shapely.LinearRing(r).is_ccw and Polygon(r).area >= MIN_HOLE_CELLS * cell * cell
    ]
    out = simplify_polygon(Polygon(outer[0], holes), cell)
    rescale = np.array([1.0 / scale, 1.0])
    return orient(
        Polygon(
            np.asarray(out.exterior.coords) * rescale,
            [np.asarray(h.coords) * rescale for h in out.interiors],
        ),
        1.0,
    )


def _joined(grid: np.ndarray) -> np.ndarray:
    """The grid with its parts joined by the smallest closing that makes it one part."""
    structure = np.ones((3, 3), dtype=np.bool_)
    for iterations in (1, 3, 8, 20):
        closed = ndimage.binary_closing(grid, structure, iterations=iterations, border_value=0)
        closed |= grid
        _, count = ndimage.label(closed)
        if count <= 1:
            return np.asarray(closed, dtype=np.bool_)
    return _one_blob(grid)


def polygon_from_grid(grid: np.ndarray, frame: tuple[float, float, float, float]) -> Polygon:
    """One simple polygon (lon, lat) covering the marked cells (see module doc)."""
    x0, y0, cell, scale = frame
    grid = _one_blob(grid)
    rows, starts, ends = _runs(grid)
    boxes = shapely.box(
        x0 + starts * cell, y0 + rows * cell, x0 + ends * cell, y0 + (rows + 1) * cell
    )
    shape = shapely.union_all(boxes)
    if not isinstance(shape, Polygon):
        shape = shape.convex_hull
    shape = simplify_polygon(Polygon(shape.exterior), cell)
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
    yy, xx = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    inside = shapely.contains_xy(shapely.buffer(hull, 1.0), xx + 0.5, yy + 0.5)
    return np.asarray(inside | grid, dtype=np.bool_)


def _runs(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    padded = np.zeros((grid.shape[0], grid.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    diff = np.diff(padded, axis=1)
    r1, c1 = np.nonzero(diff == 1)
    _, c2 = np.nonzero(diff == -1)
    return r1, c1, c2


def simplify_polygon(shape: Polygon, cell: float) -> Polygon:
    """``shape`` with at most MAX_VERTICES exterior points, valid; holes simplified alike (and
    kept). ``cell``: the grid's cell size (degrees), the first tolerance tried is 3/4 of it."""
    exact = shapely.simplify(shape, 0.0)  # drops collinear staircase points only
    if isinstance(exact, Polygon) and len(exact.exterior.coords) <= MAX_VERTICES:
        return exact
    tolerance = cell * 0.75
    # The plain Douglas-Peucker of the exterior alone is ~20x cheaper than the topology-
    # preserving one: it finds the tolerance, the topology-preserving pass then checks it.
    line = shapely.LineString(shape.exterior.coords)
    while len(shapely.simplify(line, tolerance, preserve_topology=False).coords) > (
        MAX_VERTICES - 4
    ):
        tolerance *= 1.2
    out = shape
    for _ in range(40):
        out = shapely.simplify(shape, tolerance, preserve_topology=True)
        if isinstance(out, Polygon) and out.is_valid and len(out.exterior.coords) <= MAX_VERTICES:
            return out
        tolerance *= 1.5
    hull = shape.convex_hull
    return Polygon(shapely.simplify(hull, tolerance).exterior)
