"""The simulated suspects' behaviour: kept apart from the filter's own motion assumptions.

Drivers pick one of several near-shortest routes (Dijkstra on randomly perturbed arc times, not
the filter's softmax over detours), may go through a waypoint, hide for hours, hitch-hike
(waiting for rides), walk the first stretch, lie low at a hideout for 2-12 h before the final
stretch (to an exit or a far place), and switch to rail when the case allows it.
A trajectory is the list of nodes with arrival and departure times (seconds since abduction).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from bolo.network.graph import ModeCode, Network
from bolo.search.geo import allowed_arcs, haversine_m

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

ROUTE_SPREAD = 0.35  # log-sd of the per-arc perception noise that makes route choice vary
WAYPOINT_SHARE = 0.3
HITCH_SHARE = 0.3
WALK_SHARE = 0.15
RAIL_SHARE = 0.3
HIDE_PER_S = 1.0 / (8 * 3600.0)
HIDEOUT_SHARE = 0.6


@dataclass
class Trajectory:
    """Nodes visited, arrival and departure times (s), and the mode of the arc arrived by."""

    node: IntArray
    arrive: FloatArray
    depart: FloatArray
    mode: npt.NDArray[np.uint8]
    exited: bool

    def position(self, net: Network, t: float) -> tuple[float, float]:
        """WGS84 position at time ``t`` seconds (interpolated along the arc travelled)."""
        i = int(np.searchsorted(self.arrive, t, side="right")) - 1
        if i < 0:
            i = 0
        if i >= self.node.shape[0] - 1 or t <= self.depart[i]:
            u = int(self.node[i])
            return float(net.node_lat[u]), float(net.node_lon[u])
        u, v = int(self.node[i]), int(self.node[i + 1])
        span = self.arrive[i + 1] - self.depart[i]
        f = (t - self.depart[i]) / span if span > 0 else 1.0
        return (
            float(net.node_lat[u] + f * (net.node_lat[v] - net.node_lat[u])),
            float(net.node_lon[u] + f * (net.node_lon[v] - net.node_lon[u])),
        )


@njit(cache=True)
def _route(
    indptr: np.ndarray,
    indices: np.ndarray,
    cost: np.ndarray,
    allowed: np.ndarray,
    src: int,
    dst: int,
) -> np.ndarray:
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    dist[src] = 0.0
    heap = [(0.0, np.int64(src))]
    while heap:
        d, u = heapq.heappop(heap)
        if u == dst:
            break
        if d > dist[u]:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            if allowed[k] == 0:
                continue
            nd = d + cost[k]
            v = indices[k]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = k
                heapq.heappush(heap, (nd, np.int64(v)))
    if not np.isfinite(dist[dst]):
        return np.zeros(0, dtype=np.int64)
    arcs = []
    v = dst
    while v != src:
        k = pred[v]
        arcs.append(k)
        # find the tail of arc k: the node whose row contains it
        lo, hi = 0, n
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if indptr[mid] <= k:
                lo = mid
            else:
                hi = mid
        v = lo
    out = np.empty(len(arcs), dtype=np.int64)
    for i in range(len(arcs)):
        out[i] = arcs[len(arcs) - 1 - i]
    return out


def _leg(
    net: Network,
    rng: np.random.Generator,
    allowed: npt.NDArray[np.uint8],
    src: int,
    dst: int,
    slow: float,
) -> IntArray:
    noise = np.exp(rng.normal(0.0, ROUTE_SPREAD, net.n_arcs))
    out: IntArray = _route(
        net.indptr, net.indices, net.arc_seconds * noise * slow, allowed, src, dst
    )
    return out


def simulate_trajectory(
    net: Network,
    rng: np.random.Generator,
    origin: int,
    dest: int,
    modes: tuple[str, ...],
    exits: set[int],
    until_s: float,
) -> Trajectory:
    """Simulate the suspects from ``origin`` (t=0) towards ``dest`` until ``until_s`` seconds."""
    road = allowed_arcs(net, ("road",))
    multi = allowed_arcs(net, modes)
    hitch = rng.random() < HITCH_SHARE
    stops: list[tuple[int, IntArray, float]] = []  # (target, arcs, speed factor)
    here = origin
    if rng.random() < WALK_SHARE:
        near = _nearby_node(net, rng, origin, 3000.0)
        arcs = _leg(net, rng, road, here, near, 1.0)
        if arcs.size:
            stops.append((near, arcs, 0.2))
            here = near
    if rng.random() < WAYPOINT_SHARE:
        way = int(rng.integers(net.n_nodes))
        arcs = _leg(net, rng, road, here, way, 1.0)
        if arcs.size:
            stops.append((way, arcs, 1.0))
            here = way
    if rng.random() < HIDEOUT_SHARE:
        hideout = int(rng.integers(net.n_nodes))
        arcs = _leg(net, rng, road, here, hideout, 1.0)
        if arcs.size:
            stops.append((hideout, arcs, 1.0))
            # Lying low at the hideout: one long stop before the final stretch.
            stops.append((hideout, np.zeros(0, dtype=np.int64), rng.uniform(2, 12) * 3600.0))
            here = hideout
    use = multi if rng.random() < RAIL_SHARE else road
    arcs = _leg(net, rng, use, here, dest, 1.0)
    if arcs.size == 0 and use is multi:
        arcs = _leg(net, rng, road, here, dest, 1.0)
    stops.append((dest, arcs, 1.0))
    return _walk(net, rng, origin, stops, hitch, exits, until_s)


def _walk(
    net: Network,
    rng: np.random.Generator,
    origin: int,
    stops: list[tuple[int, IntArray, float]],
    hitch: bool,
    exits: set[int],
    until_s: float,
) -> Trajectory:
    nodes, arrive, depart, modes = [origin], [0.0], [0.0], [int(ModeCode.ROAD)]
    t = 0.0
    t += rng.uniform(0, 1800.0)  # the time it takes to get going
    exited = False
    for _, arcs, slow in stops:
        if arcs.size == 0:
            t += slow  # a stop entry: ``slow`` holds its duration in seconds
            depart[-1] = t
            continue
        speed = float(np.exp(rng.normal(-0.15, 0.25))) * slow
        for k in arcs:
            mode = int(net.arc_mode[k])
            if hitch and mode == int(ModeCode.ROAD) and rng.random() < net.arc_seconds[k] / 2700:
                t += rng.uniform(600.0, 3600.0)  # waiting for a ride
            if rng.random() < HIDE_PER_S * net.arc_seconds[k]:
                t += rng.uniform(3600.0, 6 * 3600.0)  # hiding
            depart[-1] = t
            t += float(net.arc_seconds[k]) / speed * float(np.exp(rng.normal(0.0, 0.2)))
            v = int(net.indices[k])
            nodes.append(v)
            arrive.append(t)
            depart.append(t)
            modes.append(mode)
            if t > until_s:
                break
            if v in exits:
                exited = True
                break
        if t > until_s or exited:
            break
    depart[-1] = max(depart[-1], until_s) if not exited else depart[-1]
    return Trajectory(
        np.asarray(nodes, dtype=np.int64),
        np.asarray(arrive),
        np.asarray(depart),
        np.asarray(modes, dtype=np.uint8),
        exited,
    )


def _nearby_node(net: Network, rng: np.random.Generator, node: int, metres: float) -> int:
    d = haversine_m(net.node_lat[node], net.node_lon[node], net.node_lat, net.node_lon)
    cand = np.flatnonzero((d < metres) & (d > 0))
    return int(rng.choice(cand)) if cand.size else node
