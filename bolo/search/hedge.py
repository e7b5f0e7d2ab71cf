"""The particle picture's hedge against its own motion model: reachability that learns from
fruitless searches.

The particle filter is only as right as its motion model. The picture therefore gives a share
(``picture.HEDGE``) of its probability to a model that assumes almost nothing: the suspects
are anywhere reachable by now, uniformly, and their next posts are those the reachable
frontier crosses next. Unlike the `reachability` baseline, this model learns where the
suspects are not: a node whose shortest path from the last-known place runs through a post
that searched and found nothing is weighed down by ``1 - pd`` times the chance the suspects
passed that post while it searched (uniform passing time between the frontier's arrival
there and the end of the search). A confirmed found vehicle re-anchors it there on foot.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from bolo.network.graph import ModeCode
from bolo.search.baselines import CONFIRMED, FloatArray, ReachabilityBaseline
from bolo.search.case import Evidence, SearchCase, SearchReport, VehicleFound
from bolo.search.geo import dijkstra
from bolo.search.motion import WALK_MPS
from bolo.search.network_model import NetworkModel


@njit(cache=True)
def _parents(
    indptr: np.ndarray,
    indices: np.ndarray,
    cost: np.ndarray,
    allowed: np.ndarray,
    arrival: np.ndarray,
) -> np.ndarray:
    """A shortest-path tree from earliest arrival times: the parent of each node (-1: none)."""
    n = arrival.shape[0]
    parent = np.full(n, -1, dtype=np.int64)
    for u in range(n):
        tu = arrival[u]
        if not np.isfinite(tu):
            continue
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if allowed[k] == 0 or parent[v] >= 0 or cost[k] <= 0.0:
                continue
            if abs(tu + cost[k] - arrival[v]) <= 1e-6 * (1.0 + abs(arrival[v])):
                parent[v] = u
    return parent


@njit(cache=True)
def _euler(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tin, tout, tour): node v's subtree is tour[tin[v]:tout[v]]."""
    n = parent.shape[0]
    count = np.zeros(n + 1, dtype=np.int64)
    for v in range(n):
        if parent[v] >= 0:
            count[parent[v] + 1] += 1
    start = np.cumsum(count)
    fill = start[:-1].copy()
    child = np.empty(max(1, int(start[-1])), dtype=np.int64)
    for v in range(n):
        if parent[v] >= 0:
            child[fill[parent[v]]] = v
            fill[parent[v]] += 1
    tin = np.zeros(n, dtype=np.int64)
    tout = np.zeros(n, dtype=np.int64)
    tour = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    nxt = start[:-1].copy()
    clock = 0
    for root in range(n):
        if parent[root] >= 0:
            continue
        top = 0
        stack[0] = root
        tin[root] = clock
        tour[clock] = root
        clock += 1
        while top >= 0:
            u = stack[top]
            if nxt[u] < start[u + 1]:
                v = child[nxt[u]]
                nxt[u] += 1
                top += 1
                stack[top] = v
                tin[v] = clock
                tour[clock] = v
                clock += 1
            else:
                tout[u] = clock
                top -= 1
    return tin, tout, tour


class Frontier(ReachabilityBaseline):
    """Reachability (re-anchored at confirmed sightings) with fruitless searches learnt."""

    def __init__(self, model: NetworkModel, case: SearchCase) -> None:
        self.searches: list[tuple[int, float, float, float]] = []  # post slot, from, to, pd
        self.on_foot = False
        super().__init__(model, case)

    def _moved(self) -> None:
        net = self.model.network
        cost = net.arc_seconds
        if self.on_foot:  # the vehicle was found: roads at walking pace, trains unchanged
            road = net.arc_mode == ModeCode.ROAD
            cost = np.where(road, np.maximum(net.arc_metres / WALK_MPS, cost), cost)
        rel = dijkstra(net.indptr, net.indices, cost, self.model.allowed, [self.anchor.node])
        self.arrival = self.anchor.t + rel
        parent = _parents(net.indptr, net.indices, cost, self.model.allowed, rel)
        self.tin, self.tout, self.tour = _euler(parent)

    def observe(self, ev: Evidence, t_seconds: float) -> None:
        """Confirmed sightings move the anchor; searches that found nothing are remembered
        (``t_seconds`` is the search's start; its end is ``t_seconds`` + its length)."""
        if isinstance(ev, VehicleFound) and ev.credibility >= CONFIRMED:
            self.on_foot = True
        if isinstance(ev, SearchReport):
            if not ev.found:
                span = (ev.end - ev.start).total_seconds()
                net = self.model.network
                slot = net.posts.index(net.post(ev.post_id))
                self.searches.append((slot, t_seconds, t_seconds + span, ev.detection_probability))
            return
        super().observe(ev, t_seconds)

    def node_probability(self) -> FloatArray:
        """Over the nodes reachable by now: uniform, weighed down behind fruitless searches."""
        w = (self.arrival <= self.t).astype(np.float64)
        if not w.any():
            w[self.anchor.node] = 1.0
            return w
        uniform = w.copy()
        for slot, a, b, pd in self.searches:
            shadow = self._shadow(slot, b)
            if b > self.t or b <= self.anchor.t or shadow is None:
                continue
            arr = float(self.model.posts_catchment.first_arrival(self.arrival)[slot])
            passed = (b - max(a, arr)) / max(b - arr, 1.0)
            w[shadow] *= 1.0 - pd * min(1.0, max(0.0, passed))
        total = float(w.sum())
        return w / total if total > 0 else uniform / float(uniform.sum())

    def _shadow(self, slot: int, until: float) -> npt.NDArray[np.bool_] | None:
        """The nodes whose fastest route passes the catchment of post ``slot`` (reached by
        ``until`` seconds): a fruitless search there clears them. None when none is reached."""
        nodes = self.model.posts_catchment.of(slot)
        nodes = nodes[self.arrival[nodes] <= until]
        if nodes.size == 0:
            return None
        shadow = np.zeros(self.arrival.shape[0], dtype=np.bool_)
        for node in nodes.tolist():
            shadow[self.tour[self.tin[node] : self.tout[node]]] = True
        return shadow


def frontier_mass(
    frontier: Frontier, n_posts: int, t: float, horizon_s: float
) -> npt.NDArray[np.float64]:
    """Per post slot, the hedge model's share of the next ``horizon_s`` seconds: uniform over
    the posts whose earliest possible arrival lies in [t, t + horizon_s] (at least the next
    post ahead)."""
    order, score, eta = frontier.order()
    soon = np.isfinite(eta) & (eta >= t) & (eta <= t + horizon_s)
    if not soon.any() and n_posts and score[order[0]] > 0:
        soon[order[0]] = True
    return np.where(soon, 1.0 / max(1, int(soon.sum())), 0.0)
