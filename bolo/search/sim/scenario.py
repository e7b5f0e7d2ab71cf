"""Simulated abductions: ground truth plus what the searchers get to see, and when.

``Scenario.observed`` is everything a strategy may read: the case dict (report time, window,
hints) and the evidence stream with reveal times. ``Scenario.truth`` is only for scoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bolo.network.graph import ModeCode, Network
from bolo.search.geo import bearing_deg, haversine_m
from bolo.search.sim.evasive import draw_destination, evasive_plan, evasive_trajectory
from bolo.search.sim.truth import Trajectory, simulate_trajectory

SIGHTINGS_PER_S = 1.0 / (5 * 3600.0)
FALSE_TIPS_PER_S = 1.0 / (6 * 3600.0)
REPORT_DELAY_S = (1800.0, 4 * 3600.0)
HORIZON_S = 24 * 3600.0
BASE_TIME = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Observed:
    """What a strategy sees: the case as reported and evidence with the time it is revealed."""

    report_time: datetime
    case: dict[str, Any]
    stream: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Scenario:
    """One simulated abduction."""

    index: int
    abducted: datetime
    observed: Observed
    truth: Trajectory


def _iso(t: datetime) -> str:
    return t.isoformat()


TRUTH_MODELS = ("bolo", "evasive")


def make_scenario(
    net: Network, seed: int, index: int, modes: tuple[str, ...], truth_model: str = "bolo"
) -> Scenario:
    """Draw one abduction on ``net``: truth, case report, sightings and false tips.

    ``truth_model``: "bolo" (``truth.py``) or "evasive" (``evasive.py``, the independent one);
    the report, hints and tips follow the same protocol for both."""
    if truth_model not in TRUTH_MODELS:
        raise ValueError(f"unknown truth model {truth_model!r}: {', '.join(TRUTH_MODELS)}")
    rng = np.random.default_rng([seed, index, 42 if truth_model == "bolo" else 4242])
    degree = np.diff(net.indptr)
    candidates = np.flatnonzero(degree > 0)
    if truth_model == "evasive":
        candidates = np.flatnonzero(
            np.bincount(
                np.repeat(np.arange(net.n_nodes), degree)[net.arc_mode == ModeCode.ROAD],
                minlength=net.n_nodes,
            )
            > 0
        )
    exits = {e.node for e in net.exits}
    abducted = BASE_TIME + timedelta(
        days=int(rng.integers(0, 28)), seconds=float(rng.uniform(0, 86400))
    )
    until = HORIZON_S + REPORT_DELAY_S[1] * 2
    for _ in range(50):
        origin = int(rng.choice(candidates))
        if truth_model == "evasive":
            dest = draw_destination(net, rng, origin, candidates)
            arcs = evasive_plan(net, rng, origin, dest, modes, candidates)
            truth = evasive_trajectory(net, rng, origin, arcs, until)
        else:
            dest = _draw_destination(net, rng, origin, candidates, exits)
            truth = simulate_trajectory(net, rng, origin, dest, modes, exits, until)
        if truth.node.shape[0] > 3:
            break
    delay = float(rng.uniform(*REPORT_DELAY_S))
    before, after = rng.uniform(0, 3600.0), rng.uniform(0, 3600.0)
    case: dict[str, Any] = {
        "last_known": {
            "lat": float(net.node_lat[origin]),
            "lon": float(net.node_lon[origin]),
            "time_earliest": _iso(abducted - timedelta(seconds=before)),
            "time_latest": _iso(abducted + timedelta(seconds=min(after, delay))),
        },
        "modes": list(modes),
        "hints": [],
        "evidence": [],
    }
    if rng.random() < 0.6 and dest != origin:
        true_bearing = float(
            bearing_deg(
                net.node_lat[origin], net.node_lon[origin], net.node_lat[dest], net.node_lon[dest]
            )
        )
        case["hints"].append(
            {
                "kind": "heading",
                "weight": 0.7,
                "bearing_deg": (true_bearing + rng.normal(0, 25.0)) % 360.0,
            }
        )
    observed = Observed(abducted + timedelta(seconds=delay), case)
    observed.stream = _sightings(net, rng, truth, abducted) + _false_tips(
        net, rng, abducted, candidates
    )
    observed.stream.sort(key=lambda x: x[0])
    return Scenario(index, abducted, observed, truth)


def _draw_destination(
    net: Network, rng: np.random.Generator, origin: int, candidates: np.ndarray, exits: set[int]
) -> int:
    r = rng.random()
    if exits and r < 0.5:
        return int(rng.choice(sorted(exits)))
    d = haversine_m(
        net.node_lat[origin],
        net.node_lon[origin],
        net.node_lat[candidates],
        net.node_lon[candidates],
    )
    if r < 0.8:
        far = candidates[d >= np.median(d)]
        return int(rng.choice(far))
    return int(rng.choice(candidates))


def _sightings(
    net: Network, rng: np.random.Generator, truth: Trajectory, abducted: datetime
) -> list[tuple[datetime, dict[str, Any]]]:
    end = min(float(truth.depart[-1]), HORIZON_S)
    n = rng.poisson(SIGHTINGS_PER_S * end)
    out = []
    for t in np.sort(rng.uniform(0, end, n)):
        lat, lon = truth.position(net, float(t))
        radius = float(rng.uniform(300.0, 3000.0))
        dy, dx = rng.normal(0.0, radius / 2, 2)
        lat += dy / 111_320.0
        lon += dx / (111_320.0 * math.cos(math.radians(lat)))
        cred = 0.95 if rng.random() < 0.25 else float(rng.uniform(0.4, 0.85))
        seen = abducted + timedelta(seconds=float(t + rng.normal(0, 600.0)))
        ev = {
            "kind": "sighting",
            "time": _iso(seen),
            "lat": lat,
            "lon": lon,
            "radius_m": radius,
            "credibility": cred,
        }
        out.append((abducted + timedelta(seconds=float(t + rng.uniform(*REPORT_DELAY_S))), ev))
    return out


def _false_tips(
    net: Network, rng: np.random.Generator, abducted: datetime, candidates: np.ndarray
) -> list[tuple[datetime, dict[str, Any]]]:
    n = rng.poisson(FALSE_TIPS_PER_S * HORIZON_S)
    out = []
    for t in np.sort(rng.uniform(0, HORIZON_S, n)):
        node = int(rng.choice(candidates))
        ev = {
            "kind": "sighting",
            "time": _iso(abducted + timedelta(seconds=float(t))),
            "lat": float(net.node_lat[node]),
            "lon": float(net.node_lon[node]),
            "radius_m": float(rng.uniform(300.0, 3000.0)),
            "credibility": float(rng.uniform(0.3, 0.8)),
        }
        out.append((abducted + timedelta(seconds=float(t + rng.uniform(*REPORT_DELAY_S))), ev))
    return out
