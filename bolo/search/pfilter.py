"""The particle filter: motion between evidence times, evidence weighting, resampling, rewinds.

Evidence may arrive late (a sighting reported hours after it happened). The filter keeps
checkpoints of its state; when evidence older than the current time arrives it restores the
latest checkpoint before that evidence and replays forward with everything it knows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bolo.network.travel import nearest_node
from bolo.search.case import Evidence, SearchCase, SearchReport, Sighting, VehicleFound
from bolo.search.explain import evidence_label
from bolo.search.kernels import (
    nearest_node_index,
    reseed_copies,
    reweigh,
    sighting_likelihood,
    systematic_indices,
)
from bolo.search.late import divide_out, never_resampled
from bolo.search.motion import MotionParams, advance, arc_table, noise_table
from bolo.search.network_model import NetworkModel, post_watch_modes
from bolo.search.particle_map import particle_map
from bolo.search.particles import (
    HIDE_RATE_PER_S,
    Particles,
    Prior,
    build_prior,
    empty_events,
    spawn,
)

HIDE_MEAN_S = 2 * 3600.0
DWELL_MEAN_S = 4 * 3600.0  # stay at a place inside the region before moving on
DETOUR_SCALE = 0.15  # softmax scale of route detours, relative to arc time
ARC_NOISE = 0.15  # log-normal noise of each arc's travel time
UNEXPLAINED = 1e-3  # kernel mass below which a sighting re-seeds particles
MAX_CHECKPOINTS = 64
CHECKPOINT_EVERY_S = 600.0
RESORT_SHARE = 50  # re-sort by destination when > 1/50 are out of order

FloatArray = npt.NDArray[np.float64]


@dataclass
class _State:
    t: float
    parts: Particles
    weights: FloatArray
    factors: list[tuple[str, FloatArray]]
    open_flags: dict[int, npt.NDArray[np.uint8]]
    applied: set[int]
    epoch: int
    # Time of the last change of which particle sits at which index, or of how it moves
    # (resampling, re-seeding, re-sorting, a found vehicle): late evidence can re-weigh the
    # current particles only from a checkpoint taken at or after it (see bolo.search.late).
    generation_t: float = 0.0
    # Evidence index -> (seconds at which it was applied, index in factors or -1 if merged).
    applied_at: dict[int, tuple[float, int]] = field(default_factory=dict)


@dataclass
class ParticleFilter:
    """Particles over one network for one case; times are seconds since ``case.time_earliest``."""

    model: NetworkModel
    case: SearchCase
    n: int
    seed: int
    evidence: list[Evidence] = field(default_factory=list)

    def __post_init__(self) -> None:
        net = self.model.network
        # The suspects join the network where an arc leaves (not at a cut carriageway's end).
        self.origin = nearest_node(net, self.case.lat, self.case.lon)[0]
        self.prior: Prior = build_prior(self.model, self.case, self.origin)
        window = (self.case.time_latest - self.case.time_earliest).total_seconds()
        parts = spawn(self.prior, self.n, self.origin, 0.0, window, self.seed, 0)
        factors = [(label, f[parts.dest]) for label, f in self.prior.hint_factors]
        self.state = _State(0.0, parts, np.full(self.n, 1.0 / self.n), factors, {}, set(), 0)
        self.checkpoints: list[_State] = []
        self.post_index = {p.post_id: i for i, p in enumerate(net.posts)}
        self._watch = np.full_like(self.model.watch, -1)
        self._no_events = (
            np.full((1, 1), -1, dtype=np.int32),
            np.full((1, 1), math.inf),
            np.zeros(1, dtype=np.int32),
        )
        self._graph = _motion_graph(self.model)
        self._noise = noise_table(ARC_NOISE)
        self._params = MotionParams(HIDE_RATE_PER_S, HIDE_MEAN_S, DETOUR_SCALE, DWELL_MEAN_S)
        # Evidence index -> log of the probability the particles gave it before it was applied
        # (sightings and fruitless searches; a replay after late evidence writes it anew).
        self.log_predictive: dict[int, float] = {}

    # ---- time -------------------------------------------------------------------------
    def add_evidence(self, ev: Evidence, key_seconds: float) -> None:
        """Register evidence. A late sighting re-weighs the current particles by where they
        were at its time when that gives the replayed picture (bolo.search.late); other late
        evidence rewinds to a checkpoint before it and replays."""
        self.evidence.append(ev)
        if key_seconds < self.state.t:
            i = len(self.evidence) - 1
            if not (type(ev) is Sighting and self._reweigh_late(i, ev, key_seconds)):
                self._rewind(key_seconds)

    def _reweigh_late(self, i: int, ev: Sighting, ts: float) -> bool:
        """Apply sighting ``i`` of time ``ts`` (seconds, before the filter's time) by re-weighing
        the current particles by where they were then, when that gives the replayed picture
        (bolo.search.late); return False (nothing changed) otherwise."""
        st = self.state
        base = [c for c in self.checkpoints if st.generation_t <= c.t <= ts]
        later = sorted(v for v in st.applied_at.values() if v[0] > ts)
        if not base or any(k < 0 for _, k in later):
            return False  # no checkpoint to start from, or a search report applied since
        p = base[-1].parts.copy()
        self.move_particles(p, base[-1].t, ts, self._watch, self._no_events)
        factors = [st.factors[k][1] for _, k in later]
        w_ts = divide_out(st.weights, factors)
        like, explained = self._likelihood_of(p, w_ts, ev)
        if explained < UNEXPLAINED and ev.credibility > 0:
            return False  # the replay would re-seed particles at the sighting
        if not never_resampled(w_ts, like, factors, self.n / 2):
            return False
        self.log_predictive[i] = _log_expected(w_ts, like)
        self.checkpoints = [k for k in self.checkpoints if k.t <= ts]
        self._weigh(i, like, evidence_label(ev), at=ts)
        return True

    def _rewind(self, t: float) -> None:
        keep = [c for c in self.checkpoints if c.t <= t]
        self.checkpoints = keep
        if keep:
            self.state = _copy_state(keep[-1])
        else:
            self.__post_init__()

    def checkpoint(self) -> None:
        """Remember the current state so late evidence can be replayed from here.

        At most one checkpoint per CHECKPOINT_EVERY_S: replaying from an earlier one gives the
        same picture (each particle draws its random numbers per arc, whatever the steps).
        """
        if self.checkpoints and self.checkpoints[-1].t == self.state.t:
            self.checkpoints[-1] = _copy_state(self.state)
        elif not self.checkpoints or (self.state.t - self.checkpoints[-1].t >= CHECKPOINT_EVERY_S):
            self.checkpoints.append(_copy_state(self.state))
        if len(self.checkpoints) > MAX_CHECKPOINTS:
            del self.checkpoints[1:3]

    def advance_to(self, t: float, times: list[tuple[float, float]]) -> None:
        """Move to ``t`` seconds, applying evidence whose (start, end) seconds are in ``times``."""
        events: list[tuple[float, int, int]] = []
        st = self.state
        for i, ev in enumerate(self.evidence):
            if i in st.applied:
                continue
            t0, t1 = times[i]
            if isinstance(ev, Sighting):
                if t0 <= t:
                    events.append((t0, 1, i))
            else:
                if i not in st.open_flags and t0 <= t:
                    events.append((t0, 0, i))
                if t1 <= t:
                    events.append((t1, 2, i))
        for et, kind, i in sorted(events):
            self._move(max(et, self.state.t))
            if kind == 0:
                self.state.open_flags[i] = np.zeros(self.n, dtype=np.uint8)
            elif kind == 1:
                self._apply_sighting(i, self.evidence[i])  # type: ignore[arg-type]
            else:
                self._apply_search(i, self.evidence[i])  # type: ignore[arg-type]
        self._move(t)

    # ---- motion -----------------------------------------------------------------------
    def _move(self, t: float) -> None:
        st = self.state
        if t <= st.t:
            return
        net, model, p = self.model.network, self.model, st.parts
        rep = model.post_rep
        slots = {
            int(rep[self.post_index[self.evidence[i].post_id]])  # type: ignore[union-attr]
            for i in st.open_flags
        }
        catch = model.posts_catchment
        for s in slots:  # a searching post watches its whole catchment
            for code in post_watch_modes(net.posts[s].mode):
                self._watch[catch.of(s), code] = model.watch[catch.of(s), code]
        ev_slot, ev_time, ev_n = empty_events(self.n) if slots else self._no_events
        self.move_particles(p, st.t, t, self._watch, (ev_slot, ev_time, ev_n))
        for s in slots:
            self._watch[catch.of(s)] = -1
        for i, flags in st.open_flags.items():
            s = int(rep[self.post_index[self.evidence[i].post_id]])  # type: ignore[union-attr]
            flags |= model.groups_of(s)[ev_slot].any(axis=1).astype(np.uint8)
        st.t = t

    def move_particles(
        self,
        p: Particles,
        t0: float,
        t1: float,
        watch: npt.NDArray[np.int32],
        events: tuple[Any, Any, Any],
    ) -> None:
        """Run the motion kernel on ``p`` from t0 to t1 seconds, recording watched arrivals."""
        prior = self.prior
        advance(
            t0,
            t1,
            p.arrays(),
            self._graph,
            (prior.dist, prior.dest_nodes, prior.is_exit, prior.cdf),
            (watch, events[0], events[1], events[2]),
            self._noise,
            self._params,
        )

    # ---- evidence ---------------------------------------------------------------------
    def _apply_sighting(self, i: int, ev: Sighting) -> None:
        like, explained = self._sighting_likelihood(ev)
        self.log_predictive[i] = _log_expected(self.state.weights, like)
        if explained < UNEXPLAINED and ev.credibility > 0:
            self._reseed_at(ev, i)
            like, _ = self._sighting_likelihood(ev)
        if isinstance(ev, VehicleFound):
            self._weigh(i, like, evidence_label(ev))
            self._leave_vehicle(i, ev)
        else:
            self._weigh(i, like, evidence_label(ev))

    def _leave_vehicle(self, i: int, ev: VehicleFound) -> None:
        """The vehicle is found: a credibility share of the hypotheses (drawn per particle) go
        on without it, at walking pace on roads (trains keep their pace)."""
        st = self.state
        u = np.random.default_rng([self.seed, 19, i, st.epoch]).random(self.n)
        st.parts.foot[u < ev.credibility] = 1
        st.generation_t = st.t

    def _sighting_likelihood(self, ev: Sighting) -> tuple[FloatArray, float]:
        return self._likelihood_of(self.state.parts, self.state.weights, ev)

    def _likelihood_of(
        self, p: Particles, weights: FloatArray, ev: Sighting
    ) -> tuple[FloatArray, float]:
        """Per particle of ``p``, the likelihood of sighting ``ev``; and the weighted kernel
        mass near it (how well the particles explain it)."""
        net = self.model.network
        like, explained = sighting_likelihood(
            p.node,
            p.arc,
            p.rem,
            p.dur,
            net.indices,
            net.node_lat,
            net.node_lon,
            weights,
            ev.lat,
            ev.lon,
            ev.radius_m,
            ev.credibility,
        )
        return like, float(explained)

    def _reseed_at(self, ev: Sighting, i: int) -> None:
        """The particles cannot explain a sighting: move a credibility share of them there."""
        st = self.state
        net = self.model.network
        node = int(nearest_node_index(net.node_lat, net.node_lon, ev.lat, ev.lon))
        k = max(1, round(self.n * ev.credibility * 0.5))
        rng = np.random.default_rng([self.seed, 7, i, st.epoch])
        idx = np.sort(rng.choice(self.n, size=k, replace=False))
        fresh = spawn(self.prior, k, node, st.t, st.t, self.seed, 1000 + i * 31 + st.epoch)
        fresh.start[:] = st.t
        fresh.done[:] = 0
        st.parts.assign(idx, fresh)
        st.weights[idx] = 1.0 / self.n
        st.weights /= st.weights.sum()
        for _, f in st.factors:
            f[idx] = 1.0
        st.generation_t = st.t
        self._sort_by_destination()

    def _apply_search(self, i: int, ev: SearchReport) -> None:
        flags = self.state.open_flags.pop(i).astype(bool)
        pd = ev.detection_probability
        like = np.where(flags, pd, 1.0 - pd) if ev.found else np.where(flags, 1.0 - pd, 1.0)
        if not ev.found:
            self.log_predictive[i] = _log_expected(self.state.weights, like)
        # All searches of one post share one attribution entry, keeping the state small.
        self._weigh(i, like, evidence_label(ev), merge=True)

    def _weigh(
        self, i: int, like: FloatArray, label: str, merge: bool = False, at: float | None = None
    ) -> None:
        # ``at``: the evidence's own time when it is applied late (seconds); else now.
        st = self.state
        factor = np.array(like, dtype=np.float64, copy=None)
        ess = reweigh(st.weights, factor)
        same = [k for k, (lab, _) in enumerate(st.factors) if merge and lab == label]
        if same:
            st.factors[same[0]] = (label, st.factors[same[0]][1] * factor)
        else:
            st.factors.append((label, factor))
        st.applied.add(i)
        st.applied_at[i] = (st.t if at is None else at, -1 if merge else len(st.factors) - 1)
        if ess < self.n / 2:
            self._resample()

    def _resample(self) -> None:
        st = self.state
        st.epoch += 1
        u0 = float(np.random.default_rng([self.seed, 11, st.epoch]).random())
        anc = systematic_indices(st.weights, u0)
        parts = st.parts.take(anc)
        parts.rng = reseed_copies(st.parts.rng, anc, st.epoch)
        jitter = np.random.default_rng([self.seed, 13, st.epoch]).normal(0.0, 0.05, self.n)
        parts.speed *= np.exp(jitter)
        st.parts = parts
        st.weights = np.full(self.n, 1.0 / self.n)
        st.factors = [(label, f[anc]) for label, f in st.factors]
        st.open_flags = {k: v[anc] for k, v in st.open_flags.items()}
        st.generation_t = st.t
        self._sort_by_destination()

    def _sort_by_destination(self) -> None:
        """Restore the destination order the motion kernel's cache use relies on (particles
        that drew a new destination, or were re-seeded, fall out of it)."""
        st = self.state
        dest = st.parts.dest
        if np.count_nonzero(dest[1:] < dest[:-1]) <= dest.shape[0] // RESORT_SHARE:
            return
        order = np.argsort(dest, kind="stable")
        st.generation_t = st.t
        st.parts = st.parts.take(order)
        st.weights = st.weights[order]
        st.factors = [(label, f[order]) for label, f in st.factors]
        st.open_flags = {k: v[order] for k, v in st.open_flags.items()}

    # ---- reading ----------------------------------------------------------------------
    def log_evidence(self) -> float:
        """Log of the probability the particles gave the sightings and fruitless searches
        applied so far, each before it was applied (the motion model's marginal likelihood)."""
        return float(sum(self.log_predictive.values()))

    def node_probability(self) -> FloatArray:
        """Probability per node (sums to 1) of the particles inside the region
        (bolo.search.particle_map)."""
        st = self.state
        return particle_map(self.model, st.parts, st.weights, st.t)


def _log_expected(weights: FloatArray, like: FloatArray) -> float:
    """log E_weights[like]: the probability the particles gave one piece of evidence."""
    total = float(weights.sum())
    expected = float(np.dot(weights, like)) / total if total > 0 else 0.0
    return math.log(max(expected, 1e-300))


def _copy_state(s: _State) -> _State:
    return _State(
        s.t,
        s.parts.copy(),
        s.weights.copy(),
        [(a, b.copy()) for a, b in s.factors],
        {k: v.copy() for k, v in s.open_flags.items()},
        set(s.applied),
        s.epoch,
        s.generation_t,
        dict(s.applied_at),
    )


def _motion_graph(model: NetworkModel) -> tuple[Any, ...]:
    """The graph arrays of the motion kernel (see motion.advance), cached with the model."""
    net = model.network
    key = "search:arc_table:" + ",".join(model.modes)
    tab = net.cache.get(key)
    if not isinstance(tab, np.ndarray):
        tab = arc_table(net.indices, net.arc_seconds, net.arc_mode, model.allowed, DETOUR_SCALE)
        net.cache[key] = tab
    return (net.indptr, net.arc_metres, tab)
