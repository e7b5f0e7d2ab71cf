"""The simulation: strategies see only observations; metrics; the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bolo.search.cli import app
from bolo.search.picture import SearchPicture, Strategy
from bolo.search.sim.metrics import map_score, wilson_interval
from bolo.search.sim.runner import run_policy
from bolo.search.sim.scenario import make_scenario
from bolo.search.sim.truth import Trajectory
from tests.search.factories import grid_network


def _ranks_seen(net: Any, sc: Any, strategy: Strategy) -> list[list[int]]:
    seen: list[list[int]] = []

    def policy_step(pic: SearchPicture, t_rel: float) -> list[int]:
        order = [int(s) for s in pic.ranked_slots()]
        seen.append(order[:5])
        return order

    run_policy(
        net,
        sc.observed,
        sc.abducted,
        strategy,
        budget=5,
        seed=0,
        particles=200,
        policy_step=policy_step,
        detect=lambda active, t0, t1: None,
    )
    return seen[:8]


@pytest.mark.parametrize("strategy", list(Strategy))
def test_strategies_see_observations_never_the_truth(strategy: Strategy) -> None:
    net = grid_network(n=20)
    sc = make_scenario(net, seed=3, index=1, modes=("road",))
    other_truth = Trajectory(
        node=np.zeros(2, dtype=np.int64),
        arrive=np.zeros(2),
        depart=np.ones(2),
        mode=np.zeros(2, dtype=np.uint8),
        exited=False,
    )
    twin = dataclasses.replace(sc, truth=other_truth)
    assert _ranks_seen(net, sc, strategy) == _ranks_seen(net, twin, strategy)


def test_wilson_interval_brackets_the_rate() -> None:
    lo, hi = wilson_interval(30, 100)
    assert lo < 0.3 < hi
    assert 0.21 < lo < 0.22 and 0.39 < hi < 0.40
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_map_score_is_one_for_a_perfect_map_and_half_for_a_flat_one() -> None:
    cells = np.asarray([1, 1, 2, 3, 4], dtype=np.int64)
    assert map_score(cells, np.asarray([0.5, 0.5, 0, 0, 0]), 1) == 1.0
    assert map_score(np.asarray([1, 2, 3, 4], dtype=np.int64), np.full(4, 0.25), 3) == 0.5
    assert map_score(cells, np.asarray([0.0, 0.0, 0.5, 0.5, 0]), 9) < 0.5


def test_cli_rank_prints_json_for_the_reference_case(tmp_path: Path, data_dir: Path) -> None:
    case = {
        "last_known": {
            "lat": 39.2068,
            "lon": 126.2039,
            "time_earliest": "2026-03-31T08:00:00+09:00",
            "time_latest": "2026-03-31T14:00:00+09:00",
        },
        "modes": ["road", "rail"],
        "hints": [{"kind": "heading", "bearing_deg": 0, "weight": 0.8}],
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    result = CliRunner().invoke(
        app,
        [
            "rank",
            "--network",
            "dprk",
            "--case",
            str(path),
            "--at",
            "2026-04-01T08:00:00+09:00",
            "--budget",
            "5",
            "--particles",
            "500",
            "--horizon",
            "24",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert len(out["posts"]) == 5
    assert {"post_id", "probability", "eta", "reason"} <= set(out["posts"][0])


def test_cli_errors_are_messages_not_tracebacks(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text("{not json")
    result = CliRunner().invoke(
        app, ["rank", "--network", "dprk", "--case", str(path), "--at", "2026-04-01T08:00:00+09:00"]
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    path.write_text(json.dumps({"last_known": {"lat": 1}}))
    result = CliRunner().invoke(
        app,
        ["rank", "--network", "nowhere", "--case", str(path), "--at", "2026-04-01T08:00:00+09:00"],
    )
    assert result.exit_code != 0


def test_cli_simulate_prints_the_documented_json(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--network",
            "dprk",
            "--cases",
            "2",
            "--seed",
            "1",
            "--budget",
            "5",
            "--particles",
            "200",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"network", "cases", "seed", "budget", "strategies"} <= set(out)
    for name in ("radius", "reachability", "particle"):
        m = out["strategies"][name]
        assert {
            "interception_rate",
            "ci95",
            "median_minutes_to_interception",
            "search_cost_median",
            "mapscore",
        } <= set(m)
        assert m["ci95"][0] <= m["interception_rate"] <= m["ci95"][1]
