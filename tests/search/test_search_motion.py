"""The motion kernel: compiled equals uncompiled, and thread splits do not change the result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bolo.search.case import parse_case
from bolo.search.motion import _advance_range, advance
from bolo.search.network_model import network_model
from bolo.search.particles import empty_events
from bolo.search.pfilter import ParticleFilter
from tests.search.factories import grid_network

HERE = Path(__file__).resolve().parent


def _filter(n: int) -> ParticleFilter:
    net = grid_network(n=15)
    case = parse_case(
        {
            "last_known": {
                "lat": 40.07,
                "lon": 10.07,
                "time_earliest": "2026-03-31T08:00:00+00:00",
                "time_latest": "2026-03-31T08:30:00+00:00",
            }
        }
    )
    return ParticleFilter(network_model(net, case.modes), case, n, seed=3)


def _run(pf: ParticleFilter, fn: object, t1: float) -> list[np.ndarray]:
    p = pf.state.parts.copy()
    p.foot[::3] = 1  # some walk: the vehicle-found branch is covered too
    ev = empty_events(p.n)
    prior = pf.prior
    args = (
        p.arrays(),
        pf._graph,
        (prior.dist, prior.dest_nodes, prior.is_exit, prior.cdf),
        (pf.model.watch, *ev),
        pf._noise,
        pf._params,
    )
    if fn is advance:
        advance(0.0, t1, *args)
    else:
        fn(0, p.n, 0.0, t1, *args)  # type: ignore[operator]
    return [*p.arrays(), *ev]


def state_after(n: int, hours: float, out: str) -> None:
    """Save the particle arrays and events after ``hours`` of motion (run by the test below in
    a process without JIT)."""
    arrays = _run(_filter(n), _advance_range, hours * 3600.0)
    np.savez(out, *arrays)


def test_compiled_kernel_equals_the_same_code_uncompiled(tmp_path: Path) -> None:
    out = tmp_path / "nojit.npz"
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_search_motion as m; "
        f"m.state_after(300, 4.0, {str(out)!r})"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, check=True, timeout=300)
    jit = _run(_filter(300), _advance_range, 4 * 3600.0)
    with np.load(out) as nojit:
        for k, a in enumerate(jit):
            assert np.array_equal(a, nojit[f"arr_{k}"])


def test_the_thread_split_does_not_change_the_result() -> None:
    pf = _filter(5000)  # above MIN_PER_THREAD x 2: two ranges when two threads
    one = _run(pf, _advance_range, 3 * 3600.0)
    split = _run(pf, advance, 3 * 3600.0)
    for a, b in zip(one, split, strict=True):
        assert np.array_equal(a, b)
