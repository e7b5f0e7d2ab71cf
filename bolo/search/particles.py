"""The particle set: one array per state field, and how particles are born.

A particle is a suspect hypothesis: the node it is at (or the tail of the arc it is on), the arc
and the seconds left on it, its destination, a speed factor (multiplier of the nominal arc
speed), when it starts moving and when a hiding period ends (seconds since the case epoch), the
travel seconds left before its next hiding period, and whether it is on foot (vehicle found).

Particles are kept sorted by destination (at birth; resampling keeps the order): the motion
kernel then reads one destination's row of the distance table for a run of particles, which
stays in cache (Porto, measured with the earlier kernel: 151 -> 128 ns per arc at one thread).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from bolo.search.case import CaseError, HintKind, SearchCase
from bolo.search.explain import hint_label
from bolo.search.geo import bearing_deg, dijkstra, spread_nodes
from bolo.search.kernels import MAX_EVENTS, nearest_node_index, seed_states
from bolo.search.network_model import NetworkModel, heading_factor

# Motion assumptions of the filter (documented in docs/search-api.md). They are generic
# behaviour priors, not fitted to any region or to the simulator.
SPEED_LOG_MEAN = -0.1  # drivers are a little slower than the nominal speed on average
SPEED_LOG_SD = 0.3
DEPARTURE_MEAN_S = 1200.0  # time from the last-known moment to leaving, mean 20 min
STAY_SHARE = 0.05  # share of hypotheses in which the suspects stay put
EXIT_SHARE = 0.5  # prior mass on leaving the region vs going to a place inside it
HIDE_RATE_PER_S = 1.0 / (6 * 3600.0)  # a hiding period every ~6 h of travel
LOCAL_PLACES = 4  # destinations spread over an island no other destination lies on

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Particles:
    """State arrays of ``n`` particles (see module docstring)."""

    node: IntArray
    arc: IntArray
    rem: FloatArray
    dur: FloatArray
    dest: IntArray
    speed: FloatArray
    hide_until: FloatArray
    start: FloatArray
    done: npt.NDArray[np.uint8]
    rng: npt.NDArray[np.uint64]
    hide_left: FloatArray
    foot: npt.NDArray[np.uint8]

    @property
    def n(self) -> int:
        """Number of particles."""
        return int(self.node.shape[0])

    def copy(self) -> Particles:
        """A deep copy."""
        return Particles(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def take(self, idx: IntArray) -> Particles:
        """The particles at positions ``idx`` (copies)."""
        return Particles(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def arrays(self) -> tuple[npt.NDArray[Any], ...]:
        """The state arrays in the order the motion kernel reads them (see motion.advance)."""
        return (
            self.node,
            self.arc,
            self.rem,
            self.dur,
            self.dest,
            self.speed,
            self.hide_until,
            self.start,
            self.done,
            self.rng,
            self.hide_left,
            self.foot,
        )

    def assign(self, idx: IntArray, other: Particles) -> None:
        """Overwrite particles ``idx`` with ``other`` (same length as idx)."""
        for f in fields(self):
            getattr(self, f.name)[idx] = getattr(other, f.name)


@dataclass
class Prior:
    """Destination prior of a case: destination nodes, their travel-time table and weights."""

    dest_nodes: IntArray
    dist: npt.NDArray[np.float32]
    weights: FloatArray  # with the hints
    is_exit: npt.NDArray[np.uint8]
    hint_factors: list[tuple[str, FloatArray]]  # per hint: p_with / p_without per destination

    def __post_init__(self) -> None:
        self.cdf: FloatArray = np.cumsum(self.weights)
        self.cdf[-1] = 1.0


def build_prior(model: NetworkModel, case: SearchCase, origin: int) -> Prior:
    """The destination prior of ``case``: exits and places, reshaped by its hints."""
    nodes = model.dest_nodes
    dist = model.dist
    kinds = list(model.dest_kind)
    if not any(np.concatenate(_reachable(kinds, dist[:, origin], nodes, origin))):
        # An island (or enclave) no exit, place or spread destination lies on: its own
        # spread nodes are the places the suspects can go.
        local = _local_places(model, origin)
        nodes = np.concatenate([nodes, np.asarray(local, dtype=np.int64)])
        dist = np.vstack([dist, *(model.time_to(n)[None, :] for n in local)])
        kinds += ["place"] * len(local)
    hint_row = len(kinds)
    dest_hints = [h for h in case.hints if h.kind == HintKind.DESTINATION]
    extra = []
    for h in dest_hints:
        node = int(nearest_node_index(model.network.node_lat, model.network.node_lon, h.lat, h.lon))
        extra.append((node, model.time_to(node)))
    if extra:
        nodes = np.concatenate([nodes, np.asarray([e[0] for e in extra], dtype=np.int64)])
        dist = np.vstack([dist, np.stack([e[1] for e in extra])])
        kinds += ["hint"] * len(extra)
    base = _base_weights(kinds, dist[:, origin], nodes, origin)
    factors: list[tuple[str, FloatArray]] = []
    w = base.copy()
    lat, lon = model.network.node_lat, model.network.node_lon
    bearings = bearing_deg(lat[origin], lon[origin], lat[nodes], lon[nodes])
    for h in case.hints:
        old = w / w.sum()
        if h.kind == HintKind.DESTINATION:
            # A destination tip keeps 1 - w of the prior and puts w on its own destination.
            new = (1.0 - h.weight) * old
            new[hint_row] += h.weight
            hint_row += 1
        else:
            new = old * heading_factor(bearings, h.bearing_deg, h.weight)
            new /= new.sum()
        ratio = np.where(old > 0, new / np.where(old > 0, old, 1.0), 1e6)
        factors.append((hint_label(h), ratio))
        w = new
    is_exit = np.asarray([k == "exit" for k in kinds], dtype=np.uint8)
    return Prior(
        dest_nodes=nodes, dist=dist, weights=w / w.sum(), is_exit=is_exit, hint_factors=factors
    )


def _base_weights(
    kinds: list[str], to_dest: npt.NDArray[np.float32], nodes: IntArray, origin: int
) -> FloatArray:
    is_exit, is_place = _reachable(kinds, to_dest, nodes, origin)
    w = np.zeros(len(kinds))
    if is_exit.any() and is_place.any():
        w[is_exit] = EXIT_SHARE / is_exit.sum()
        w[is_place] = (1 - EXIT_SHARE) / is_place.sum()
    elif is_exit.any() or is_place.any():
        w[is_exit | is_place] = 1.0
    else:
        raise CaseError("nothing on the network can be reached from the last-known place")
    return w


def _reachable(
    kinds: list[str], to_dest: npt.NDArray[np.float32], nodes: IntArray, origin: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which destinations are exits, and which places, reachable from ``origin``."""
    reach = np.isfinite(to_dest) & (nodes != origin)
    is_exit = np.asarray([k == "exit" for k in kinds], dtype=np.bool_) & reach
    is_place = np.asarray([k in ("town", "place") for k in kinds], dtype=np.bool_) & reach
    return is_exit, is_place


