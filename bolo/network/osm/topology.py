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


def split_ways(ways: WaySet, pinned_keys: IntArray) -> Arcs:
    """Turn a WaySet into arcs between graph nodes (see module doc)."""
    if not ways.counts:
        return _empty_arcs()
    lat, lon = ways.coordinates()
    counts = np.array(ways.counts, dtype=np.int64)
    keys = coord_key(to_fixed(lat), to_fixed(lon))
    uniq, vertex, multiplicity = np.unique(keys, return_inverse=True, return_counts=True)
    starts = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    ends = starts + counts - 1
    is_node = multiplicity[vertex] >= 2
    is_node[starts] = True
    is_node[ends] = True
    if pinned_keys.size:
        is_node |= np.isin(keys, pinned_keys)
    step = np.zeros(lat.size)
    step[:-1] = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    step[ends] = 0.0  # no step from the end of one way to the start of the next
    way_of = np.repeat(np.arange(counts.size), counts)
    speed = np.asarray(ways.speed_mps)[way_of]
    gp = np.flatnonzero(is_node)
    a, b = gp[:-1], gp[1:]
    same_way = way_of[a] == way_of[b]
    a, b = a[same_way], b[same_way]
    metres = np.add.reduceat(step, gp)[:-1][same_way]
    seconds = np.add.reduceat(step / speed, gp)[:-1][same_way]
    # Local node ids: graph-node vertices only.
    node_vertices = np.unique(vertex[gp])
    local = np.full(uniq.size, -1, dtype=np.int64)
    local[node_vertices] = np.arange(node_vertices.size)
    first_point = np.zeros(uniq.size, dtype=np.int64)
    first_point[vertex[::-1]] = np.arange(lat.size)[::-1]
    pts = first_point[node_vertices]
    w = way_of[a]
    oneway = np.asarray(ways.oneway, dtype=np.int64)[w]
    u, v = local[vertex[a]], local[vertex[b]]
    keep = u != v  # zero-length or closed-loop runs carry no travel
    a, b, w, u, v, metres, seconds, oneway = (
        x[keep] for x in (a, b, w, u, v, metres, seconds, oneway))
    fwd, bwd = oneway >= 0, oneway <= 0
    share = np.where(oneway == 0, 0.5, 1.0)
    cat = np.concatenate
    return Arcs(
        node_lat=lat[pts], node_lon=lon[pts], node_key=uniq[node_vertices],
        tails=cat((u[fwd], v[bwd])), heads=cat((v[fwd], u[bwd])),
        metres=cat((metres[fwd], metres[bwd])), seconds=cat((seconds[fwd], seconds[bwd])),
        major=cat((np.asarray(ways.major)[w][fwd], np.asarray(ways.major)[w][bwd])),
        cut_exit=cat((np.asarray(ways.cut_exit)[w][fwd], np.asarray(ways.cut_exit)[w][bwd])),
        geom_first=cat((a[fwd] + 1, a[bwd] + 1)), geom_last=cat((b[fwd], b[bwd])),
        geom_reversed=cat((np.zeros(fwd.sum(), np.bool_), np.ones(bwd.sum(), np.bool_))),
        share=cat((share[fwd], share[bwd])), point_lat=lat, point_lon=lon,
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
