"""The two baselines the particle filter is measured against: `radius` and `reachability`.

Both keep one anchor: the last-known place and time, replaced by any confirmed sighting
(credibility >= CONFIRMED) that is later. They cannot use search reports or unconfirmed tips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bolo.search.case import Evidence, SearchCase, Sighting
from bolo.search.geo import dijkstra, haversine_m
from bolo.search.kernels import nearest_node_index
from bolo.search.network_model import NetworkModel

CONFIRMED = 0.9
FloatArray = npt.NDArray[np.float64]


@dataclass
class Anchor:
    """Where and when (seconds since the case epoch) the suspects were last known to be."""

    lat: float
    lon: float
    t: float
    node: int


class Baseline:
    """Common part: the anchor, moved by confirmed sightings known so far."""

    def __init__(self, model: NetworkModel, case: SearchCase) -> None:
        net = model.network
        self.model = model
        self.case = case
        node = int(nearest_node_index(net.node_lat, net.node_lon, case.lat, case.lon))
        self.anchor = Anchor(case.lat, case.lon, 0.0, node)
        self.t = 0.0
        self.post_lat = np.asarray([p.lat for p in net.posts], dtype=np.float64)
        self.post_lon = np.asarray([p.lon for p in net.posts], dtype=np.float64)
        self.catchment = model.posts_catchment

    def observe(self, ev: Evidence, t_seconds: float) -> None:
        """Take a confirmed sighting as the new anchor when it is the latest known."""
        if isinstance(ev, Sighting) and ev.credibility >= CONFIRMED and t_seconds > self.anchor.t:
            net = self.model.network
            node = int(nearest_node_index(net.node_lat, net.node_lon, ev.lat, ev.lon))
            self.anchor = Anchor(ev.lat, ev.lon, t_seconds, node)
            self._moved()

    def _moved(self) -> None:
        """Hook for subclasses caching anchor-dependent arrays."""

    def advance(self, t_seconds: float) -> None:
        """Set the current time (seconds since the case epoch)."""
        self.t = t_seconds


class RadiusBaseline(Baseline):
    """Posts inside the circle v_max x elapsed around the anchor, nearest the edge first."""

    def __init__(self, model: NetworkModel, case: SearchCase) -> None:
        super().__init__(model, case)
        net = model.network
        ok = (model.allowed == 1) & (net.arc_seconds > 0)
        speeds = net.arc_metres[ok] / net.arc_seconds[ok]
        self.v_max = float(np.percentile(speeds, 99)) if speeds.size else 30.0

    def radius_m(self) -> float:
        """The circle's radius in metres at the current time."""
        return self.v_max * max(0.0, self.t - self.anchor.t)

    def order(self) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
        """All post slots in ranked order, with a score and an eta (nan) per post."""
        r = self.radius_m()
        d = haversine_m(self.anchor.lat, self.anchor.lon, self.post_lat, self.post_lon)
        inside = d <= r
        key = np.where(inside, r - d, 1e12 + (d - r))
        order = np.argsort(key, kind="stable").astype(np.int64)
        n_in = max(1, int(inside.sum()))
        score = np.where(inside, 1.0 / n_in, 0.0)
        return order, score, np.full(d.shape[0], math.nan)

    def node_probability(self) -> FloatArray:
        """Uniform over the nodes inside the circle."""
        net = self.model.network
        d = haversine_m(self.anchor.lat, self.anchor.lon, net.node_lat, net.node_lon)
        inside = d <= self.radius_m()
        if not inside.any():
            inside[self.anchor.node] = True
        return inside / float(inside.sum())


class ReachabilityBaseline(Baseline):
    """Posts whose earliest possible arrival is closest to now and still ahead."""

    def __init__(self, model: NetworkModel, case: SearchCase) -> None:
        super().__init__(model, case)
        self._moved()

    def _moved(self) -> None:
        net = self.model.network
        self.arrival = self.anchor.t + dijkstra(
            net.indptr, net.indices, net.arc_seconds, self.model.allowed, [self.anchor.node]
        )

    def order(self) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
        """All post slots in ranked order, with a score and the earliest arrival per post
        (at the first node of its catchment the suspects can reach)."""
        a = self.catchment.first_arrival(self.arrival)
        ahead = np.isfinite(a) & (a >= self.t)
        key = np.where(ahead, a - self.t, np.where(np.isfinite(a), 1e12 + (self.t - a), 1e15))
        order = np.argsort(key, kind="stable").astype(np.int64)
        n_ahead = max(1, int(ahead.sum()))
        return order, np.where(ahead, 1.0 / n_ahead, 0.0), np.where(np.isfinite(a), a, math.nan)

    def node_probability(self) -> FloatArray:
        """Uniform over the nodes reachable by now."""
        inside = self.arrival <= self.t
        if not inside.any():
            inside[self.anchor.node] = True
        return inside / float(inside.sum())