def _local_places(model: NetworkModel, origin: int) -> list[int]:
    """Up to LOCAL_PLACES nodes spread over the part of the network reachable from ``origin``
    (farthest-point sample), not ``origin`` itself."""
    net = model.network
    times = dijkstra(net.indptr, net.indices, net.arc_seconds, model.allowed, [origin])
    reach = np.flatnonzero(np.isfinite(times))
    reach = reach[reach != origin]
    return spread_nodes(net.node_lat, net.node_lon, reach, LOCAL_PLACES, origin)[1:]


def spawn(
    prior: Prior, n: int, node: int, t_start: float, t_end: float, seed: int, stream: int
) -> Particles:
    """Born ``n`` particles at ``node``, leaving between t_start and t_end (+ departure delay).

    Destinations are drawn from the prior, speed factors log-normal; a share STAY_SHARE of
    them never leaves (``done`` set), which keeps the picture honest when suspects hide.
    """
    rng = np.random.default_rng([seed, stream])
    # Sorted by destination (see the module doc); the streams below follow the sorted order.
    dest = np.sort(rng.choice(prior.weights.shape[0], size=n, p=prior.weights).astype(np.int64))
    start = rng.uniform(t_start, max(t_start, t_end), size=n)
    start += rng.exponential(DEPARTURE_MEAN_S, size=n)
    done = (rng.random(n) < STAY_SHARE).astype(np.uint8)
    return Particles(
        node=np.full(n, node, dtype=np.int64),
        arc=np.full(n, -1, dtype=np.int64),
        rem=np.zeros(n),
        dur=np.zeros(n),
        dest=dest,
        speed=np.exp(rng.normal(SPEED_LOG_MEAN, SPEED_LOG_SD, size=n)),
        hide_until=np.zeros(n),
        start=start,
        done=done,
        rng=seed_states(int(seed * 1_000_003 + stream) % (2**62), n),
        hide_left=rng.exponential(1.0 / HIDE_RATE_PER_S, size=n),
        foot=np.zeros(n, dtype=np.uint8),
    )


def empty_events(n: int) -> tuple[npt.NDArray[np.int32], FloatArray, npt.NDArray[np.int32]]:
    """A fresh event buffer (slot, time, count) for ``n`` particles."""
    return (
        np.full((n, MAX_EVENTS), -1, dtype=np.int32),
        np.full((n, MAX_EVENTS), math.inf),
        np.zeros(n, dtype=np.int32),
    )
