"""Chain contraction keeps every earliest arrival between kept nodes, and the drawing."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bolo.network.contract import contract_chains
from bolo.network.synthetic import synthetic_road_network
from bolo.network.travel import earliest_arrival


def _kept_index(before, after):  # type: ignore[no-untyped-def]
    key_b = np.round(before.node_lat * 1e9) * 1e4 + np.round(before.node_lon * 1e9)
    key_a = np.round(after.node_lat * 1e9) * 1e4 + np.round(after.node_lon * 1e9)
    order = np.argsort(key_b)
    pos = order[np.searchsorted(key_b[order], key_a)]
    assert np.array_equal(key_b[pos], key_a)
    return pos


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), keep=st.floats(0.5, 0.9))
@example(seed=28, keep=0.5)  # holds an isolated four-node ring: once dropped whole (CI, stop 10)
def test_contraction_preserves_times(seed: int, keep: float) -> None:
    net = synthetic_road_network(25, seed=seed, keep=keep, primary_every=7, motorway_every=14)
    small = contract_chains(net)
    assert small.n_nodes < net.n_nodes
    pos = _kept_index(net, small)
    for s in (0, small.n_nodes // 2):
        full = earliest_arrival(net, [int(pos[s])])[pos]
        got = earliest_arrival(small, [s])
        np.testing.assert_array_equal(np.isfinite(full), np.isfinite(got))
        np.testing.assert_allclose(got[np.isfinite(got)], full[np.isfinite(full)], rtol=1e-12)
    assert np.isclose(small.arc_metres.sum(), net.arc_metres.sum(), rtol=1e-12)
    # Every contracted node's position survives as a drawing point.
    dropped = np.setdiff1d(np.arange(net.n_nodes), pos)
    drawn = set(zip(small.geom_lat.round(9), small.geom_lon.round(9), strict=True))  # type: ignore[union-attr]
    assert all(
        (round(float(net.node_lat[d]), 9), round(float(net.node_lon[d]), 9)) in drawn
        for d in dropped
    )
    assert {p.post_id for p in small.posts} == {p.post_id for p in net.posts}
    for p in small.posts:
        assert (small.node_lat[p.node], small.node_lon[p.node]) == (p.lat, p.lon)
