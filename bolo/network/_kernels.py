"""Numba kernels: earliest-arrival Dijkstra on CSR arrays with an indexed binary heap.

scipy.sparse.csgraph.dijkstra has no per-source start times, no per-arc time windows and no
early stop once a set of targets is settled; these kernels have all three.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bolo.network.graph import FloatArray, IntArray

_NOT_SEEN = -1
_SETTLED = -2


@njit(cache=True, inline="always")
def _sift_up(heap_node: IntArray, heap_key: FloatArray, pos: IntArray, i: int) -> None:
    node = heap_node[i]
    key = heap_key[i]
    while i > 0:
        parent = (i - 1) >> 1
        if heap_key[parent] <= key:
            break
        heap_node[i] = heap_node[parent]
        heap_key[i] = heap_key[parent]
        pos[heap_node[i]] = i
        i = parent
    heap_node[i] = node
    heap_key[i] = key
    pos[node] = i


@njit(cache=True, inline="always")
def _sift_down(heap_node: IntArray, heap_key: FloatArray, pos: IntArray, size: int) -> None:
    node = heap_node[0]
    key = heap_key[0]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap_key[child + 1] < heap_key[child]:
            child += 1
        if heap_key[child] >= key:
            break
        heap_node[i] = heap_node[child]
        heap_key[i] = heap_key[child]
        pos[heap_node[i]] = i
        i = child
    heap_node[i] = node
    heap_key[i] = key
    pos[node] = i


@njit(cache=True)
def earliest_arrival_kernel(
    indptr: IntArray,
    indices: IntArray,
    weights: FloatArray,
    sources: IntArray,
    starts: FloatArray,
    limit: float,
    targets: IntArray,
    open_from: FloatArray,
    open_until: FloatArray,
) -> FloatArray:
    """Earliest arrival (seconds) at every node; inf when unreachable, later than ``limit``,
    or not settled before every target was (when ``targets`` is non-empty).

    An arc with an infinite weight is closed. With non-empty ``open_from``/``open_until``
    an arc can only be entered in [open_from, open_until]: a traveller waits for it to open.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pos = np.full(n, _NOT_SEEN, dtype=np.int64)
    heap_node = np.empty(n, dtype=np.int64)
    heap_key = np.empty(n, dtype=np.float64)
    windows = open_from.shape[0] > 0
    is_target = np.zeros(n, dtype=np.bool_)
    remaining = 0
    for t in targets:
        if not is_target[t]:
            is_target[t] = True
            remaining += 1
    size = 0
    for j in range(sources.shape[0]):
        s = sources[j]
        t0 = starts[j]
        if t0 > limit or t0 >= dist[s]:
            continue
        dist[s] = t0
        if pos[s] == _NOT_SEEN:
            heap_node[size] = s
            heap_key[size] = t0
            size += 1
            _sift_up(heap_node, heap_key, pos, size - 1)
        else:
            heap_key[pos[s]] = t0
            _sift_up(heap_node, heap_key, pos, pos[s])
    while size > 0:
        u = heap_node[0]
        du = heap_key[0]
        size -= 1
        pos[u] = _SETTLED
        if size > 0:
            heap_node[0] = heap_node[size]
            heap_key[0] = heap_key[size]
            _sift_down(heap_node, heap_key, pos, size)
        if is_target[u]:
            remaining -= 1
            if remaining == 0:
                break
        for k in range(indptr[u], indptr[u + 1]):
            w = weights[k]
            if w == np.inf:
                continue
            depart = du
            if windows:
                if depart > open_until[k]:
                    continue
                if depart < open_from[k]:
                    depart = open_from[k]
            nd = depart + w
            if nd > limit:
                continue
            v = indices[k]
            if nd < dist[v]:
                dist[v] = nd
                pv = pos[v]
                if pv == _NOT_SEEN:
                    heap_node[size] = v
                    heap_key[size] = nd
                    size += 1
                    _sift_up(heap_node, heap_key, pos, size - 1)
                elif pv >= 0:
                    heap_key[pv] = nd
                    _sift_up(heap_node, heap_key, pos, pv)
    # Nodes still in the heap after an early stop hold tentative, not final, times.
    for i in range(size):
        dist[heap_node[i]] = np.inf
    return dist
