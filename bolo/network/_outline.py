"""Numba kernels of the network-following isochrone outline.

The reached arcs are drawn on a grid as dense samples, each carrying how far (metres) the
suspects could still go off the network from there in the time left; a two-pass chamfer sweep
then spreads that reach to the neighbouring cells. A cell is inside the area when some reached
point can still get to it: the outline follows the roads, wide where time is left, narrow at
the frontier, with holes where no road comes near enough.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bolo.network.graph import FloatArray, IntArray

_RAIL = 1  # ModeCode.RAIL: trains cannot be left between stations


@njit(cache=True, inline="always")
def _put(reach: np.ndarray, x: float, y: float, value: float) -> None:
    ix, iy = int(x), int(y)
    if 0 <= iy < reach.shape[0] and 0 <= ix < reach.shape[1] and value > reach[iy, ix]:
        reach[iy, ix] = value


@njit(cache=True, inline="always")
def _point(
    i: int,
    last: int,
    ux: float,
    uy: float,
    vx: float,
    vy: float,
    g0: int,
    geom_lat: FloatArray,
    geom_lon: FloatArray,
    frame: FloatArray,
) -> tuple[float, float]:
    """Point ``i`` of an arc's polyline in grid units: 0 the tail, ``last`` the head, the
    drawing points between."""
    if i == 0:
        return ux, uy
    if i == last:
        return vx, vy
    g = g0 + i - 1
    return (geom_lon[g] * frame[3] - frame[0]) / frame[2], (geom_lat[g] - frame[1]) / frame[2]


@njit(cache=True)
def _draw_arc(
    reach: np.ndarray,
    ux: float,
    uy: float,
    vx: float,
    vy: float,
    g0: int,
    g1: int,
    geom_lat: FloatArray,
    geom_lon: FloatArray,
    frame: FloatArray,
    t_start: float,
    seconds: float,
    length: float,
    stop: float,
    limit: float,
    offroad_mps: float,
    cap_m: float,
    floor_m: float,
) -> None:
    """Samples every half cell along the arc's polyline up to the fraction ``stop`` of its
    ``length`` (grid units); the point at fraction s is reached at t_start + s * seconds."""
    last = g1 - g0 + 1
    walked = 0.0
    px, py = ux, uy
    for i in range(1, last + 1):
        qx, qy = _point(i, last, ux, uy, vx, vy, g0, geom_lat, geom_lon, frame)
        seg = math.hypot(qx - px, qy - py)
        steps = int(seg * 2.0) + 1
        for j in range(1, steps + 1):
            s = min(1.0, (walked + seg * j / steps) / length) if length > 0.0 else 1.0
            if s > stop:
                return
            value = max(floor_m, min(cap_m, (limit - (t_start + s * seconds)) * offroad_mps))
            _put(reach, px + (qx - px) * j / steps, py + (qy - py) * j / steps, value)
        walked += seg
        px, py = qx, qy


@njit(cache=True)
def raster_reach_kernel(
    indptr: IntArray,
    indices: IntArray,
    seconds: FloatArray,
    metres: FloatArray,
    arc_mode: np.ndarray,
    node_lat: FloatArray,
    node_lon: FloatArray,
    geom_ptr: IntArray,
    geom_lat: FloatArray,
    geom_lon: FloatArray,
    times: FloatArray,
    limit: float,
    frame: FloatArray,
    offroad_mps: float,
    cap_m: float,
    floor_m: float,
    reach: np.ndarray,
) -> None:
    """Draw every reached arc (whole when both ends are reached, up to where travel stops
    otherwise) into ``reach`` (-inf where nothing is drawn): per cell the most metres the
    suspects could still cover off the network from a reached point in it, at least
    ``floor_m``, at most ``cap_m``; 0 off-network reach along rail arcs (only ``floor_m``).
    ``metres`` (the arcs' lengths) place the samples along each arc by distance."""
    x0, y0, cell, scale = frame[0], frame[1], frame[2], frame[3]
    cell_m = cell * 111_320.0
    has_geom = geom_ptr.shape[0] > 0
    n = indptr.shape[0] - 1
    for u in range(n):
        tu = times[u]
        if not tu <= limit:
            continue
        ux, uy = (node_lon[u] * scale - x0) / cell, (node_lat[u] - y0) / cell
        _put(reach, ux, uy, max(floor_m, min(cap_m, (limit - tu) * offroad_mps)))
        for k in range(indptr[u], indptr[u + 1]):
            sec = seconds[k]
            if not (sec >= 0.0 and sec < np.inf):
                continue
            v = indices[k]
            stop = 1.0 if times[v] <= limit or sec == 0.0 else min((limit - tu) / sec, 1.0)
            g0, g1 = (geom_ptr[k], geom_ptr[k + 1]) if has_geom else (0, 0)
            rate = 0.0 if arc_mode[k] == _RAIL else offroad_mps
            _draw_arc(
                reach,
                ux,
                uy,
                (node_lon[v] * scale - x0) / cell,
                (node_lat[v] - y0) / cell,
                g0,
                g1,
                geom_lat,
                geom_lon,
                frame,
                tu,
                sec,
                metres[k] / cell_m,
                stop,
                limit,
                rate,
                cap_m,
                floor_m,
            )


@njit(cache=True)
def _sweep_row(reach: np.ndarray, i: int, prev: int, cell_m: float, diag: float) -> None:
    """Row ``i`` from row ``prev`` (its neighbour already final in this sweep), then along
    the row both ways."""
    cols = reach.shape[1]
    for j in range(cols):
        best = max(reach[i, j], reach[prev, j] - cell_m) if prev >= 0 else reach[i, j]
        if prev >= 0 and j > 0:
            best = max(best, reach[prev, j - 1] - diag)
        if prev >= 0 and j + 1 < cols:
            best = max(best, reach[prev, j + 1] - diag)
        if j > 0:
            best = max(best, reach[i, j - 1] - cell_m)
        reach[i, j] = best
    for j in range(cols - 2, -1, -1):
        reach[i, j] = max(reach[i, j], reach[i, j + 1] - cell_m)


@njit(cache=True)
def spread_reach_kernel(reach: np.ndarray, cell_m: float) -> None:
    """In place: reach[c] = max over drawn points p of (reach[p] - chamfer distance(c, p)),
    in metres (steps of one cell and one diagonal): a sweep down the rows and one up, each
    row also swept both ways along itself."""
    rows = reach.shape[0]
    diag = cell_m * math.sqrt(2.0)
    for i in range(rows):
        _sweep_row(reach, i, i - 1, cell_m, diag)
    for i in range(rows - 2, -1, -1):
        _sweep_row(reach, i, i + 1, cell_m, diag)


@njit(cache=True)
def no_saddles(grid: np.ndarray) -> None:
    """In place: where two marked cells touch only at a corner, mark one of the other two
    cells of that 2x2 block, so every boundary vertex has one way on (rings never touch)."""
    rows, cols = grid.shape
    changed = True
    while changed:
        changed = False
        for i in range(rows - 1):
            for j in range(cols - 1):
                a, b = grid[i, j], grid[i, j + 1]
                c, d = grid[i + 1, j], grid[i + 1, j + 1]
                if a and d and not b and not c:
                    grid[i, j + 1] = True
                    changed = True
                elif b and c and not a and not d:
                    grid[i, j] = True
                    changed = True


@njit(cache=True)
def trace_rings(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boundary of the marked cells (no saddles: see no_saddles) as closed rings of cell
    corners (x = column, y = row), marked cells on the left: the outer ring counter-clockwise,
    holes clockwise; only corners where the boundary turns. Returns (points (k, 2), ring
    start offsets with a final end offset)."""
    rows, cols = grid.shape
    width = cols + 1
    nxt = np.full((rows + 1) * width, -1, dtype=np.int64)
    for i in range(rows):
        for j in range(cols):
            if not grid[i, j]:
                continue
            if i == 0 or not grid[i - 1, j]:
                nxt[i * width + j] = i * width + j + 1
            if j == cols - 1 or not grid[i, j + 1]:
                nxt[i * width + j + 1] = (i + 1) * width + j + 1
            if i == rows - 1 or not grid[i + 1, j]:
                nxt[(i + 1) * width + j + 1] = (i + 1) * width + j
            if j == 0 or not grid[i, j - 1]:
                nxt[(i + 1) * width + j] = i * width + j
    pts = np.empty((2 * nxt.shape[0], 2), dtype=np.float64)
    offsets = [0]
    count = 0
    for start in range(nxt.shape[0]):
        if nxt[start] < 0:
            continue
        # In this scan order a ring is first met at its lowest, leftmost corner.
        v = start
        first = count
        pts[count, 0] = start % width
        pts[count, 1] = start // width
        count += 1
        while nxt[v] >= 0:
            w = nxt[v]
            u = nxt[w]
            nxt[v] = -1
            # Keep w when the direction turns there.
            if u >= 0 and w != start and (w - v) != (u - w):
                pts[count, 0] = w % width
                pts[count, 1] = w // width
                count += 1
            v = w
        pts[count, 0] = pts[first, 0]
        pts[count, 1] = pts[first, 1]
        count += 1
        offsets.append(count)
    return pts[:count], np.asarray(offsets, dtype=np.int64)
