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

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from bolo.network.graph import ModeCode
from bolo.search.baselines import CONFIRMED, FloatArray, ReachabilityBaseline
from bolo.search.case import Evidence, SearchCase, SearchReport, Sighting, VehicleFound
from bolo.search.geo import dijkstra, haversine_m
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
        self.sightings_log = 0.0
        self._last: tuple[tuple[float, int, float, int, bool], FloatArray, FloatArray] | None
        self._last = None
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
        (``t_seconds`` is the search's start; its end is ``t_seconds`` + its length). A
        sighting's probability under this model (its map at the sighting's time) is kept for
        ``log_evidence``."""
        if isinstance(ev, VehicleFound) and ev.credibility >= CONFIRMED:
            self.on_foot = True
        if isinstance(ev, SearchReport):
            if not ev.found:
                span = (ev.end - ev.start).total_seconds()
                net = self.model.network
                slot = net.posts.index(net.post(ev.post_id))
                self.searches.append((slot, t_seconds, t_seconds + span, ev.detection_probability))
            return
        self.sightings_log += self._log_sighting(ev, t_seconds)
        super().observe(ev, t_seconds)

    def _log_sighting(self, ev: Sighting, t_seconds: float) -> float:
        """log of ``(1 - c) + c * E[exp(-d^2 / (2 radius^2))]`` over this model's map at
        ``t_seconds``: the sighting's probability, with the particles' kernel."""
        net = self.model.network
        w, _ = self._weights(max(t_seconds, self.anchor.t))
        nodes = np.flatnonzero(w)
        d = haversine_m(ev.lat, ev.lon, net.node_lat[nodes], net.node_lon[nodes])
        near = float(np.dot(w[nodes], np.exp(-0.5 * (d / ev.radius_m) ** 2))) / float(w.sum())
        c = ev.credibility
        return math.log(max((1.0 - c) + c * near, 1e-300))

    def _weights(self, t: float) -> tuple[FloatArray, FloatArray]:
        """(weights, uniform): the nodes reachable by ``t`` weighed down behind fruitless
        searches that ended by then, and the same nodes unweighed (the anchor alone when
        nothing is reached). The last answer is kept: the map and ``log_evidence`` share it."""
        key = (t, len(self.searches), self.anchor.t, self.anchor.node, self.on_foot)
        if self._last is not None and self._last[0] == key:
            return self._last[1], self._last[2]
        uniform = (self.arrival <= t).astype(np.float64)
        if not uniform.any():
            uniform[self.anchor.node] = 1.0
        w = uniform.copy()
        for slot, a, b, pd in self.searches:
            shadow = self._shadow(slot, b)
            if b > t or b <= self.anchor.t or shadow is None:
                continue
            arr = float(self.model.posts_catchment.first_arrival(self.arrival)[slot])
            passed = (b - max(a, arr)) / max(b - arr, 1.0)
            w[shadow] *= 1.0 - pd * min(1.0, max(0.0, passed))
        if float(w.sum()) <= 0.0:
            w = uniform.copy()
        self._last = (key, w, uniform)
        return w, uniform

    def node_probability(self) -> FloatArray:
        """Over the nodes reachable by now: uniform, weighed down behind fruitless searches."""
        w, _ = self._weights(self.t)
        return w / float(w.sum())

    def log_evidence(self) -> float:
        """Log of the probability this model gives the sightings (each when told) and the
        fruitless searches (jointly, over the nodes reachable by now): its marginal
        likelihood, to weigh it against the particles' (``ParticleFilter.log_evidence``)."""
        w, uniform = self._weights(self.t)
        searches = math.log(max(float(w.sum()) / float(uniform.sum()), 1e-300))
        return self.sightings_log + searches

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
