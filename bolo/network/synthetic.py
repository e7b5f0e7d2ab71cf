"""A synthetic road-like network of any size, for benchmarks and load tests.

A jittered square grid (about 110 m between neighbours) with some streets missing, every
``primary_every``-th row and column a primary road (80 km/h), every ``motorway_every``-th a
motorway (120 km/h), the rest residential (40 km/h). Patrol posts at primary crossings.
"""

from __future__ import annotations

import numpy as np

from bolo.network.build import build_csr, haversine_m, morton_order, permute_nodes
from bolo.network.graph import Mode, ModeCode, Network, NetworkPost, PostKind


def synthetic_road_network(
    side: int,
    *,
    seed: int = 0,
    keep: float = 0.85,
    primary_every: int = 20,
    motorway_every: int = 100,
) -> Network:
    """A side x side grid network (side**2 nodes, about 3.4 * side**2 arcs), reproducible."""
    rng = np.random.default_rng(seed)
    n = side * side
    r, c = np.divmod(np.arange(n, dtype=np.int64), side)
    lat = 40.0 + r * 0.001 + rng.uniform(-0.0003, 0.0003, n)
    lon = -3.0 + c * 0.0013 + rng.uniform(-0.0004, 0.0004, n)

    def speed(line: np.ndarray) -> np.ndarray:
        kmh = np.where(
            line % motorway_every == 0, 120.0, np.where(line % primary_every == 0, 80.0, 40.0)
        )
        return kmh / 3.6

    horiz = np.flatnonzero(c < side - 1)
    vert = np.flatnonzero(r < side - 1)
    tails = np.concatenate((horiz, vert))
    heads = np.concatenate((horiz + 1, vert + side))
    mps = np.concatenate((speed(r[horiz]), speed(c[vert])))
    major = mps > 40 / 3.6
    keep_edge = major | (rng.random(tails.size) < keep)
    tails, heads, mps = tails[keep_edge], heads[keep_edge], mps[keep_edge]
    metres = haversine_m(lat[tails], lon[tails], lat[heads], lon[heads])
    indptr, indices, sec, met, mode, _ = build_csr(
        n,
        np.concatenate((tails, heads)),
        np.concatenate((heads, tails)),
        np.tile(metres / mps, 2),
        np.tile(metres, 2),
        np.full(2 * tails.size, ModeCode.ROAD, dtype=np.uint8),
    )
    junction = np.flatnonzero((r % primary_every == 0) & (c % primary_every == 0))
    posts = [
        NetworkPost(
            f"patrol-{j}",
            PostKind.PATROL,
            f"junction {j}",
            float(lat[j]),
            float(lon[j]),
            Mode.ROAD,
            int(j),
        )
        for j in junction
    ]
    grid = Network(
        name=f"synthetic{side}",
        node_lat=lat,
        node_lon=lon,
        indptr=indptr,
        indices=indices,
        arc_seconds=sec,
        arc_metres=met,
        arc_mode=mode,
        posts=posts,
    )
    # Z-order the nodes like the OSM import does: the bench then measures the same layout.
    return permute_nodes(grid, morton_order(lat, lon))
