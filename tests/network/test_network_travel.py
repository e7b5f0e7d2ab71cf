"""Travel times agree exactly with networkx; limits, multi-source start times, early stop."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bolo.network.errors import PointTooFar
from bolo.network.graph import Mode
from bolo.network.travel import arc_weights, earliest_arrival, nearest_node
from tests.network.factories import random_network, to_networkx


def _nx_times(g: nx.DiGraph, sources: dict[int, float], n: int) -> np.ndarray:
    # networkx has no start offsets: a super-source with arcs weighted by the start times.
    h = g.copy()
    h.add_node(-1)
    for s, t in sources.items():
        h.add_edge(-1, s, weight=t)
    lengths = nx.single_source_dijkstra_path_length(h, -1, weight="weight")
    out = np.full(n, np.inf)
    for v, d in lengths.items():
        if v >= 0:
            out[v] = d
    return out


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), source=st.integers(0, 59))
def test_single_source_matches_networkx(seed: int, source: int) -> None:
    net = random_network(seed)
    g = to_networkx(net, net.arc_seconds)
    expected = nx.single_source_dijkstra_path_length(g, source, weight="weight")
    got = earliest_arrival(net, [source])
    assert {v: got[v] for v in range(net.n_nodes) if got[v] < np.inf} == expected


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 5))
def test_multi_source_with_start_times_matches_networkx(seed: int, k: int) -> None:
    net = random_network(seed)
    rng = np.random.default_rng(seed + 1)
    srcs = rng.choice(net.n_nodes, k, replace=False)
    starts = rng.uniform(0.0, 50.0, k)
    got = earliest_arrival(net, srcs, start_seconds=starts)
    g = to_networkx(net, net.arc_seconds)
    # networkx's sum runs super-source first: start + w1 + ... in the same order as ours.
    expected = _nx_times(g, dict(zip(srcs.tolist(), starts, strict=True)), net.n_nodes)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), limit=st.floats(0.0, 300.0))
def test_limit_cuts_exactly(seed: int, limit: float) -> None:
    net = random_network(seed)
    full = earliest_arrival(net, [0])
    bounded = earliest_arrival(net, [0], limit_seconds=limit)
    expected = np.where(full <= limit, full, np.inf)
    np.testing.assert_array_equal(bounded, expected)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_modes_and_closed_arcs_match_networkx(seed: int) -> None:
    net = random_network(seed, n_modes=3)
    closed = np.random.default_rng(seed).choice(net.n_arcs, 20, replace=False)
    modes = {Mode.ROAD, Mode.FOOT}
    weights = arc_weights(net, modes).copy()
    weights[closed] = np.inf
    g = to_networkx(net, weights)
    got = earliest_arrival(net, [3], modes=modes, closed_arcs=closed)
    expected = nx.single_source_dijkstra_path_length(g, 3, weight="weight")
    assert {v: got[v] for v in range(net.n_nodes) if got[v] < np.inf} == expected


def test_rail_only_ignores_road_arcs() -> None:
    net = random_network(7, n_modes=2)
    rail = earliest_arrival(net, [0], modes=[Mode.RAIL])
    g = to_networkx(net, np.where(net.arc_mode == 1, net.arc_seconds, np.inf))
    expected = nx.single_source_dijkstra_path_length(g, 0, weight="weight")
    assert {v: rail[v] for v in range(net.n_nodes) if rail[v] < np.inf} == expected


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_early_stop_keeps_target_times_exact(seed: int) -> None:
    net = random_network(seed)
    targets = np.random.default_rng(seed).choice(net.n_nodes, 4, replace=False)
    full = earliest_arrival(net, [1])
    early = earliest_arrival(net, [1], targets=targets)
    np.testing.assert_array_equal(early[targets], full[targets])
    finite = np.isfinite(early)
    np.testing.assert_array_equal(early[finite], full[finite])


def test_time_windows_wait_for_opening() -> None:
    net = random_network(3, n=5, m=0)
    from bolo.network.build import build_csr

    indptr, indices, sec, metres, mode, _ = build_csr(
        3,
        np.array([0, 1]),
        np.array([1, 2]),
        np.array([10.0, 10.0]),
        np.array([1.0, 1.0]),
        np.zeros(2, dtype=np.uint8),
    )
    net.node_lat, net.node_lon = net.node_lat[:3], net.node_lon[:3]
    net.indptr, net.indices, net.arc_seconds, net.arc_metres, net.arc_mode = (
        indptr,
        indices,
        sec,
        metres,
        mode,
    )
    got = earliest_arrival(
        net, [0], open_from=np.array([0.0, 100.0]), open_until=np.array([np.inf, 200.0])
    )
    assert got.tolist() == [0.0, 10.0, 110.0]
    closed = earliest_arrival(
        net,
        [0],
        start_seconds=[195.0],
        open_from=np.array([0.0, 100.0]),
        open_until=np.array([np.inf, 200.0]),
    )
    assert closed.tolist() == [195.0, 205.0, np.inf]


def test_nearest_node_and_too_far() -> None:
    net = random_network(5)
    node, metres = nearest_node(net, float(net.node_lat[9]), float(net.node_lon[9]))
    assert metres < 1e-6 and net.node_lat[node] == net.node_lat[9]
    with pytest.raises(PointTooFar, match="km from the nearest"):
        nearest_node(net, 0.0, 0.0, max_metres=5000)


def test_bad_sources_rejected() -> None:
    net = random_network(5)
    with pytest.raises(IndexError):
        earliest_arrival(net, [net.n_nodes])
    with pytest.raises(ValueError):
        earliest_arrival(net, [0, 1], start_seconds=[0.0])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), budget=st.integers(1, 6), after=st.floats(0, 200))
def test_heap_and_bucket_kernels_agree_with_early_stop(
    seed: int, budget: int, after: float
) -> None:
    from bolo.network._kernels import bucket_kernel, earliest_arrival_kernel

    net = random_network(seed)
    rng = np.random.default_rng(seed)
    counts = np.zeros(net.n_nodes, dtype=np.int64)
    counts[rng.choice(net.n_nodes, 10, replace=False)] = 1
    src, starts = np.array([0, 5]), np.array([0.0, 30.0])
    empty = np.empty(0)
    heap = earliest_arrival_kernel(
        net.indptr,
        net.indices,
        net.arc_seconds,
        src,
        starts,
        np.inf,
        counts,
        budget,
        after,
        empty,
        empty,
    )
    for delta in (0.5, 10.0, 80.0):
        adj = np.column_stack((net.indices.astype(np.float64), net.arc_seconds))
        bucket, complete = bucket_kernel(
            net.indptr,
            adj,
            src,
            starts,
            np.inf,
            delta,
            float(net.arc_seconds.max()),
            counts,
            budget,
            after,
            4,
        )  # a tiny pool: must report it, not overflow
        if not complete:
            bucket, complete = bucket_kernel(
                net.indptr,
                adj,
                src,
                starts,
                np.inf,
                delta,
                float(net.arc_seconds.max()),
                counts,
                budget,
                after,
                10 * net.n_arcs + 10,
            )
        assert complete
        both = np.isfinite(heap) & np.isfinite(bucket)
        np.testing.assert_array_equal(heap[both], bucket[both])
        # Both stop only after the same qualifying targets are final.
        full = earliest_arrival_kernel(
            net.indptr,
            net.indices,
            net.arc_seconds,
            src,
            starts,
            np.inf,
            counts[:0],
            0,
            after,
            empty,
            empty,
        )
        qualifying = (counts > 0) & (full > after) & np.isfinite(full)
        np.testing.assert_array_equal(bucket[np.isfinite(bucket)], full[np.isfinite(bucket)])
        assert (np.isfinite(bucket) & qualifying).sum() >= min(budget, qualifying.sum())
