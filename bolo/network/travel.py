"""Travel times on a Network: earliest arrival from one or many sources, and snapping points.

Times are seconds, distances metres, coordinates WGS84 degrees. Modes: ``road`` drives the road
arcs at their nominal times, ``rail`` rides the rail arcs, ``foot`` walks the road and foot arcs
at walking speed; transfer arcs (station <-> road) are usable when two or more modes are allowed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from scipy.spatial import cKDTree

from bolo.network._kernels import bucket_kernel, earliest_arrival_kernel
from bolo.network.build import haversine_m
from bolo.network.errors import PointTooFar
from bolo.network.graph import FloatArray, IntArray, Mode, ModeCode, Network

WALK_METRES_PER_SECOND = 1.4
TRAVEL_MODES: frozenset[Mode] = frozenset({Mode.ROAD, Mode.RAIL, Mode.FOOT})
_EMPTY_F = np.empty(0, dtype=np.float64)
_EMPTY_I = np.empty(0, dtype=np.int64)
_MAX_BUCKETS = 20_000_000


def _mode_set(modes: Collection[Mode] | None) -> frozenset[Mode]:
    return TRAVEL_MODES if modes is None else frozenset(Mode(m) for m in modes)


def arc_weights(network: Network, modes: Collection[Mode] | None = None) -> FloatArray:
    """Seconds per arc for a traveller using ``modes`` (all when None); inf = not usable.

    The result is cached on the network per mode set; callers must not modify it.
    """
    wanted = _mode_set(modes)
    key = "weights:" + ",".join(sorted(m.value for m in wanted))
    cached = network.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    weights = np.full(network.n_arcs, np.inf)
    code = network.arc_mode
    road = code == ModeCode.ROAD
    if Mode.ROAD in wanted:
        weights[road] = network.arc_seconds[road]
    elif Mode.FOOT in wanted:
        weights[road] = network.arc_metres[road] / WALK_METRES_PER_SECOND
    if Mode.FOOT in wanted:
        foot = code == ModeCode.FOOT
        weights[foot] = network.arc_metres[foot] / WALK_METRES_PER_SECOND
    if Mode.RAIL in wanted:
        rail = code == ModeCode.RAIL
        weights[rail] = network.arc_seconds[rail]
    if len(wanted & TRAVEL_MODES) >= 2 or Mode.TRANSFER in wanted:
        transfer = code == ModeCode.TRANSFER
        weights[transfer] = network.arc_seconds[transfer]
    network.cache[key] = weights
    return weights


def earliest_arrival(
    network: Network,
    sources: Sequence[int] | IntArray,
    *,
    start_seconds: Sequence[float] | FloatArray | None = None,
    limit_seconds: float | None = None,
    modes: Collection[Mode] | None = None,
    closed_arcs: Sequence[int] | IntArray | None = None,
    targets: Sequence[int] | IntArray | None = None,
    open_from: FloatArray | None = None,
    open_until: FloatArray | None = None,
) -> FloatArray:
    """Earliest arrival time (seconds) at every node, inf when unreachable.

    Travel starts at ``sources[i]`` at ``start_seconds[i]`` (0 when None); the result is on the
    same clock. Arrivals later than ``limit_seconds`` (same clock) count as unreachable.
    ``closed_arcs`` are arc indices no one can use. With ``targets`` the search stops once all of
    them are settled: only their times (and those of nodes settled earlier) are then final,
    every other node reads inf. ``open_from``/``open_until`` (seconds per arc, same clock) are
    time windows: an arc is entered only inside its window, waiting for it to open.
    """
    src, starts = _sources_and_starts(network, sources, start_seconds)
    weights = base = arc_weights(network, modes)
    if closed_arcs is not None and len(closed_arcs):
        weights = weights.copy()
        weights[np.asarray(closed_arcs, dtype=np.int64)] = np.inf
    windows = _time_windows(network, open_from, open_until)
    limit = np.inf if limit_seconds is None else float(limit_seconds)
    counts, stop = _target_counts(network, targets)
    if windows[0].size == 0:
        return run_kernel(
            network,
            src,
            starts,
            weights=weights,
            limit=limit,
            target_count=counts,
            stop_count=stop,
            count_after=-np.inf,
            base=base,
        )
    return earliest_arrival_kernel(
        network.indptr,
        network.indices,
        weights,
        src,
        starts,
        limit,
        counts,
        stop,
        -np.inf,
        *windows,
    )


def _sources_and_starts(
    network: Network,
    sources: Sequence[int] | IntArray,
    start_seconds: Sequence[float] | FloatArray | None,
) -> tuple[IntArray, FloatArray]:
    """Source nodes (int64) and their start times in seconds (0 when None), checked: every
    source is a node of ``network`` (IndexError), one start per source (ValueError)."""
    src = np.asarray(sources, dtype=np.int64).reshape(-1)
    if src.size and (src.min() < 0 or src.max() >= network.n_nodes):
        raise IndexError("source node out of range")
    if start_seconds is None:
        return src, np.zeros(src.shape[0])
    starts = np.asarray(start_seconds, dtype=np.float64).reshape(-1)
    if starts.shape != src.shape:
        raise ValueError("start_seconds must have one value per source")
    return src, starts


def _target_counts(
    network: Network, targets: Sequence[int] | IntArray | None
) -> tuple[IntArray, int]:
    """Per-node target counts (1 per distinct target, empty without targets) and how many
    must be settled before the search may stop."""
    if targets is None:
        return _EMPTY_I, 0
    counts = np.zeros(network.n_nodes, dtype=np.int64)
    counts[np.asarray(targets, dtype=np.int64).reshape(-1)] = 1
    return counts, int(counts.sum())


def _time_windows(
    network: Network, open_from: FloatArray | None, open_until: FloatArray | None
) -> tuple[FloatArray, FloatArray]:
    """(open_from, open_until) seconds per arc as float64, a missing side always open; both
    empty (no windows) when neither is given."""
    if open_from is None and open_until is None:
        return _EMPTY_F, _EMPTY_F
    lo = np.full(network.n_arcs, -np.inf) if open_from is None else open_from
    hi = np.full(network.n_arcs, np.inf) if open_until is None else open_until
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


def _is_mode_weights(network: Network, weights: FloatArray) -> bool:
    """Whether ``weights`` is one of the per-mode arrays cached by arc_weights (cache keys
    by id() are only safe for arrays the cache itself keeps alive)."""
    return any(v is weights for k, v in network.cache.items() if k.startswith("weights:"))


def _packed(network: Network, weights: FloatArray, *, cached: bool) -> FloatArray:
    """(head, weight) per arc in one float64 array (see bucket_kernel); cached on the network
    for the per-mode weight arrays, built afresh for one-off weights (closed arcs)."""
    key = f"packed:{id(weights)}"
    hit = network.cache.get(key) if cached else None
    if hit is not None:
        return hit  # type: ignore[return-value]
    adj = np.empty((network.n_arcs, 2))
    adj[:, 0] = network.indices
    adj[:, 1] = weights
    if cached:
        network.cache[key] = adj
    return adj


def _bucket_params(network: Network, weights: FloatArray) -> tuple[float, float]:
    """(bucket width, largest finite weight) in seconds for the bucket queue: twice the median
    arc time, measured fastest on road graphs (Porto, a 2 M-node grid)."""
    key = f"bucket:{id(weights)}"  # weights are the cached per-mode arrays: ids are stable
    cached = network.cache.get(key)
    if cached is None:
        finite = weights[np.isfinite(weights)]
        if finite.size == 0:
            cached = (1.0, 0.0)
        else:
            cached = (max(2.0 * float(np.median(finite)), 1e-3), float(finite.max()))
        network.cache[key] = cached
    return cached  # type: ignore[return-value]


def run_kernel(
    network: Network,
    sources: IntArray,
    starts: FloatArray,
    *,
    weights: FloatArray,
    limit: float,
    target_count: IntArray,
    stop_count: int,
    count_after: float,
    base: FloatArray | None = None,
) -> FloatArray:
    """Low-level earliest arrival for callers that stop on their own criterion: the search
    stops once settled nodes later than ``count_after`` add up to ``stop_count`` in
    ``target_count`` (empty = no early stop). Uses the bucket queue, or the binary heap when
    arc times span too many buckets. ``base`` is the cached per-mode weight array
    ``weights`` derives from (for its bucket parameters)."""
    ref = base if base is not None else weights
    if not _is_mode_weights(network, ref):
        raise ValueError("weights must be (derived from) an arc_weights() array")
    delta, max_weight = _bucket_params(network, ref)
    spread = float(starts.max() - starts.min()) if starts.size else 0.0
    if (max_weight + spread) / delta < _MAX_BUCKETS and network.n_nodes < 2**31 - 1:
        adj = _packed(network, weights, cached=_is_mode_weights(network, weights))
        pool = network.n_nodes + network.n_nodes // 2 + 16
        while True:
            times, complete = bucket_kernel(
                network.indptr,
                adj,
                sources,
                starts,
                limit,
                delta,
                max_weight,
                target_count,
                stop_count,
                count_after,
                pool,
            )
            if complete:
                return times
            pool *= 2
    return earliest_arrival_kernel(
        network.indptr,
        network.indices,
        weights,
        sources,
        starts,
        limit,
        target_count,
        stop_count,
        count_after,
        _EMPTY_F,
        _EMPTY_F,
    )


def _unit_xyz(lat: FloatArray, lon: FloatArray) -> FloatArray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def _snap_index(network: Network, mode: Mode | None) -> tuple[cKDTree, IntArray]:
    key = f"kdtree:{mode.value if mode else '*'}"
    cached = network.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    if mode is None:
        nodes = np.flatnonzero(np.diff(network.indptr) > 0)
        if nodes.size == 0:
            nodes = np.arange(network.n_nodes)
    elif mode is Mode.FOOT:
        nodes = np.flatnonzero(network.node_has_mode(Mode.ROAD) | network.node_has_mode(Mode.FOOT))
    else:
        nodes = np.flatnonzero(network.node_has_mode(mode))
    tree = cKDTree(_unit_xyz(network.node_lat[nodes], network.node_lon[nodes]))
    network.cache[key] = (tree, nodes)
    return tree, nodes


def nearest_node(
    network: Network,
    lat: float,
    lon: float,
    *,
    mode: Mode | None = None,
    max_metres: float | None = None,
) -> tuple[int, float]:
    """The node nearest to (lat, lon) that has an arc of ``mode`` (any when None), and the
    great-circle distance to it in metres. PointTooFar when none lies within ``max_metres``."""
    tree, nodes = _snap_index(network, mode)
    if nodes.size == 0:
        raise PointTooFar(f"network {network.name!r} has no {mode or 'any'} nodes")
    _, i = tree.query(_unit_xyz(np.array([lat]), np.array([lon]))[0])
    node = int(nodes[int(i)])
    metres = float(haversine_m(lat, lon, network.node_lat[node], network.node_lon[node]))
    if max_metres is not None and metres > max_metres:
        raise PointTooFar(
            f"({lat:.5f}, {lon:.5f}) is {metres / 1000:.1f} km from the nearest "
            f"{mode.value + ' ' if mode else ''}node of {network.name!r} "
            f"(limit {max_metres / 1000:.1f} km)"
        )
    return node, metres
