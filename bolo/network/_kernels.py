"""Numba kernels: earliest-arrival Dijkstra on CSR arrays with an indexed binary heap.

scipy.sparse.csgraph.dijkstra has no per-source start times, no per-arc time windows and no
early stop once a set of targets is settled; these kernels have all three.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from bolo.network.graph import FloatArray, IntArray

Int32Array = npt.NDArray[np.int32]
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


# Kept in one piece on purpose: moving the pop or the relax loop into njit helpers (inlined
# or not) made one-to-all 4-30% slower (numba 0.68, Porto and a 2 M-node grid).
@njit(cache=True)
def earliest_arrival_kernel(
    indptr: IntArray,
    indices: IntArray,
    weights: FloatArray,
    sources: IntArray,
    starts: FloatArray,
    limit: float,
    target_count: IntArray,
    stop_count: int,
    count_after: float,
    open_from: FloatArray,
    open_until: FloatArray,
) -> FloatArray:
    """Earliest arrival (seconds) at every node; inf when unreachable or later than ``limit``.

    Early stop: with a non-empty ``target_count`` (per node), the search stops once the settled
    nodes reached after ``count_after`` add up to ``stop_count``; nodes not settled by then
    read inf. An arc with an infinite weight is closed. With non-empty ``open_from``/
    ``open_until`` an arc is entered only in [open_from, open_until], waiting for it to open.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pos = np.full(n, _NOT_SEEN, dtype=np.int64)
    heap_node = np.empty(n, dtype=np.int64)
    heap_key = np.empty(n, dtype=np.float64)
    windows = open_from.shape[0] > 0
    counting = target_count.shape[0] > 0
    remaining = stop_count
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
        if counting and du > count_after and target_count[u] > 0:
            remaining -= target_count[u]
            if remaining <= 0:
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


@njit(cache=True, inline="always")
def _mark(grid: np.ndarray, lat: float, lon: float, frame: FloatArray) -> None:
    # frame = (x0, y0, cell, scale): x = lon * scale, in cells from (x0, y0)
    ix = int((lon * frame[3] - frame[0]) / frame[2])
    iy = int((lat - frame[1]) / frame[2])
    if 0 <= iy < grid.shape[0] and 0 <= ix < grid.shape[1]:
        grid[iy, ix] = True


@njit(cache=True)
def raster_reached_kernel(
    indptr: IntArray,
    indices: IntArray,
    seconds: FloatArray,
    node_lat: FloatArray,
    node_lon: FloatArray,
    geom_ptr: IntArray,
    geom_lat: FloatArray,
    geom_lon: FloatArray,
    times: FloatArray,
    limit: float,
    frame: FloatArray,
    grid: np.ndarray,
) -> None:
    """Mark the grid cells holding a reached node, a drawing point of an arc reached at both
    ends, or the straight-line point where travel stops on a partly reached arc."""
    n = indptr.shape[0] - 1
    has_geom = geom_ptr.shape[0] > 0
    for u in range(n):
        tu = times[u]
        if not tu <= limit:
            continue
        _mark(grid, node_lat[u], node_lon[u], frame)
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if times[v] <= limit:
                if has_geom:
                    for g in range(geom_ptr[k], geom_ptr[k + 1]):
                        _mark(grid, geom_lat[g], geom_lon[g], frame)
            elif seconds[k] > 0 and seconds[k] < np.inf:
                f = min(max((limit - tu) / seconds[k], 0.0), 1.0)
                _mark(
                    grid,
                    node_lat[u] + f * (node_lat[v] - node_lat[u]),
                    node_lon[u] + f * (node_lon[v] - node_lon[u]),
                    frame,
                )


@njit(cache=True, inline="always")
def _ring_frame(
    sources: IntArray, starts: FloatArray, delta: float, max_weight: float
) -> tuple[float, int]:
    """(earliest start in seconds, number of buckets): the ring of buckets of width ``delta``
    must span the start times plus the heaviest arc, so pending times never wrap onto each
    other."""
    t0 = np.inf
    t1 = -np.inf
    for j in range(sources.shape[0]):
        t0 = min(t0, starts[j])
        t1 = max(t1, starts[j])
    return t0, int((max_weight + (t1 - t0)) / delta) + 2


@njit(cache=True, inline="always")
def _bucket_push(
    e_node: Int32Array,
    e_key: FloatArray,
    e_next: Int32Array,
    head: Int32Array,
    size: int,
    node: int,
    key: float,
    slot: int,
) -> int:
    """Append entry (node, key seconds) to the pool and link it first in bucket ``slot``.
    Entries live in one append-only pool, singly linked per bucket (stale ones are skipped
    when popped): pushes write sequentially, which is what makes the bucket queue fast.
    Returns the new pool size."""
    e_node[size] = node
    e_key[size] = key
    e_next[size] = head[slot]
    head[slot] = size
    return size + 1


