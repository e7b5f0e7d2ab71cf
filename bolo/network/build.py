"""Assemble the CSR arrays of a Network from flat arc lists."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from bolo.network.graph import ByteArray, FloatArray, IntArray, Network

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between WGS84 points (degrees), element-wise."""
    p1, l1, p2, l2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0))), dtype=np.float64)


def csr_order(n_nodes: int, tails: IntArray) -> tuple[IntArray, IntArray]:
    """Return (indptr, order): ``order`` sorts arcs by tail (stable), ``indptr`` the row starts."""
    order = np.argsort(tails, kind="stable").astype(np.int64)
    counts = np.bincount(tails, minlength=n_nodes)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, order


def build_csr(
    n_nodes: int,
    tails: IntArray,
    heads: IntArray,
    seconds: FloatArray,
    metres: FloatArray,
    modes: ByteArray,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, ByteArray, IntArray]:
    """Sort arcs into CSR form: (indptr, indices, seconds, metres, modes, order).

    ``order[k]`` is the input position of CSR arc ``k`` (to carry other per-arc data along).
    """
    tails = np.asarray(tails, dtype=np.int64)
    indptr, order = csr_order(n_nodes, tails)
    return (
        indptr,
        np.asarray(heads, dtype=np.int64)[order],
        np.asarray(seconds, dtype=np.float64)[order],
        np.asarray(metres, dtype=np.float64)[order],
        np.asarray(modes, dtype=np.uint8)[order],
        order,
    )


def morton_order(lat: FloatArray, lon: FloatArray) -> IntArray:
    """A permutation putting nearby nodes next to each other (Z-order curve), for cache locality
    in the Dijkstra loop."""
    if lat.size == 0:
        return np.empty(0, dtype=np.int64)

    def spread(v: IntArray) -> IntArray:
        v = v & 0xFFFF
        v = (v | (v << 8)) & 0x00FF00FF
        v = (v | (v << 4)) & 0x0F0F0F0F
        v = (v | (v << 2)) & 0x33333333
        return (v | (v << 1)) & 0x55555555

    def quant(x: FloatArray) -> IntArray:
        span = max(float(x.max() - x.min()), 1e-9)
        q: IntArray = ((x - x.min()) / span * 65535).astype(np.int64)
        return q

    code = spread(quant(lat)) | (spread(quant(lon)) << 1)
    order: IntArray = np.argsort(code, kind="stable").astype(np.int64)
    return order


def permute_nodes(network: Network, order: IntArray) -> Network:
    """The same network with node ``order[i]`` renumbered ``i`` (posts, exits and names
    follow). Drawing geometry is dropped; use on networks built without it."""
    new_id = np.empty_like(order)
    new_id[order] = np.arange(order.size)
    tails = np.repeat(np.arange(network.n_nodes), np.diff(network.indptr))
    indptr, indices, sec, met, mode, _ = build_csr(
        network.n_nodes,
        new_id[tails],
        new_id[network.indices],
        network.arc_seconds,
        network.arc_metres,
        network.arc_mode,
    )
    return Network(
        name=network.name,
        node_lat=network.node_lat[order],
        node_lon=network.node_lon[order],
        indptr=indptr,
        indices=indices,
        arc_seconds=sec,
        arc_metres=met,
        arc_mode=mode,
        node_names={int(new_id[k]): v for k, v in network.node_names.items()},
        posts=[replace(p, node=int(new_id[p.node])) for p in network.posts],
        exits=[replace(e, node=int(new_id[e.node])) for e in network.exits],
        attribution=network.attribution,
        source_sha256=network.source_sha256,
    )
