"""The second, independent behaviour model ("evasive") and `bolo simulate --truth`."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import bolo.search.sim.evasive as evasive
from bolo.search.cli import app
from bolo.search.sim.scenario import make_scenario
from tests.search.factories import grid_network


@pytest.mark.parametrize("index", range(12))
def test_evasive_trajectories_follow_arcs_in_time(index: int) -> None:
    net = grid_network(n=20)
    tr = make_scenario(net, seed=5, index=index, modes=("road",), truth_model="evasive").truth
    assert tr.node.shape[0] > 3
    for u, v in zip(tr.node[:-1], tr.node[1:], strict=True):
        assert v in net.indices[net.indptr[u] : net.indptr[u + 1]]
    assert np.all(np.diff(tr.arrive) > 0)
    assert np.all(tr.depart >= tr.arrive)
    if tr.exited:
        assert int(tr.node[-1]) in {e.node for e in net.exits}


def test_evasive_differs_from_the_default_model() -> None:
    net = grid_network(n=20)
    a = make_scenario(net, seed=5, index=0, modes=("road",))
    b = make_scenario(net, seed=5, index=0, modes=("road",), truth_model="evasive")
    assert not np.array_equal(a.truth.node, b.truth.node)
    with pytest.raises(ValueError, match="unknown truth model"):
        make_scenario(net, seed=5, index=0, modes=("road",), truth_model="nope")


def test_evasive_shares_no_code_with_the_filter_or_the_other_simulator() -> None:
    tree = ast.parse(Path(evasive.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {
        a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
    }
    search = {m for m in imported if m and m.startswith("bolo.search")}
    # Only the trajectory record the scoring reads.
    assert search == {"bolo.search.sim.truth"}
    names = {
        a.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "bolo.search.sim.truth"
        for a in node.names
    }
    assert names == {"Trajectory"}


def test_cli_simulate_truth(data_dir: Path) -> None:
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
            "--truth",
            "evasive",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["truth"] == "evasive"
    bad = CliRunner().invoke(app, ["simulate", "--network", "dprk", "--truth", "nope"])
    assert bad.exit_code == 2 and "unknown --truth" in bad.output
    assert "Traceback" not in bad.output
