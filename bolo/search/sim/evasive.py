"""A second behaviour model of abductors ("evasive"), written apart from the filter's motion
model and from bolo's own simulator (``truth.py``); they share no code, only the Trajectory
record the scoring reads.

What differs on purpose:
- routes: either avoiding major roads (arcs faster than MAJOR_MPS cost MAJOR_PENALTY times
  more) or one of the K_PATHS penalised shortest paths (each path found makes its arcs
  PATH_PENALTY times dearer for the next), chosen with falling odds;
- destinations: an exit (40%), a place 15-80 km off (35%) or a hideaway within 10 km (25%);
  a share change their mind part way (a new destination from where they are);
- stops: short ones (5-40 min, about one per 90 min of driving) and, for a share, one long
  hide of 8-30 h somewhere along the way;
- modes: a share leave the car part way and walk on (1.4 m/s, 20-120 min, then stay); where
  the case allows rail, a share prefer the train (rail arcs cost half);
- exits: a share wait 1-5 h within EXIT_WAIT_M of the exit before crossing.
Routing is scipy's Dijkstra with predecessors (not the filter's softmax over detours, not
the other simulator's perturbed-time Dijkstra).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from bolo.network.graph import ModeCode, Network
from bolo.search.sim.truth import Trajectory

MAJOR_MPS = 80 / 3.6
MAJOR_PENALTY = 3.0
AVOID_SHARE = 0.4
K_PATHS = 3
PATH_ODDS = (0.5, 0.3, 0.2)
PATH_PENALTY = 1.6
CHANGE_SHARE = 0.35
HIDE_SHARE = 0.2
FOOT_SHARE = 0.2
TRAIN_SHARE = 0.25
EXIT_WAIT_SHARE = 0.4
EXIT_WAIT_M = 3000.0
STOP_PER_S = 1.0 / 5400.0
WALK_MPS = 1.4

IntArray = npt.NDArray[np.int64]


class _Router:
    """Shortest paths on one cost per arc (parallel arcs: the cheapest), via scipy."""

    def __init__(self, net: Network, cost: npt.NDArray[np.float64]) -> None:
        self.net = net
        n = net.n_nodes
        tails = np.repeat(np.arange(n), np.diff(net.indptr))
        ok = np.isfinite(cost)
        order = np.lexsort((cost[ok], net.indices[ok], tails[ok]))
        arcs = np.flatnonzero(ok)[order]
        t, h = tails[arcs], net.indices[arcs]
        first = np.ones(arcs.shape[0], dtype=np.bool_)
        first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
        self.arcs = arcs[first]
        # csgraph reads explicit zeros as "no edge": a floor of 1 ms keeps free transfers.
        self.graph = sp.csr_matrix(
            (np.maximum(cost[self.arcs], 1e-3), (t[first], h[first])), shape=(n, n)
        )
        self.cost = cost

    def path(self, src: int, dst: int) -> IntArray:
        """Arcs of a cheapest path src -> dst (empty when none or src == dst)."""
        if src == dst:
            return np.zeros(0, dtype=np.int64)
        dist, pred = dijkstra(self.graph, indices=src, return_predecessors=True)
        if not np.isfinite(dist[dst]):
            return np.zeros(0, dtype=np.int64)
        nodes = [dst]
        while nodes[-1] != src:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        return np.asarray([self._arc(a, b) for a, b in pairwise(nodes)], dtype=np.int64)

    def _arc(self, u: int, v: int) -> int:
        """The cheapest arc u -> v."""
        ks = np.arange(self.net.indptr[u], self.net.indptr[u + 1])
        ks = ks[self.net.indices[ks] == v]
        return int(ks[np.argmin(self.cost[ks])])


def _usable(net: Network, modes: tuple[str, ...], train: bool) -> npt.NDArray[np.float64]:
    cost = np.where(net.arc_mode == ModeCode.ROAD, net.arc_seconds, np.inf)
    if "rail" in modes and train:
        rail = net.arc_mode == ModeCode.RAIL
        cost[rail] = net.arc_seconds[rail] * 0.5
        transfer = net.arc_mode == ModeCode.TRANSFER
        cost[transfer] = net.arc_seconds[transfer]
    return cost


def _route(
    net: Network,
    rng: np.random.Generator,
    cost: npt.NDArray[np.float64],
    avoid: bool,
    src: int,
    dst: int,
) -> IntArray:
    if avoid:
        fast = net.arc_metres > MAJOR_MPS * np.maximum(net.arc_seconds, 1e-9)
        return _Router(net, np.where(fast, cost * MAJOR_PENALTY, cost)).path(src, dst)
    pick = int(rng.choice(K_PATHS, p=PATH_ODDS))
    cost = cost.copy()
    path = np.zeros(0, dtype=np.int64)
    for i in range(pick + 1):
        found = _Router(net, cost).path(src, dst)
        if found.size == 0:
            break
        path = found
        if i < pick:
            cost[found] *= PATH_PENALTY
    return path


def draw_destination(
    net: Network, rng: np.random.Generator, here: int, candidates: IntArray
) -> int:
    """An exit (40%), a node 15-80 km away (35%) or one within 10 km (25%)."""
    r = rng.random()
    if net.exits and r < 0.4:
        return int(net.exits[int(rng.integers(len(net.exits)))].node)
    d = _metres(net, here, candidates)
    band = candidates[(d > 15_000) & (d < 80_000)] if r < 0.75 else candidates[d < 10_000]
    if band.size == 0:
        band = candidates[d >= np.median(d)] if r < 0.75 else candidates
    return int(rng.choice(band))


def _metres(net: Network, a: int, nodes: IntArray) -> npt.NDArray[np.float64]:
    dy = (net.node_lat[nodes] - net.node_lat[a]) * 110_570.0
    dx = (net.node_lon[nodes] - net.node_lon[a]) * 111_320.0 * np.cos(np.radians(net.node_lat[a]))
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def evasive_plan(
    net: Network,
    rng: np.random.Generator,
    origin: int,
    dest: int,
    modes: tuple[str, ...],
    candidates: IntArray,
) -> IntArray:
    """The arcs the suspects will travel: a route to ``dest``, maybe abandoned part way for a
    new destination."""
    train = rng.random() < TRAIN_SHARE
    cost = _usable(net, modes, train)
    avoid = rng.random() < AVOID_SHARE
    arcs = _route(net, rng, cost, avoid, origin, dest)
    if arcs.size > 4 and rng.random() < CHANGE_SHARE:
        cut = int(arcs.size * rng.uniform(0.3, 0.7))
        here = int(net.indices[arcs[cut - 1]])
        second = _route(net, rng, cost, avoid, here, draw_destination(net, rng, here, candidates))
        arcs = np.concatenate((arcs[:cut], second))
    return arcs


def evasive_trajectory(
    net: Network, rng: np.random.Generator, origin: int, arcs: IntArray, until_s: float
) -> Trajectory:
    """Travel ``arcs`` from ``origin`` with the model's stops, hiding, walking and exit wait."""
    exits = {e.node for e in net.exits}
    speed = rng.uniform(0.7, 1.05)
    hide_at = int(rng.integers(arcs.size)) if arcs.size and rng.random() < HIDE_SHARE else -1
    walk_from = (
        int(arcs.size * rng.uniform(0.2, 0.8))
        if arcs.size > 2 and rng.random() < FOOT_SHARE
        else -1
    )
    walk_left = rng.uniform(1200.0, 7200.0)
    wait_at = _exit_wait_index(net, arcs, exits) if rng.random() < EXIT_WAIT_SHARE else -1
    t = float(rng.lognormal(np.log(600.0), 0.8))
    nodes, arrive, depart, mode = [origin], [0.0], [t], [int(ModeCode.ROAD)]
    exited = False
    for i, k in enumerate(arcs):
        k = int(k)
        walking = 0 <= walk_from <= i
        if walking and walk_left <= 0:
            break  # the walk is over: they stay where it ended
        if i == hide_at:
            t += rng.uniform(8, 30) * 3600.0
        if i == wait_at:
            t += rng.uniform(1, 5) * 3600.0
        if not walking and rng.random() < STOP_PER_S * float(net.arc_seconds[k]):
            t += rng.uniform(300.0, 2400.0)
        depart[-1] = t
        if walking:
            dt = float(net.arc_metres[k]) / WALK_MPS
            walk_left -= dt
        else:
            dt = float(net.arc_seconds[k]) / speed * float(rng.lognormal(0.0, 0.1))
        t += dt
        v = int(net.indices[k])
        nodes.append(v)
        arrive.append(t)
        depart.append(t)
        mode.append(int(net.arc_mode[k]))
        if t > until_s:
            break
        if v in exits and i == arcs.size - 1:
            exited = True
    if not exited:
        depart[-1] = max(depart[-1], until_s)
    return Trajectory(
        np.asarray(nodes, dtype=np.int64),
        np.asarray(arrive),
        np.asarray(depart),
        np.asarray(mode, dtype=np.uint8),
        exited,
    )


def _exit_wait_index(net: Network, arcs: IntArray, exits: set[int]) -> int:
    """Index of the first arc within EXIT_WAIT_M (along the route) of an exit it ends at."""
    if arcs.size == 0 or int(net.indices[arcs[-1]]) not in exits:
        return -1
    left = np.cumsum(net.arc_metres[arcs][::-1])[::-1]
    near = np.flatnonzero(left <= EXIT_WAIT_M)
    return int(near[0]) if near.size else arcs.size - 1
