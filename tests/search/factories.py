"""Synthetic networks for the search tests: a road grid with posts and exits."""

from __future__ import annotations

import numpy as np

from bolo.network.graph import Exit, Mode, Network, NetworkPost, PostKind


def grid_network(n: int = 15, spacing_deg: float = 0.01, seconds: float = 60.0) -> Network:
    """An n x n two-way road grid near (40 N, 10 E): arcs ~1.1 km, ``seconds`` each.

    Posts sit on every other node of rows/columns 2, 7, 12 (and on each exit); exits are the
    middles of the four sides.
    """
    lat = np.repeat(40.0 + spacing_deg * np.arange(n), n)
    lon = np.tile(10.0 + spacing_deg * np.arange(n), n)
    tails, heads = [], []
    for r in range(n):
        for c in range(n):
            i = r * n + c
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < n and 0 <= cc < n:
                    tails.append(i)
                    heads.append(rr * n + cc)
    t = np.asarray(tails, dtype=np.int64)
    h = np.asarray(heads, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    t, h = t[order], h[order]
    indptr = np.zeros(n * n + 1, dtype=np.int64)
    np.cumsum(np.bincount(t, minlength=n * n), out=indptr[1:])
    m = h.shape[0]
    mid = n // 2
    exit_nodes = {
        "north": (n - 1) * n + mid,
        "south": mid,
        "west": mid * n,
        "east": mid * n + n - 1,
    }
    posts = []
    for r in (2, n // 2, n - 3):
        for c in range(0, n, 2):
            for rr, cc in ((r, c), (c, r)):
                node = rr * n + cc
                pid = f"p{rr}_{cc}"
                if all(p.post_id != pid for p in posts):
                    posts.append(
                        NetworkPost(
                            pid,
                            PostKind.CHECKPOINT,
                            pid,
                            float(lat[node]),
                            float(lon[node]),
                            Mode.ROAD,
                            node,
                        )
                    )
    exits = []
    for name, node in exit_nodes.items():
        exits.append(Exit(name, "border", name, node))
        posts.append(
            NetworkPost(
                f"x_{name}",
                PostKind.BORDER_CROSSING,
                name,
                float(lat[node]),
                float(lon[node]),
                Mode.ROAD,
                node,
            )
        )
    return Network(
        name="grid",
        node_lat=lat,
        node_lon=lon,
        indptr=indptr,
        indices=h,
        arc_seconds=np.full(m, seconds),
        arc_metres=np.full(m, 1100.0),
        arc_mode=np.zeros(m, dtype=np.uint8),
        posts=posts,
        exits=exits,
    )


def fork_network(arm: int = 20, seconds: float = 60.0) -> Network:
    """A Y: a stem of ``arm`` nodes going north from node 0, then a west and an east branch of
    ``arm`` nodes each, ending at exits "west" and "east". Posts "p_west" and "p_east" sit a
    few nodes into each branch, "p_stem" on the stem."""
    lat, lon = [], []
    for i in range(arm):
        lat.append(40.0 + 0.01 * i)
        lon.append(10.0)
    fork = arm - 1
    west = list(range(arm, 2 * arm))
    east = list(range(2 * arm, 3 * arm))
    for i in range(arm):
        lat.append(40.0 + 0.01 * fork + 0.007 * (i + 1))
        lon.append(10.0 - 0.007 * (i + 1))
    for i in range(arm):
        lat.append(40.0 + 0.01 * fork + 0.007 * (i + 1))
        lon.append(10.0 + 0.007 * (i + 1))
    edges = [(i, i + 1) for i in range(arm - 1)]
    for branch in (west, east):
        edges.append((fork, branch[0]))
        edges += [(branch[i], branch[i + 1]) for i in range(arm - 1)]
    tails = np.asarray([a for a, b in edges] + [b for a, b in edges], dtype=np.int64)
    heads = np.asarray([b for a, b in edges] + [a for a, b in edges], dtype=np.int64)
    order = np.argsort(tails, kind="stable")
    tails, heads = tails[order], heads[order]
    n = 3 * arm
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=indptr[1:])
    m = heads.shape[0]
    la, lo = np.asarray(lat), np.asarray(lon)

    def post(pid: str, node: int) -> NetworkPost:
        return NetworkPost(
            pid, PostKind.CHECKPOINT, pid, float(la[node]), float(lo[node]), Mode.ROAD, node
        )

    posts = [post("p_stem", arm // 2), post("p_west", west[3]), post("p_east", east[3])]
    exits = [Exit("west", "border", "west", west[-1]), Exit("east", "border", "east", east[-1])]
    return Network(
        name="fork",
        node_lat=la,
        node_lon=lo,
        indptr=indptr,
        indices=heads,
        arc_seconds=np.full(m, seconds),
        arc_metres=np.full(m, 1000.0),
        arc_mode=np.zeros(m, dtype=np.uint8),
        posts=posts,
        exits=exits,
    )
