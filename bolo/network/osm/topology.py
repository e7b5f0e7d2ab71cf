"""From way point runs to graph arcs: split ways at shared points, keep the rest as geometry.

A point is a graph node when it ends a way, is shared by two ways (or twice by one), or is
pinned (a tagged place that must stay exactly on the graph). Every run between two graph nodes
along one way becomes one edge (one or two arcs) carrying its length, time and drawing points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bolo.network.build import haversine_m
from bolo.network.graph import FloatArray, IntArray
from bolo.network.osm.read import WaySet, coord_key, to_fixed

BoolArray = npt.NDArray[np.bool_]


@dataclass
class Arcs:
    """Directed arcs of one mode over local node ids, with geometry as point-index ranges."""

    node_lat: FloatArray
    node_lon: FloatArray
    node_key: IntArray
    tails: IntArray
    heads: IntArray
    metres: FloatArray
    seconds: FloatArray
    major: BoolArray
    cut_exit: BoolArray
    geom_first: IntArray  # first interior point (index into point arrays)
    geom_last: IntArray  # one past the last interior point
    geom_reversed: BoolArray
    share: FloatArray  # 1 for a one-way arc, 0.5 for each arc of a two-way edge
    point_lat: FloatArray
    point_lon: FloatArray


def _empty_arcs() -> Arcs:
    f, i, b = np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.bool_)
    return Arcs(f, f, i, i, i, f, f, b, b, i, i, b, f, f, f)


@dataclass
class _Runs:
    """Stretches of one way between consecutive graph-node points: points ``a`` to ``b``
    (indices into the point arrays), their way, length (m), time (s) and end nodes (local)."""

    a: IntArray
    b: IntArray
    way: IntArray
    metres: FloatArray
    seconds: FloatArray
    tail: IntArray
    head: IntArray

    def without_loops(self) -> _Runs:
        """The runs whose two ends are different nodes (zero-length or closed-loop runs carry
        no travel)."""
        keep = self.tail != self.head
        return _Runs(
            self.a[keep],
            self.b[keep],
            self.way[keep],
            self.metres[keep],
            self.seconds[keep],
            self.tail[keep],
            self.head[keep],
        )


def split_ways(ways: WaySet, pinned_keys: IntArray) -> Arcs:
    """Turn a WaySet into arcs between graph nodes (see module doc)."""
    if not ways.counts:
        return _empty_arcs()
    lat, lon = ways.coordinates()
    counts = np.array(ways.counts, dtype=np.int64)
    keys = coord_key(to_fixed(lat), to_fixed(lon))
    uniq, vertex, multiplicity = np.unique(keys, return_inverse=True, return_counts=True)
    gp = np.flatnonzero(_node_points(keys, vertex, multiplicity, counts, pinned_keys))
    node_vertices, local, pts = _local_nodes(vertex, uniq.size, gp)
    runs = _runs(ways, lat, lon, counts, gp, local[vertex]).without_loops()
    return _oriented_arcs(ways, runs, lat, lon, pts, uniq[node_vertices])


def _way_bounds(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Index of the first and of the last point of every way (ways given by point counts)."""
    starts = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts, starts + counts - 1


