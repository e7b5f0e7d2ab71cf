"""Posts and exits of an OSM import: tagged places snapped to the graph, patrol candidates at
major junctions, and the places where a traveller can leave the region."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import distance, points

from bolo.network.build import haversine_m
from bolo.network.graph import Exit, FloatArray, IntArray, Mode, NetworkPost, PostKind
from bolo.network.osm.assemble import Combined, ImportOptions
from bolo.network.osm.read import RawOsm, Tagged, coord_key, to_fixed
from bolo.network.osm.snap import nearest_within

EXIT_KINDS = {
    PostKind.BORDER_CROSSING.value: "border_crossing",
    PostKind.FERRY_TERMINAL.value: "ferry_terminal",
    "airport": "airport",
}
_ROAD_SNAP = {PostKind.BORDER_CROSSING.value: 300.0, PostKind.CHECKPOINT.value: 300.0}


def _snap(c: Combined, nodes: IntArray, lat: float, lon: float, radius: float) -> int | None:
    net = c.network
    if nodes.size == 0:
        return None
    idx, ok = nearest_within(
        net.node_lat[nodes], net.node_lon[nodes], np.array([lat]), np.array([lon]), radius
    )
    return int(nodes[idx[0]]) if ok[0] else None


def tagged_places(
    c: Combined, raw: RawOsm, opts: ImportOptions
) -> tuple[list[NetworkPost], list[Exit], int]:
    """Posts and exits from tagged OSM objects; also how many were too far to snap."""
    posts: list[NetworkPost] = []
    exits: list[Exit] = []
    dropped = 0
    for t in raw.tagged:
        placed = _place(c, t, opts)
        if placed is None:
            dropped += 1
            continue
        node, mode = placed
        post_id = f"osm-{t.osm_id}"
        name = t.name or f"{t.kind.replace('_', ' ')} {t.osm_id}"
        if t.kind != "airport":
            posts.append(NetworkPost(post_id, PostKind(t.kind), name, t.lat, t.lon, mode, node))
        if t.kind in EXIT_KINDS:
            exits.append(Exit(post_id, EXIT_KINDS[t.kind], name, node))
    return posts, exits, dropped


def _place(c: Combined, t: Tagged, opts: ImportOptions) -> tuple[int, Mode] | None:
    if t.kind == PostKind.STATION.value:
        node = _snap(c, c.rail_nodes, t.lat, t.lon, opts.station_rail_metres)
        if node is not None:
            return node, Mode.RAIL
    radius = _ROAD_SNAP.get(t.kind, opts.snap_metres)
    if t.kind in ("airport", PostKind.FERRY_TERMINAL.value):
        radius = 3 * opts.snap_metres
    node = _snap(c, c.road_nodes, t.lat, t.lon, radius)
    return None if node is None else (node, Mode.ROAD)


def patrol_posts(c: Combined, raw: RawOsm, opts: ImportOptions) -> list[NetworkPost]:
    """Candidate patrol posts at junctions of major roads (>= 3 major neighbours), thinned on a
    square grid whose cell is grown until there is about one per ``patrol_spacing_metres`` of
    major road. Ids are ``patrol-n<OSM node id>``, stable across re-imports of the same data."""
    net = c.network
    tails = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    major = c.arc_major
    degree = undirected_degree(net.n_nodes, tails[major], net.indices[major])
    cand = np.flatnonzero(degree >= 3)
    length = float(np.sum(net.arc_metres[major] * c.arc_share[major]))
    target = max(1, round(length / opts.patrol_spacing_metres))
    if cand.size == 0:
        return []
    chosen = _thin(net.node_lat[cand], net.node_lon[cand], degree[cand], target)
    keys, refs = raw.major_ref_table()
    posts = []
    for node in cand[chosen]:
        lat, lon = float(net.node_lat[node]), float(net.node_lon[node])
        key = coord_key(to_fixed(np.array([lat])), to_fixed(np.array([lon])))[0]
        pos = int(np.searchsorted(keys, key))
        ident = f"n{refs[pos]}" if pos < keys.size and keys[pos] == key else f"{key}"
        posts.append(
            NetworkPost(
                f"patrol-{ident}",
                PostKind.PATROL,
                f"Patrol junction {ident}",
                lat,
                lon,
                Mode.ROAD,
                int(node),
            )
        )
    return posts


def _thin(lat: FloatArray, lon: FloatArray, priority: IntArray, target: int) -> IntArray:
    """Indices of at most ~target points, one per grid cell (highest priority wins)."""
    y = np.radians(lat) * 6_371_000.0
    x = np.radians(lon) * 6_371_000.0 * np.cos(np.radians(lat))
    if lat.size <= target:
        return np.arange(lat.size)
    lo, hi = 1.0, 200_000.0
    best = np.arange(lat.size)
    for _ in range(30):
        cell = (lo * hi) ** 0.5
        cx, cy = np.floor(x / cell).astype(np.int64), np.floor(y / cell).astype(np.int64)
        order = np.lexsort((-priority, cy, cx))
        key = cx[order] * 10_000_019 + cy[order]
        first = np.ones(order.size, dtype=np.bool_)
        first[1:] = key[1:] != key[:-1]
        picked = np.sort(order[first])
        if picked.size > target:
            lo = cell
        else:
            best, hi = picked, cell
        if hi / lo < 1.01:
            break
    return best


def cut_exits(c: Combined, raw: RawOsm) -> list[Exit]:
    """Exits where a road leaves the extract: roads with nodes missing from the file, and
    dead-ends of through roads within 1 km of the data's convex hull."""
    net = c.network
    exits: dict[int, Exit] = {}
    road = c.road_nodes
    if raw.cut_points and road.size:
        cp = np.array(raw.cut_points)
        idx, ok = nearest_within(net.node_lat[road], net.node_lon[road], cp[:, 0], cp[:, 1], 50.0)
        for node in road[idx[ok]]:
            exits[int(node)] = Exit(
                f"exit-cut-{node}", "road_cut", "road leaves the extract", int(node)
            )
    tails = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    cut = c.arc_cut_exit
    degree = undirected_degree(net.n_nodes, tails, net.indices)
    ends = np.unique(np.concatenate((tails[cut], net.indices[cut])))
    ends = ends[degree[ends] == 1]
    if ends.size and road.size >= 3:
        hull = shapely.convex_hull(
            shapely.multipoints(np.column_stack((net.node_lon[road], net.node_lat[road])))
        )
        pts = points(np.column_stack((net.node_lon[ends], net.node_lat[ends])))
        deg_dist = distance(pts, hull.boundary)
        near = deg_dist * 111_000.0 <= 1000.0
        for node in ends[near]:
            exits.setdefault(
                int(node),
                Exit(f"exit-cut-{node}", "road_cut", "road leaves the extract", int(node)),
            )
    return list(exits.values())


def undirected_degree(n: int, tails: IntArray, heads: IntArray) -> IntArray:
    """Number of distinct neighbours of each node, ignoring arc direction and self-loops."""
    lo, hi = np.minimum(tails, heads), np.maximum(tails, heads)
    keys = np.sort(lo[lo != hi] * n + hi[lo != hi])
    if keys.size:  # sort + diff: numpy's hash-based unique is slower on these sizes
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return np.bincount(np.concatenate((keys // n, keys % n)), minlength=n).astype(np.int64)


def dedupe_posts(posts: list[NetworkPost]) -> list[NetworkPost]:
    """Posts with unique ids (first wins) in a stable order."""
    seen: dict[str, NetworkPost] = {}
    for p in posts:
        seen.setdefault(p.post_id, p)
    return list(seen.values())


def metres_to_node(post: NetworkPost, lat: FloatArray, lon: FloatArray) -> float:
    """Distance in metres from a post's place to the node it is snapped to."""
    return float(haversine_m(post.lat, post.lon, lat[post.node], lon[post.node]))
