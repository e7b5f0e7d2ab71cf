"""Run the strategies on simulated abductions and score them.

Every STEP_S simulated seconds each strategy re-chooses its K active posts from what it has been
told so far (``Scenario.observed`` plus the search reports of its own posts). An active post the
suspects pass detects them with the post's true probability (the same random draw for every
strategy); a post that found nothing files a search report at the end of its shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import h3
import numpy as np

from bolo.network.graph import Network
from bolo.search.network_model import H3_RESOLUTION, network_model
from bolo.search.picture import DEFAULT_HORIZON_H, SearchPicture, Strategy
from bolo.search.sim.metrics import map_score
from bolo.search.sim.scenario import HORIZON_S, Observed, Scenario

STEP_S = 1800.0
STATED_PD = 0.7


@dataclass
class CaseResult:
    """What one strategy achieved on one scenario."""

    intercepted_minutes: float | None
    search_costs: list[float] = field(default_factory=list)
    map_scores: list[float] = field(default_factory=list)


def truth_passes(
    net: Network, sc: Scenario, modes: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(representative post slot, seconds since abduction) of every post the suspects pass."""
    model = network_model(net, modes)
    tr = sc.truth
    groups = model.watch[tr.node[1:], tr.mode[1:]]
    keep = groups >= 0
    at, slots = model.expand(groups[keep].astype(np.int64))
    pairs = np.unique(np.stack([at, model.post_rep[slots]]), axis=1)  # by arrival, then post
    return pairs[1].astype(np.int64), tr.arrive[1:][keep][pairs[0]]


class _Unreachable(Exception):
    """Scoring shortcut: the suspects will pass no post again (left or settled)."""


class _Detector:
    """Common random numbers: the same post at the same moment detects in every strategy."""

    def __init__(self, seed: int, index: int) -> None:
        self.seed, self.index = seed, index

    def detects(self, rep: int, t: float) -> bool:
        pd = np.random.default_rng([self.seed, self.index, rep, 7]).uniform(0.5, 0.9)
        u = np.random.default_rng([self.seed, self.index, rep, int(t)]).random()
        return bool(u < pd)


def run_strategy(
    net: Network,
    sc: Scenario,
    strategy: Strategy,
    *,
    budget: int,
    seed: int,
    particles: int,
    score: bool = True,
) -> CaseResult:
    """Run one strategy on one scenario for 24 h after the report."""
    modes = tuple(sc.observed.case["modes"])
    model = network_model(net, modes)
    reps, times = truth_passes(net, sc, modes)
    detector = _Detector(seed, sc.index)
    cells = model.node_cells() if score else None
    result = CaseResult(None)

    def policy_step(pic: SearchPicture, t_rel: float) -> list[int]:
        order = [int(s) for s in pic.ranked_slots()]
        if score and cells is not None:
            _score_step(net, sc, pic, order, model.post_rep, reps, times, t_rel, cells, result)
        return order

    last_pass = float(times[-1]) if times.size else -1.0

    def detect(active: list[int], t0: float, t1: float) -> float | None:
        if t0 > last_pass:
            raise _Unreachable  # the suspects pass no post any more: nothing can change

        active_reps = {int(model.post_rep[s]) for s in active}
        hit = (times >= t0) & (times < t1)
        for r, tau in zip(reps[hit], times[hit], strict=True):
            if int(r) in active_reps and detector.detects(int(r), float(tau)):
                return float(tau)
        return None

    try:
        result.intercepted_minutes = run_policy(
            net,
            sc.observed,
            sc.abducted,
            strategy,
            budget=budget,
            seed=seed,
            particles=particles,
            policy_step=policy_step,
            detect=detect,
        )
    except _Unreachable:
        result.intercepted_minutes = None
    return result


def run_policy(
    net: Network,
    observed: Observed,
    abducted: datetime,
    strategy: Strategy,
    *,
    budget: int,
    seed: int,
    particles: int,
    policy_step: Any,
    detect: Any,
    horizon_hours: float = DEFAULT_HORIZON_H,
) -> float | None:
    """The alert loop. The strategy reads only ``observed`` and its own posts' reports.
    The picture is built with ``horizon_hours`` (default SearchPicture's, as an outside
    harness that sets none) and ranks for it.

    Returns minutes from the report to interception, or None when not intercepted in 24 h.
    """
    pic = SearchPicture(
        net,
        observed.case,
        strategy.value,
        seed,
        particles=particles,
        horizon_hours=horizon_hours,
    )
    stream = list(observed.stream)
    t = observed.report_time
    end = t + timedelta(seconds=HORIZON_S)
    while t < end:
        while stream and stream[0][0] <= t:
            pic.observe(stream.pop(0)[1])
        pic.advance(t)
        t_rel = (t - abducted).total_seconds()
        active = policy_step(pic, t_rel)[:budget]
        tau = detect(active, t_rel, t_rel + STEP_S)
        if tau is not None:
            return (abducted + timedelta(seconds=tau) - observed.report_time).total_seconds() / 60
        t_next = t + timedelta(seconds=STEP_S)
        for s in active:
            report = {
                "kind": "search",
                "post_id": net.posts[s].post_id,
                "from": t.isoformat(),
                "to": t_next.isoformat(),
                "detection_probability": STATED_PD,
                "found": False,
            }
            stream.append((t_next, report))
        stream.sort(key=lambda x: x[0])
        t = t_next
    return None


def _score_step(
    net: Network,
    sc: Scenario,
    pic: SearchPicture,
    order: list[int],
    post_rep: np.ndarray,
    reps: np.ndarray,
    times: np.ndarray,
    t_rel: float,
    cells: np.ndarray,
    result: CaseResult,
) -> None:
    ahead = times >= t_rel
    if ahead.any():
        nxt = int(reps[ahead][0])
        pos = next((i for i, s in enumerate(order) if int(post_rep[s]) == nxt), len(order))
        result.search_costs.append(pos / max(1, len(order)))
    lat, lon = sc.truth.position(net, t_rel)
    true_cell = np.int64(np.uint64(h3.str_to_int(h3.latlng_to_cell(lat, lon, H3_RESOLUTION))))
    result.map_scores.append(map_score(cells, pic.node_probability(), int(true_cell)))
