"""One-way roads in dead-end branches: a driver turns round there.

OSM has one-way streets that end in a dead end (one-way lanes into a yard, tagging slips, ways
whose continuation another mapper deleted). Driven as tagged they are traps: a traveller who
starts there can reach nothing, one who drives in never comes out, and the search picture of a
last-known place snapped there has nowhere to go. On the roads off the network's loops (the
branches that end in a dead end) a car can always turn round, so each one-way minor road arc
there gets its way back. Major roads keep their direction: their dead ends are carriageways cut
by the extract's edge, and nobody drives a motorway the wrong way to the next junction.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numba import njit

from bolo.network.graph import IntArray
from bolo.network.osm.topology import Arcs, BoolArray


@njit(cache=True)
def _peel(n: int, ptr: np.ndarray, nbr: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    """Nodes off the undirected graph's 2-core: those removed by peeling nodes of degree <= 1
    again and again (the dead-end branches and the trees)."""
    degree = np.diff(ptr)
    removed = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    top = 0
    for u in range(n):
        if degree[u] <= 1:
            stack[top] = u
            top += 1
    while top > 0:
        top -= 1
        u = stack[top]
        if removed[u]:
            continue
        removed[u] = True
        for k in range(ptr[u], ptr[u + 1]):
            v = nbr[k]
            if not removed[v]:
                degree[v] -= 1
                if degree[v] == 1:
                    stack[top] = v
                    top += 1
    return removed


def dead_end_nodes(n: int, tails: IntArray, heads: IntArray) -> BoolArray:
    """Whether each of ``n`` nodes lies on a dead-end branch or a tree of the undirected graph
    of the arcs (not on any loop)."""
    lo, hi = np.minimum(tails, heads), np.maximum(tails, heads)
    keys = np.unique(lo[lo != hi] * n + hi[lo != hi])
    a, b = keys // n, keys % n
    ends = np.concatenate((a, b))
    order = np.argsort(ends, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=ptr[1:])
    neighbours = np.concatenate((b, a))[order].astype(np.int64)
    removed: BoolArray = _peel(n, ptr, neighbours)
    return removed


def turn_at_dead_ends(arcs: Arcs) -> Arcs:
    """The road arcs with a way back added to every one-way minor road arc on a dead-end branch
    (see module doc); both directions then count half of the road's length (``share``)."""
    n = arcs.node_lat.size
    if arcs.tails.size == 0:
        return arcs
    off_loops = dead_end_nodes(n, arcs.tails, arcs.heads)
    one_way = arcs.share == 1.0
    turn = one_way & ~arcs.major & (off_loops[arcs.tails] | off_loops[arcs.heads])
    if not turn.any():
        return arcs
    share = np.where(turn, 0.5, arcs.share)
    cat = np.concatenate
    return replace(
        arcs,
        tails=cat((arcs.tails, arcs.heads[turn])),
        heads=cat((arcs.heads, arcs.tails[turn])),
        metres=cat((arcs.metres, arcs.metres[turn])),
        seconds=cat((arcs.seconds, arcs.seconds[turn])),
        major=cat((arcs.major, arcs.major[turn])),
        cut_exit=cat((arcs.cut_exit, arcs.cut_exit[turn])),
        geom_first=cat((arcs.geom_first, arcs.geom_first[turn])),
        geom_last=cat((arcs.geom_last, arcs.geom_last[turn])),
        geom_reversed=cat((arcs.geom_reversed, ~arcs.geom_reversed[turn])),
        share=cat((share, share[turn])),
    )
