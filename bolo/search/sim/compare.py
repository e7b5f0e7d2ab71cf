"""Compare the strategies over many simulated cases: the figures `bolo simulate` prints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bolo.network.graph import Network
from bolo.search.picture import Strategy
from bolo.search.sim.metrics import wilson_interval
from bolo.search.sim.runner import CaseResult, run_strategy
from bolo.search.sim.scenario import make_scenario


@dataclass
class Comparison:
    """Per strategy, the result of every case (same scenarios, same detection draws)."""

    network: str
    cases: int
    seed: int
    budget: int
    results: dict[str, list[CaseResult]] = field(default_factory=dict)
    truth: str = "bolo"

    def summary(self) -> dict[str, Any]:
        """The JSON figures documented for `bolo simulate --json`."""
        out: dict[str, Any] = {
            "network": self.network,
            "cases": self.cases,
            "seed": self.seed,
            "budget": self.budget,
            "truth": self.truth,
            "strategies": {},
        }
        for name, res in self.results.items():
            hits = [r.intercepted_minutes for r in res if r.intercepted_minutes is not None]
            costs = [c for r in res for c in r.search_costs]
            scores = [m for r in res for m in r.map_scores]
            lo, hi = wilson_interval(len(hits), len(res))
            out["strategies"][name] = {
                "interception_rate": len(hits) / len(res) if res else 0.0,
                "ci95": [lo, hi],
                "median_minutes_to_interception": float(np.median(hits)) if hits else None,
                "search_cost_median": float(np.median(costs)) if costs else None,
                "mapscore": float(np.mean(scores)) if scores else None,
            }
        return out


def compare(
    net: Network,
    *,
    cases: int,
    seed: int,
    budget: int,
    particles: int,
    strategies: Sequence[Strategy] = tuple(Strategy),
    modes: tuple[str, ...] = ("road",),
    progress: Callable[[int], None] | None = None,
    truth: str = "bolo",
) -> Comparison:
    """Simulate ``cases`` abductions (behaviour model ``truth``: see ``TRUTH_MODELS``) and
    run every strategy on each at budget K."""
    comp = Comparison(net.name, cases, seed, budget, {s.value: [] for s in strategies}, truth)
    for i in range(cases):
        sc = make_scenario(net, seed, i, modes, truth)
        for s in strategies:
            comp.results[s.value].append(
                run_strategy(net, sc, s, budget=budget, seed=seed, particles=particles)
            )
        if progress is not None:
            progress(i + 1)
    return comp
