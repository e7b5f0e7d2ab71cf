"""SearchPicture: the stable entry point other tools drive (see docs/search-api.md).

picture = SearchPicture(network, case, strategy="particle", seed=0)
picture.observe({"kind": "search", "post_id": "kilju", ...})
picture.advance(datetime(2026, 4, 1, 6, tzinfo=UTC))
picture.rank(5)  # [{"post_id", "probability", "eta", "reason"}, ...]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import h3
import numpy as np
import numpy.typing as npt

from bolo.network.graph import Network
from bolo.search.baselines import RadiusBaseline, ReachabilityBaseline
from bolo.search.case import (
    CaseError,
    Evidence,
    SearchCase,
    SearchReport,
    Sighting,
    parse_case,
    parse_evidence,
    parse_time,
)
from bolo.search.explain import (
    EvidenceRef,
    Placement,
    Why,
    WhyCode,
    baseline_why,
    english,
    evidence_refs,
)
from bolo.search.forecast import (
    discounted_mass,
    evidence_effects,
    forecast,
    forecast_within,
    greedy_order,
)
from bolo.search.geo import haversine_m
from bolo.search.hedge import Frontier, frontier_mass
from bolo.search.network_model import network_model
from bolo.search.pfilter import ParticleFilter
from bolo.search.regions import CellMass, cell_mass, region_mask

DEFAULT_PARTICLES = 4000
DEFAULT_HORIZON_H = 2.0
LOOKAHEAD_S = 2 * 3600.0
# The particle picture's doubt in its own motion model: this share of the ranking's objective
# follows the hedge model (bolo.search.hedge) instead, and it is the prior share of the map,
# which the evidence then moves (SearchPicture.hedge_share). Even prior odds between the two
# models: a prior, not fitted to any region.
HEDGE = 0.5


class Strategy(StrEnum):
    """How the picture ranks posts."""

    PARTICLE = "particle"
    REACHABILITY = "reachability"
    RADIUS = "radius"


class SearchPicture:
    """Where the suspects of one case can be, and which posts to alert.

    ``case`` is a dict as documented (or a parsed SearchCase); its evidence is observed at once.
    Times given to ``advance`` must be timezone-aware; the picture starts at the case's
    ``time_earliest``. The same network, case, evidence, strategy and seed give the same ranks.
    """

    def __init__(
        self,
        network: Network,
        case: Mapping[str, Any] | SearchCase,
        strategy: str = "particle",
        seed: int = 0,
        *,
        particles: int = DEFAULT_PARTICLES,
        horizon_hours: float = DEFAULT_HORIZON_H,
        alert_hours: float | None = None,
    ) -> None:
        try:
            self.strategy = Strategy(strategy)
        except ValueError as exc:
            raise CaseError(
                f"unknown strategy {strategy!r}: particle, reachability or radius"
            ) from exc
        if not network.posts:
            raise CaseError(f"network {network.name!r} has no posts to rank")
        self.network = network
        self.case = parse_case(case)
        self.seed = int(seed)
        self.horizon_s = float(horizon_hours) * 3600.0
        # How long the posts ranked now stay alerted; None: the horizon. Re-ranking every
        # 30 min, a post chosen for its passes over the 2 h horizon tends to be chosen again
        # until the suspects pass it, so it is alerted about that long (bench/RESULTS.md:
        # ranking for the 30-min epoch alone intercepts fewer).
        self.alert_s = None if alert_hours is None else float(alert_hours) * 3600.0
        self.model = network_model(network, self.case.modes)
        self.epoch = self.case.time_earliest
        self.t = 0.0
        self._times: list[tuple[float, float]] = []
        self._pf: ParticleFilter | None = None
        self._base: RadiusBaseline | ReachabilityBaseline | None = None
        self._frontier: Frontier | None = None
        # The map at the current time and evidence, read once for cells, regions and callers:
        # (the state it was computed for, per-node probability, its cells and their mass).
        self._changes = 0
        self._map: tuple[int, npt.NDArray[np.float64], CellMass] | None = None
        if self.strategy == Strategy.PARTICLE:
            self._pf = ParticleFilter(self.model, self.case, int(particles), self.seed)
            self._frontier = Frontier(self.model, self.case)
        elif self.strategy == Strategy.RADIUS:
            self._base = RadiusBaseline(self.model, self.case)
        else:
            self._base = ReachabilityBaseline(self.model, self.case)
        for ev in self.case.evidence:
            self.observe(ev)

    # ---- input ------------------------------------------------------------------------
    def _sec(self, t: datetime) -> float:
        return (t - self.epoch).total_seconds()

    @property
    def now(self) -> datetime:
        """The picture's current time (timezone-aware)."""
        return self.epoch + timedelta(seconds=self.t)

    def observe(self, evidence: Mapping[str, Any] | Evidence) -> None:
        """Add one sighting, search report or found vehicle (a dict as documented, or parsed)."""
        ev = evidence if isinstance(evidence, Sighting | SearchReport) else parse_evidence(evidence)
        if isinstance(ev, SearchReport):
            try:
                self.network.post(ev.post_id)
            except KeyError as exc:
                raise CaseError(f"unknown post {ev.post_id!r} in search report") from exc
            times = (max(0.0, self._sec(ev.start)), max(0.0, self._sec(ev.end)))
        else:
            times = (max(0.0, self._sec(ev.time)),) * 2
        self._times.append(times)
        self._changes += 1
        if self._pf is not None:
            self._pf.add_evidence(ev, times[0])
        if self._frontier is not None:
            self._frontier.observe(ev, times[0])
        elif self._base is not None:
            self._base.observe(ev, times[0])

    def advance(self, to: datetime | str) -> None:
        """Move the picture to time ``to`` (aware datetime or ISO string); never backwards."""
        t = self._sec(parse_time(to, "advance(to)"))
        if t > self.t:
            self.t = t
            self._changes += 1
        self._sync()

    def _sync(self) -> None:
        if self._pf is not None:
            self._pf.advance_to(self.t, self._times)
            self._pf.checkpoint()
        if self._frontier is not None:
            self._frontier.advance(self.t)
        elif self._base is not None:
            self._base.advance(self.t)

    # ---- output -----------------------------------------------------------------------
    def _iso(self, seconds: float) -> str | None:
        if not math.isfinite(seconds):
            return None
        return (self.epoch + timedelta(seconds=round(float(seconds)))).isoformat()

    def rank(
        self, budget: int, *, horizon_hours: float | None = None, alert_hours: float | None = None
    ) -> list[dict[str, Any]]:
        """The ``budget`` posts to alert now, best first, for a catch while they are alerted
        (the next ``alert_hours``; default the picture's, else the horizon).

        Each item: ``post_id``; ``probability`` that the suspects pass the post within the
        horizon (particle) or the baseline's uniform share; ``eta`` (ISO time or None);
        ``reason`` in words (why this rank, probability, expected time, evidence that moved
        it); ``alert_probability`` that they pass it while alerted and ``gain``, what it adds
        to the chance of a catch over the posts ranked above it (baselines: their share).
        """
        if budget <= 0:
            return []
        order, prob, eta, reasons, placed = self._ranked(budget, horizon_hours, alert_hours)
        posts = self.network.posts
        out = []
        for s in order[:budget]:
            why = reasons.get(s)
            item: dict[str, Any] = {
                "post_id": posts[s].post_id,
                "probability": float(prob[s]),
                "eta": self._iso(eta[s]),
                "reason": "" if why is None else english(why),
            }
            if s in placed:
                item["alert_probability"] = placed[s].alert_probability
                item["gain"] = placed[s].gain
            else:
                item["alert_probability"] = item["gain"] = float(prob[s])
            if why is not None:
                item["why"] = why
            out.append(item)
        return out

    def ranked_slots(
        self, *, horizon_hours: float | None = None, alert_hours: float | None = None
    ) -> npt.NDArray[np.int64]:
        """Every post slot (index into network.posts) in the strategy's order, best first."""
        order, *_ = self._ranked(len(self.network.posts), horizon_hours, alert_hours, False)
        return np.asarray(order, dtype=np.int64)

    def _ranked(
        self,
        budget: int,
        horizon_hours: float | None,
        alert_hours: float | None,
        explain: bool = True,
    ) -> tuple[
        list[int],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
        dict[int, Why],
        dict[int, Placement],
    ]:
        self._sync()
        if self._base is not None:
            b_order, score, b_eta = self._base.order()
            b_why = self._baseline_reasons(b_order[:budget]) if explain else {}
            return [int(x) for x in b_order], score, b_eta, b_why, {}
        assert self._pf is not None and self._frontier is not None
        horizon = self.horizon_s if horizon_hours is None else horizon_hours * 3600.0
        alert = horizon if self.alert_s is None else self.alert_s
        alert = alert if alert_hours is None else alert_hours * 3600.0
        # One forecast over a longer look-ahead: the alert window chooses posts by coverage,
        # the horizon gives each post's probability, the rest orders the posts coverage leaves
        # over (by discounted mass).
        fc = forecast(self._pf, max(horizon, alert, LOOKAHEAD_S))
        t_now = self._pf.state.t
        soon = forecast_within(fc, t_now + horizon)
        alerted = forecast_within(fc, t_now + alert)
        n_posts = len(self.network.posts)
        rep = self._rep()
        frontier = frontier_mass(self._frontier, n_posts, t_now, alert)
        picks = greedy_order(
            alerted, n_posts, rep, budget, share=1.0 - HEDGE, extra=HEDGE * frontier
        )
        chosen = [p.slot for p in picks]
        ahead = forecast_within(fc, t_now + max(alert, LOOKAHEAD_S))
        later = discounted_mass(ahead, n_posts, rep, t_now, alert)
        order = chosen + self._fallback_order(later, chosen)
        why: dict[int, Why] = {}
        placed: dict[int, Placement] = {}
        if explain:
            refs = evidence_refs(self._pf.evidence, self.case.hints)
            for k, s in enumerate(order[:budget]):
                pick = picks[k] if k < len(picks) else None
                placed[s] = Placement(
                    k + 1, pick, 1.0 - HEDGE, float(alerted.probability[s]), alert, later[s]
                )
                why[s] = self._particle_why(placed[s], soon, s, rep, horizon, refs)
        return order, soon.probability, soon.eta, why, placed

    def _rep(self) -> npt.NDArray[np.int64]:
        return self.model.post_rep

    def _fallback_order(self, prob: npt.NDArray[np.float64], chosen: list[int]) -> list[int]:
        """Posts not picked by coverage: by probability, then nearest to the particle mass."""
        assert self._pf is not None
        net = self.network
        st = self._pf.state
        clat = float(np.dot(st.weights, net.node_lat[st.parts.node]))
        clon = float(np.dot(st.weights, net.node_lon[st.parts.node]))
        plat = np.asarray([p.lat for p in net.posts])
        plon = np.asarray([p.lon for p in net.posts])
        d = haversine_m(clat, clon, plat, plon)
        order = np.lexsort((d, -prob))
        taken = set(chosen)
        return [int(s) for s in order if int(s) not in taken]

    def _particle_why(
        self,
        placed: Placement,
        fc: Any,
        s: int,
        rep: npt.NDArray[np.int64],
        horizon: float,
        refs: dict[str, EvidenceRef],
    ) -> Why:
        """Post ``s``'s Why: its probability within ``horizon`` seconds, expected time, and
        the evidence that moved it most (described by ``refs``, ``evidence_refs``)."""
        assert self._pf is not None
        p = float(fc.probability[s])
        eta = self._iso(float(fc.eta[s])) if p > 0 else None
        effects = [e for e in evidence_effects(self._pf, fc, int(rep[s])) if abs(e[1]) >= 0.005]
        return placed.why(horizon, p, eta, effects[:3], refs)

    def _baseline_reasons(self, slots: Any) -> dict[int, Why]:
        if isinstance(self._base, RadiusBaseline):
            km = self._base.radius_m() / 1000.0
            return {int(s): baseline_why(WhyCode.RADIUS, km) for s in slots}
        return {int(s): baseline_why(WhyCode.REACHABILITY) for s in slots}

    def node_probability(self) -> npt.NDArray[np.float64]:
        """Probability per network node at the current time (sums to 1). Computed once per
        time and evidence (a read-only array shared by the calls until either changes)."""
        return self._read_map()[0]

    def _cells(self) -> CellMass:
        return self._read_map()[1]

    def _read_map(self) -> tuple[npt.NDArray[np.float64], CellMass]:
        self._sync()
        if self._map is not None and self._map[0] == self._changes:
            return self._map[1], self._map[2]
        p = self._node_map()
        p.setflags(write=False)
        cells = cell_mass(self.model.node_cells(), p)
        self._map = (self._changes, p, cells)
        return p, cells

    def _node_map(self) -> npt.NDArray[np.float64]:
        if self._pf is not None:
            assert self._frontier is not None
            h = self.hedge_share()
            return (1.0 - h) * self._pf.node_probability() + h * self._frontier.node_probability()
        assert self._base is not None
        return np.array(self._base.node_probability(), dtype=np.float64)

    def hedge_share(self) -> float:
        """The hedge model's share of the map (particle strategy; 0 for the baselines): its
        posterior probability against the particles' motion model, from even prior odds
        (``HEDGE``) and the probability each gave the sightings and fruitless searches."""
        self._sync()
        if self._pf is None or self._frontier is None:
            return 0.0
        log_odds = math.log(HEDGE / (1.0 - HEDGE))
        log_odds += self._frontier.log_evidence() - self._pf.log_evidence()
        return 1.0 / (1.0 + math.exp(-min(700.0, max(-700.0, log_odds))))

    def cell_probability(self) -> dict[str, float]:
        """Probability per h3 cell (resolution 7, hex string ids) with non-zero mass."""
        keys, mass = self._cells()
        return {
            h3.int_to_str(int(np.uint64(k))): float(m)
            for k, m in zip(keys.view(np.uint64), mass, strict=True)
            if m > 0
        }

    def probability_region(self, level: float = 0.9) -> list[str]:
        """The highest-probability region: the fewest h3 cells (resolution 7, hex ids), most
        probable first, holding at least ``level`` (0-1) of the probability. A calibrated
        picture has the suspects inside it a share ``level`` of the time."""
        keys, mass = self._cells()
        inside = region_mask(mass, level)
        order = np.argsort(-mass[inside], kind="stable")
        return [h3.int_to_str(int(np.uint64(k))) for k in keys[inside][order].view(np.uint64)]
