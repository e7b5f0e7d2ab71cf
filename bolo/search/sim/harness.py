"""The evaluation protocol of an outside harness, run on bolo's simulated cases.

Every 30 minutes from the report the strategy re-ranks; its top K posts are active for the next
30 minutes. Suspects passing within CATCH_RADIUS_M of an active post are caught with
probability CATCH_P (one draw per post and epoch, the same for every strategy). Active posts
that caught no one report a fruitless search (stated pd 0.7); sightings and tips arrive when
they become known (``Scenario.observed``). At each re-ranking the picture's highest-probability
regions (LEVELS, resolution-7 h3 cells) are checked against the true position, with the share
of the network's cells they cover (while the suspects are in the region: after they left
through an exit there is no position on the map to check). A case ends at interception,
after 24 h, or once the suspects will pass no post again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import h3
import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from bolo.network.graph import Network
from bolo.search.geo import EARTH_RADIUS_M, haversine_m, unit_xyz
from bolo.search.network_model import H3_RESOLUTION, network_model
from bolo.search.picture import DEFAULT_HORIZON_H, SearchPicture, Strategy
from bolo.search.regions import cell_mass, region_mask
from bolo.search.sim.runner import run_policy
from bolo.search.sim.scenario import Scenario
from bolo.search.sim.truth import Trajectory

CATCH_RADIUS_M = 250.0
CATCH_P = 0.7
SAMPLE_M = 100.0
LEVELS = (0.5, 0.9)


@dataclass
class HarnessResult:
    """One strategy on one case: minutes from report to interception (None: not caught) and,
    per re-ranking, whether the truth lay in each region, the share of cells it covered and
    the probability the picture gave it (at least the level: the region is whole cells)."""

    intercepted_minutes: float | None
    inside: dict[float, list[bool]] = field(default_factory=dict)
    share: dict[float, list[float]] = field(default_factory=dict)
    mass: dict[float, list[float]] = field(default_factory=dict)


def proximity_passes(
    net: Network, truth: Trajectory, radius_m: float = CATCH_RADIUS_M
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(post slot, seconds since abduction) whenever the suspects come within ``radius_m`` of
    a post: positions sampled every SAMPLE_M along the arcs travelled and at each node reached,
    sorted by time."""
    lat, lon, t = [], [], []
    for i in range(truth.node.shape[0] - 1):
        u, v = int(truth.node[i]), int(truth.node[i + 1])
        t0, t1 = float(truth.depart[i]), float(truth.arrive[i + 1])
        d = float(haversine_m(net.node_lat[u], net.node_lon[u], net.node_lat[v], net.node_lon[v]))
        f = np.arange(max(1, math.ceil(d / SAMPLE_M)) + 1) / max(1, math.ceil(d / SAMPLE_M))
        lat.append(net.node_lat[u] + f * (net.node_lat[v] - net.node_lat[u]))
        lon.append(net.node_lon[u] + f * (net.node_lon[v] - net.node_lon[u]))
        t.append(t0 + f * (t1 - t0))
    if not lat or not net.posts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    tree = cKDTree(unit_xyz([p.lat for p in net.posts], [p.lon for p in net.posts]))
    pts = unit_xyz(np.concatenate(lat), np.concatenate(lon))
    hits = tree.query_ball_point(pts, radius_m / EARTH_RADIUS_M)
    times = np.concatenate(t)
    slots = np.fromiter((s for h in hits for s in h), dtype=np.int64)
    when = np.repeat(times, [len(h) for h in hits])
    order = np.argsort(when, kind="stable")
    return slots[order], when[order]


class _Done(Exception):
    """The suspects will come near no post again: nothing can change."""


def run_case(
    net: Network,
    sc: Scenario,
    strategy: Strategy,
    *,
    budget: int,
    seed: int,
    particles: int,
    horizon_hours: float = DEFAULT_HORIZON_H,
) -> HarnessResult:
    """Run one strategy on one case under the harness protocol (module doc); the picture's
    probability horizon is ``horizon_hours``."""
    model = network_model(net, tuple(sc.observed.case["modes"]))
    cells = model.node_cells()
    slots, times = proximity_passes(net, sc.truth)
    last = float(times[-1]) if times.size else -1.0
    result = HarnessResult(
        None, {q: [] for q in LEVELS}, {q: [] for q in LEVELS}, {q: [] for q in LEVELS}
    )

    def policy_step(pic: SearchPicture, t_rel: float) -> list[int]:
        order = [int(s) for s in pic.ranked_slots()]
        if sc.truth.exited and t_rel >= sc.truth.arrive[-1]:
            return order  # they left the region: no position on the map to check
        lat, lon = sc.truth.position(net, t_rel)
        true_cell = int(
            np.uint64(h3.str_to_int(h3.latlng_to_cell(lat, lon, H3_RESOLUTION))).view(np.int64)
        )
        keys, mass = cell_mass(cells, pic.node_probability())
        for q in LEVELS:
            mask = region_mask(mass, q)
            result.inside[q].append(bool(np.isin(true_cell, keys[mask])))
            result.share[q].append(float(mask.sum()) / keys.shape[0])
            result.mass[q].append(float(mass[mask].sum() / mass.sum()))
        return order

    def detect(active: list[int], t0: float, t1: float) -> float | None:
        if t0 > last:
            raise _Done
        window = (times >= t0) & (times < t1) & np.isin(slots, active)
        caught: list[float] = []
        for s in np.unique(slots[window]):
            u = np.random.default_rng([seed, sc.index, int(s), int(t0)]).random()
            if u < CATCH_P:
                caught.append(float(times[window & (slots == s)][0]))
        return min(caught) if caught else None

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
            horizon_hours=horizon_hours,
        )
    except _Done:
        result.intercepted_minutes = None
    return result
