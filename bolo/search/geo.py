"""Geometry and shortest paths the search package needs: distances, bearings, Dijkstra.

Distances are metres on the WGS84 sphere, bearings degrees clockwise from north, travel times
seconds of nominal travel along the network's arcs.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from numba import njit

from bolo.network.graph import ModeCode, Network

EARTH_RADIUS_M = 6_371_008.8
FloatArray = npt.NDArray[np.float64]


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between WGS84 points (degrees), element-wise."""
    p1, l1, p2, l2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0))), dtype=np.float64)


def unit_xyz(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    """Unit-sphere coordinates (x, y, z) of WGS84 points, one row each (chord ~ radians)."""
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def bearing_deg(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Initial bearing in degrees [0, 360) from point 1 to point 2, element-wise."""
    p1, l1, p2, l2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    y = np.sin(l2 - l1) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(l2 - l1)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0, dtype=np.float64)


def allowed_arcs(network: Network, modes: Iterable[str]) -> npt.NDArray[np.uint8]:
    """1 for every arc a traveller using ``modes`` may take (transfers always), else 0."""
    codes = {int(ModeCode.TRANSFER)}
    for m in modes:
        name = str(m).upper()
        if name in ModeCode.__members__:
            codes.add(int(ModeCode[name]))
    return np.isin(network.arc_mode, sorted(codes)).astype(np.uint8)


@njit(cache=True, nogil=True)
def _dijkstra(
    indptr: np.ndarray,
    indices: np.ndarray,
    cost: np.ndarray,
    allowed: np.ndarray,
    sources: np.ndarray,
    start: np.ndarray,
    limit: float,
) -> np.ndarray:
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    heap = [(0.0, np.int64(0)) for _ in range(0)]
    for j in range(sources.shape[0]):
        s = sources[j]
        if start[j] < dist[s]:
            dist[s] = start[j]
            heapq.heappush(heap, (start[j], np.int64(s)))
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u] or d > limit:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            if allowed[k] == 0:
                continue
            nd = d + cost[k]
            v = indices[k]
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, np.int64(v)))
    return dist


def dijkstra(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int64],
    cost: FloatArray,
    allowed: npt.NDArray[np.uint8],
    sources: Iterable[int],
    start: Iterable[float] | None = None,
    limit: float = math.inf,
) -> FloatArray:
    """Shortest times (seconds) from ``sources`` (starting at ``start`` s) over allowed arcs."""
    src = np.asarray(list(sources), dtype=np.int64)
    st = np.zeros(src.shape[0]) if start is None else np.asarray(list(start), dtype=np.float64)
    out: FloatArray = _dijkstra(
        indptr, indices, np.asarray(cost, dtype=np.float64), allowed, src, st, float(limit)
    )
    return out


def reverse_csr(
    network: Network,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The transposed graph: (indptr, indices, original arc id) with arcs pointing backwards."""
    n = network.n_nodes
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(network.indptr))
    heads = network.indices.astype(np.int64)
    order = np.argsort(heads, kind="stable").astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(heads, minlength=n), out=indptr[1:])
    return indptr, tails[order], order


def spread_nodes(
    lat: FloatArray, lon: FloatArray, candidates: npt.NDArray[np.int64], k: int, first: int
) -> list[int]:
    """Farthest-point sample of ``k`` nodes among ``candidates``, starting from node ``first``.

    Gives destinations that cover the whole region evenly without any region-specific tuning.
    """
    chosen = [first]
    if candidates.size == 0:
        return chosen
    d = haversine_m(lat[first], lon[first], lat[candidates], lon[candidates])
    for _ in range(k):
        j = int(np.argmax(d))
        if d[j] <= 0:
            break
        node = int(candidates[j])
        chosen.append(node)
        d = np.minimum(d, haversine_m(lat[node], lon[node], lat[candidates], lon[candidates]))
    return chosen[1:]