@njit(cache=True, inline="always")
def _seed_buckets(
    dist: FloatArray,
    sources: IntArray,
    starts: FloatArray,
    limit: float,
    t0: float,
    delta: float,
    e_node: Int32Array,
    e_key: FloatArray,
    e_next: Int32Array,
    head: Int32Array,
) -> int:
    """Put every source in the bucket of its start time (the earliest when a source repeats;
    none later than ``limit``). Returns the pool size."""
    ring = head.shape[0]
    size = 0
    for j in range(sources.shape[0]):
        s = sources[j]
        if starts[j] > limit or starts[j] >= dist[s]:
            continue
        dist[s] = starts[j]
        slot = int((starts[j] - t0) / delta) % ring
        size = _bucket_push(e_node, e_key, e_next, head, size, s, starts[j], slot)
    return size


@njit(cache=True, inline="always")
def _relax_buckets(
    indptr: IntArray,
    adj: FloatArray,
    limit: float,
    t0: float,
    delta: float,
    dist: FloatArray,
    e_node: Int32Array,
    e_key: FloatArray,
    e_next: Int32Array,
    head: Int32Array,
    size: int,
    u: int,
    du: float,
) -> int:
    """Relax the arcs of ``u`` reached at ``du``, queueing every improved head. ``adj[k] =
    (head, weight)`` packs each arc's head (an exact integer in float64) with its weight, so
    relaxing reads one memory stream (~40% faster than two on 2 M nodes). Returns the new
    pool size, or -1 when the pool is full."""
    ring = head.shape[0]
    cap = e_node.shape[0]
    for k in range(indptr[u], indptr[u + 1]):
        nd = du + adj[k, 1]
        v = int(adj[k, 0])
        if nd < dist[v] and nd <= limit:
            dist[v] = nd
            if size == cap:
                # Growing here would cost every iteration (reassigned arrays):
                # the caller retries with a larger pool instead.
                return -1
            b = int((nd - t0) / delta) % ring
            size = _bucket_push(e_node, e_key, e_next, head, size, v, nd, b)
    return size


@njit(cache=True, inline="always")
def _finished_targets(
    dist: FloatArray, popped: IntArray, n_popped: int, target_count: IntArray, count_after: float
) -> int:
    """How many targets the finished bucket's nodes ``popped[:n_popped]`` settled later than
    ``count_after`` (seconds)."""
    found = 0
    for i in range(n_popped):
        if dist[popped[i]] > count_after:
            found += target_count[popped[i]]
    return found


@njit(cache=True, inline="always")
def _forget_from(dist: FloatArray, boundary: float) -> None:
    """Set to inf every time at or after ``boundary`` (seconds): at an early stop those are
    in buckets not finished yet, so not final."""
    for v in range(dist.shape[0]):
        if dist[v] >= boundary:
            dist[v] = np.inf


@njit(cache=True)
def bucket_kernel(
    indptr: IntArray,
    adj: FloatArray,
    sources: IntArray,
    starts: FloatArray,
    limit: float,
    delta: float,
    max_weight: float,
    target_count: IntArray,
    stop_count: int,
    count_after: float,
    pool: int,
) -> tuple[FloatArray, bool]:
    """Same result as earliest_arrival_kernel without time windows, by a bucket
    queue (delta-stepping, run sequentially): nodes wait in buckets of width ``delta``;
    arcs lighter than ``delta`` may re-open a node within its bucket (label-correcting), so
    every final time is the minimum of final tail time + arc weight, as in Dijkstra.
    ``max_weight`` bounds every finite weight; ``adj`` packs (head, weight) per arc.
    Early stop (``target_count`` non-empty) is checked when a bucket is finished, since only
    then are its nodes final; nodes not final at the stop read inf. Returns (times, True), or
    (partial, False) when more than ``pool`` bucket entries were needed."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    t0, ring = _ring_frame(sources, starts, delta, max_weight)
    head = np.full(ring, -1, dtype=np.int32)
    cap = max(pool, sources.shape[0] + 1)
    e_node = np.empty(cap, dtype=np.int32)
    e_next = np.empty(cap, dtype=np.int32)
    e_key = np.empty(cap, dtype=np.float64)
    size = live = _seed_buckets(
        dist, sources, starts, limit, t0, delta, e_node, e_key, e_next, head
    )
    counting = target_count.shape[0] > 0
    remaining = stop_count
    last_seen = np.full(n if counting else 0, -1, dtype=np.int64)
    popped = np.empty(n if counting else 0, dtype=np.int64)
    n_popped = 0
    cur = 0
    while live > 0:
        slot = cur % ring
        while head[slot] != -1:
            e = head[slot]
            head[slot] = e_next[e]
            live -= 1
            u = e_node[e]
            du = e_key[e]
            if du != dist[u]:
                continue  # stale: u was reached faster since
            if counting and target_count[u] > 0 and last_seen[u] != cur:
                last_seen[u] = cur
                popped[n_popped] = u
                n_popped += 1
            grown = _relax_buckets(
                indptr, adj, limit, t0, delta, dist, e_node, e_key, e_next, head, size, u, du
            )
            if grown < 0:
                return dist, False
            live += grown - size
            size = grown
        if counting:
            # Only now are this bucket's times final: count its targets.
            remaining -= _finished_targets(dist, popped, n_popped, target_count, count_after)
            n_popped = 0
            if remaining <= 0:
                _forget_from(dist, t0 + (cur + 1) * delta)
                break
        cur += 1
    return dist, True