def _node_points(
    keys: IntArray,
    vertex: IntArray,
    multiplicity: IntArray,
    counts: IntArray,
    pinned_keys: IntArray,
) -> BoolArray:
    """Whether each point is a graph node: it ends a way, its location is shared (by two ways
    or twice by one) or pinned. A closed way (a loop street, a roundabout) also gets a node
    halfway round, so the loop is kept even when it touches the rest at one point only."""
    starts, ends = _way_bounds(counts)
    is_node = multiplicity[vertex] >= 2
    is_node[starts] = True
    is_node[ends] = True
    closed = (keys[starts] == keys[ends]) & (counts >= 3)
    is_node[starts[closed] + counts[closed] // 2] = True
    if pinned_keys.size:
        is_node |= np.isin(keys, pinned_keys)
    return is_node


def _local_nodes(
    vertex: IntArray, n_vertices: int, gp: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Local node ids, given the graph-node points ``gp``: the node vertices in id order, the
    local id of every vertex (-1 when not a node) and the first point at each node."""
    node_vertices = np.unique(vertex[gp])
    local = np.full(n_vertices, -1, dtype=np.int64)
    local[node_vertices] = np.arange(node_vertices.size)
    first_point = np.zeros(n_vertices, dtype=np.int64)
    # Reversed so the lowest point index is written last and wins.
    first_point[vertex[::-1]] = np.arange(vertex.size)[::-1]
    return node_vertices, local, first_point[node_vertices]


def _runs(
    ways: WaySet,
    lat: FloatArray,
    lon: FloatArray,
    counts: IntArray,
    gp: IntArray,
    point_node: IntArray,
) -> _Runs:
    """The runs between consecutive graph-node points ``gp`` of the same way, with their
    great-circle length (m) and time at the way's speed (s); ``point_node`` is the local node
    of every point."""
    step = np.zeros(lat.size)
    step[:-1] = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    step[_way_bounds(counts)[1]] = 0.0  # no step from the end of one way to the next's start
    way_of = np.repeat(np.arange(counts.size), counts)
    speed = np.asarray(ways.speed_mps)[way_of]
    a, b = gp[:-1], gp[1:]
    same_way = way_of[a] == way_of[b]
    a, b = a[same_way], b[same_way]
    metres = np.add.reduceat(step, gp)[:-1][same_way]
    seconds = np.add.reduceat(step / speed, gp)[:-1][same_way]
    return _Runs(a, b, way_of[a], metres, seconds, point_node[a], point_node[b])


def _oriented_arcs(
    ways: WaySet,
    runs: _Runs,
    lat: FloatArray,
    lon: FloatArray,
    node_points: IntArray,
    node_keys: IntArray,
) -> Arcs:
    """The Arcs of ``runs``: one arc per run along a one-way way (backwards for oneway -1),
    two for a two-way way, forward arcs first; nodes drawn at ``node_points``."""
    oneway = np.asarray(ways.oneway, dtype=np.int64)[runs.way]
    fwd, bwd = oneway >= 0, oneway <= 0
    share = np.where(oneway == 0, 0.5, 1.0)
    major = np.asarray(ways.major)[runs.way]
    cut_exit = np.asarray(ways.cut_exit)[runs.way]
    a, b, u, v = runs.a, runs.b, runs.tail, runs.head
    cat = np.concatenate
    return Arcs(
        node_lat=lat[node_points],
        node_lon=lon[node_points],
        node_key=node_keys,
        tails=cat((u[fwd], v[bwd])),
        heads=cat((v[fwd], u[bwd])),
        metres=cat((runs.metres[fwd], runs.metres[bwd])),
        seconds=cat((runs.seconds[fwd], runs.seconds[bwd])),
        major=cat((major[fwd], major[bwd])),
        cut_exit=cat((cut_exit[fwd], cut_exit[bwd])),
        geom_first=cat((a[fwd] + 1, a[bwd] + 1)),
        geom_last=cat((b[fwd], b[bwd])),
        geom_reversed=cat((np.zeros(fwd.sum(), np.bool_), np.ones(bwd.sum(), np.bool_))),
        share=cat((share[fwd], share[bwd])),
        point_lat=lat,
        point_lon=lon,
    )


def geometry_arrays(
    first: IntArray, last: IntArray, reverse: BoolArray, lat: FloatArray, lon: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """CSR drawing geometry (geom_ptr, lat, lon) of arcs given as point-index ranges."""
    lengths = np.maximum(last - first, 0)
    ptr = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    offset = np.arange(ptr[-1]) - np.repeat(ptr[:-1], lengths)
    base = np.repeat(first, lengths)
    rev = np.repeat(reverse, lengths)
    idx = np.where(rev, np.repeat(last - 1, lengths) - offset, base + offset)
    return ptr, lat[idx], lon[idx]
