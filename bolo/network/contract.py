"""Contract chains of degree-2 nodes into single arcs, keeping their drawing geometry.

A node is contracted when it is nobody's post or exit, has exactly two distinct neighbours,
all its arcs share one mode, and it is either a two-way pass-through (one arc to and one from
each neighbour) or a one-way pass-through (one arc in from one neighbour, one out to the
other). A merged arc's time is the sum of its parts, so earliest arrivals at kept nodes do
not change (up to float rounding, ~1e-12 s on Porto, since the chain is summed first).
A ring made only of such nodes (an isolated loop) keeps one node, so no arc is dropped.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
from numba import njit

from bolo.network.build import build_csr
from bolo.network.graph import FloatArray, IntArray, Network

BoolArray = npt.NDArray[np.bool_]


@njit(cache=True)
def _contractible(
    indptr: IntArray,
    indices: IntArray,
    mode: npt.NDArray[np.uint8],
    r_ptr: IntArray,
    r_src: IntArray,
    r_arc: IntArray,
    protected: BoolArray,
) -> BoolArray:
    n = indptr.shape[0] - 1
    out = np.zeros(n, dtype=np.bool_)
    for v in range(n):
        if protected[v]:
            continue
        n_out = indptr[v + 1] - indptr[v]
        n_in = r_ptr[v + 1] - r_ptr[v]
        if not ((n_out == 2 and n_in == 2) or (n_out == 1 and n_in == 1)):
            continue
        m = mode[indptr[v]]
        ok = True
        for k in range(indptr[v], indptr[v + 1]):
            if indices[k] == v or mode[k] != m:
                ok = False
        for j in range(r_ptr[v], r_ptr[v + 1]):
            if r_src[j] == v or mode[r_arc[j]] != m:
                ok = False
        if not ok:
            continue
        if n_out == 1:
            out[v] = indices[indptr[v]] != r_src[r_ptr[v]]
            continue
        a, b = indices[indptr[v]], indices[indptr[v] + 1]
        c, d = r_src[r_ptr[v]], r_src[r_ptr[v] + 1]
        out[v] = a != b and ((a == c and b == d) or (a == d and b == c))
    return out


@njit(cache=True)
def _next_arc(indptr: IntArray, indices: IntArray, v: int, prev: int) -> int:
    """The arc leaving contracted node ``v`` that does not lead back to ``prev`` (a one-way
    pass-through has one arc; a two-way one has one back to each neighbour)."""
    nk = int(indptr[v])
    if indices[nk] == prev and indptr[v + 1] - indptr[v] == 2:
        nk += 1
    return nk


@njit(cache=True)
def _copy_points(
    src_lat: FloatArray,
    src_lon: FloatArray,
    lo: int,
    hi: int,
    g_lat: FloatArray,
    g_lon: FloatArray,
    g: int,
) -> int:
    """Copy drawing points ``lo:hi`` to ``g_lat``/``g_lon`` from ``g``; returns the new end."""
    for q in range(lo, hi):
        g_lat[g] = src_lat[q]
        g_lon[g] = src_lon[q]
        g += 1
    return g


@njit(cache=True)
def _walk_chain(
    indptr: IntArray,
    indices: IntArray,
    seconds: FloatArray,
    metres: FloatArray,
    geom_ptr: IntArray,
    geom_lat: FloatArray,
    geom_lon: FloatArray,
    node_lat: FloatArray,
    node_lon: FloatArray,
    contract: BoolArray,
    u: int,
    k0: int,
    g_lat: FloatArray,
    g_lon: FloatArray,
    g: int,
) -> tuple[int, float, float, int]:
    """Follow arc ``k0`` out of kept node ``u`` through contracted nodes to the next kept
    node, appending the drawing (arc geometry and the contracted nodes) to ``g_lat``/``g_lon``
    from ``g``. Returns the last arc, the summed seconds and metres, and the drawing's end.
    Stops after n steps, so a ring of contracted nodes cannot loop forever."""
    n = indptr.shape[0] - 1
    prev = u
    k = k0
    s = 0.0
    d = 0.0
    steps = 0
    while True:
        s += seconds[k]
        d += metres[k]
        g = _copy_points(geom_lat, geom_lon, geom_ptr[k], geom_ptr[k + 1], g_lat, g_lon, g)
        v = indices[k]
        steps += 1
        if not contract[v] or steps > n:
            break
        g = _copy_points(node_lat, node_lon, v, v + 1, g_lat, g_lon, g)  # v is drawn only
        k = _next_arc(indptr, indices, v, prev)
        prev = v
    return k, s, d, g


@njit(cache=True)
def _walk(
    indptr: IntArray,
    indices: IntArray,
    seconds: FloatArray,
    metres: FloatArray,
    geom_ptr: IntArray,
    geom_lat: FloatArray,
    geom_lon: FloatArray,
    node_lat: FloatArray,
    node_lon: FloatArray,
    contract: BoolArray,
) -> tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray, IntArray, FloatArray, FloatArray]:
    """The merged arcs: one per arc leaving a kept node, followed to the next kept node.
    Returns (tails, heads, first original arc, seconds, metres, geom_ptr, geom_lat,
    geom_lon), all over the old node ids."""
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    tails = np.empty(m, dtype=np.int64)
    heads = np.empty(m, dtype=np.int64)
    first_arc = np.empty(m, dtype=np.int64)
    secs = np.empty(m)
    mets = np.empty(m)
    g_ptr = np.zeros(m + 1, dtype=np.int64)
    cap = geom_lat.shape[0] + n + 16
    g_lat = np.empty(cap)
    g_lon = np.empty(cap)
    out = 0
    g = 0
    for u in range(n):
        if contract[u]:
            continue
        for k0 in range(indptr[u], indptr[u + 1]):
            k, s, d, g = _walk_chain(
                indptr,
                indices,
                seconds,
                metres,
                geom_ptr,
                geom_lat,
                geom_lon,
                node_lat,
                node_lon,
                contract,
                u,
                k0,
                g_lat,
                g_lon,
                g,
            )
            tails[out] = u
            heads[out] = indices[k]
            first_arc[out] = k0
            secs[out] = s
            mets[out] = d
            out += 1
            g_ptr[out] = g
    return (
        tails[:out],
        heads[:out],
        first_arc[:out],
        secs[:out],
        mets[:out],
        g_ptr[: out + 1],
        g_lat[:g],
        g_lon[:g],
    )


@njit(cache=True)
def _follow(
    indptr: IntArray, indices: IntArray, contract: BoolArray, seen: BoolArray, u: int
) -> None:
    """Mark every contracted node on the chains leaving ``u`` as seen."""
    for k0 in range(indptr[u], indptr[u + 1]):
        prev = u
        v = indices[k0]
        while contract[v] and not seen[v]:
            seen[v] = True
            nk = _next_arc(indptr, indices, v, prev)
            prev = v
            v = indices[nk]


@njit(cache=True)
def _break_rings(indptr: IntArray, indices: IntArray, contract: BoolArray) -> None:
    """Keep one node of every ring made only of contractible nodes (an isolated loop road),
    which no walk from a kept node would reach, so its arcs and drawing are not lost."""
    n = indptr.shape[0] - 1
    seen = np.zeros(n, dtype=np.bool_)
    for u in range(n):
        if not contract[u]:
            _follow(indptr, indices, contract, seen, u)
    for v in range(n):
        if contract[v] and not seen[v]:
            contract[v] = False
            _follow(indptr, indices, contract, seen, v)


def contract_chains(network: Network, *, keep_nodes: IntArray | None = None) -> Network:
    """The network with its degree-2 chains contracted (see module doc). Posts' and exits'
    nodes, and ``keep_nodes``, are never contracted; node ids are renumbered in order."""
    n = network.n_nodes
    protected = np.zeros(n, dtype=np.bool_)
    protected[[p.node for p in network.posts]] = True
    protected[[e.node for e in network.exits]] = True
    if keep_nodes is not None:
        protected[keep_nodes] = True
    tails = np.repeat(np.arange(n), np.diff(network.indptr))
    order = np.argsort(network.indices, kind="stable")
    r_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(network.indices, minlength=n), out=r_ptr[1:])
    contract = _contractible(
        network.indptr,
        network.indices,
        network.arc_mode,
        r_ptr,
        tails[order],
        order.astype(np.int64),
        protected,
    )
    if not contract.any():
        return network
    _break_rings(network.indptr, network.indices, contract)
    geom_ptr = (
        network.geom_ptr
        if network.geom_ptr is not None
        else np.zeros(network.n_arcs + 1, dtype=np.int64)
    )
    geom_lat = network.geom_lat if network.geom_lat is not None else np.empty(0)
    geom_lon = network.geom_lon if network.geom_lon is not None else np.empty(0)
    t, h, first, secs, mets, g_ptr, g_lat, g_lon = _walk(
        network.indptr,
        network.indices,
        network.arc_seconds,
        network.arc_metres,
        geom_ptr,
        geom_lat,
        geom_lon,
        network.node_lat,
        network.node_lon,
        contract,
    )
    keep = ~contract
    new_id = np.cumsum(keep) - 1
    indptr, indices, sec, met, mode, arc_order = build_csr(
        int(keep.sum()), new_id[t], new_id[h], secs, mets, network.arc_mode[first]
    )
    counts = np.diff(g_ptr)[arc_order]
    ptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    idx = np.repeat(g_ptr[:-1][arc_order] - ptr[:-1], counts) + np.arange(ptr[-1])
    return Network(
        name=network.name,
        node_lat=network.node_lat[keep],
        node_lon=network.node_lon[keep],
        indptr=indptr,
        indices=indices,
        arc_seconds=sec,
        arc_metres=met,
        arc_mode=mode,
        node_names={int(new_id[k]): v for k, v in network.node_names.items()},
        posts=[replace(p, node=int(new_id[p.node])) for p in network.posts],
        exits=[replace(e, node=int(new_id[e.node])) for e in network.exits],
        attribution=network.attribution,
        geom_ptr=ptr,
        geom_lat=g_lat[idx],
        geom_lon=g_lon[idx],
        source_sha256=network.source_sha256,
    )
