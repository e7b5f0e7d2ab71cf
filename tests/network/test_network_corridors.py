"""The DPRK corridor table becomes a Network with the posts and exits the brief names."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

import bolo.network as bn
from bolo.network import BUNDLED_CORRIDORS, NetworkImportError, NetworkNotFound
from bolo.network.corridors import load_corridors
from bolo.network.graph import Mode, PostKind
from bolo.network.travel import earliest_arrival, nearest_node

DPRK = BUNDLED_CORRIDORS["dprk"]


def _rows(name: str) -> list[dict[str, str]]:
    with (DPRK / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_posts_and_exits() -> None:
    net = load_corridors(DPRK)
    kinds = {k: [p for p in net.posts if p.kind == k] for k in PostKind}
    assert len(kinds[PostKind.CHECKPOINT]) == len(_rows("checkpoints_synthetic.csv"))
    assert len(kinds[PostKind.BORDER_CROSSING]) == len(_rows("border_crossings.csv"))
    assert {e.exit_id for e in net.exits} == {p.post_id for p in kinds[PostKind.BORDER_CROSSING]}
    ids = [p.post_id for p in net.posts]
    assert len(ids) == len(set(ids))
    assert "station-kilju" in ids and "guard-kilju" in ids and "station-songchon" in ids
    guard = net.post("guard-kilju")
    assert net.node_names[guard.node].startswith("Kilju")
    for p in net.posts:
        assert net.node_has_mode(p.mode)[p.node], p


def test_every_edge_usable_both_ways_with_its_minutes() -> None:
    net = load_corridors(DPRK)
    ids = {r["id"]: i for i, r in enumerate(_rows("nodes.csv"))}
    road = earliest_arrival(net, [ids["kilju"]], modes=[Mode.ROAD])
    back = earliest_arrival(net, [ids["myongchon"]], modes=[Mode.ROAD])
    assert road[ids["myongchon"]] == back[ids["kilju"]] == 32 * 60


def test_checkpoint_splits_its_edge() -> None:
    net = load_corridors(DPRK)
    ids = {r["id"]: i for i, r in enumerate(_rows("nodes.csv"))}
    cp = net.post("checkpoint-kilju-paegam-road")
    t = earliest_arrival(net, [ids["kilju"]], modes=[Mode.ROAD])
    assert t[cp.node] == 60 * 60 and t[ids["paegam"]] == 120 * 60


def test_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copytree(DPRK, tmp_path / "d")
    path = tmp_path / "d" / "edges.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(["from,to,mode"] + [",".join(x.split(",")[:3]) for x in lines[1:]]))
    with pytest.raises(NetworkImportError, match="missing columns"):
        load_corridors(tmp_path / "d")


def test_load_builds_caches_and_reloads(data_dir: Path) -> None:
    first = bn.load("dprk")
    again = bn.load("dprk")
    np.testing.assert_array_equal(first.arc_seconds, again.arc_seconds)
    assert [p.post_id for p in first.posts] == [p.post_id for p in again.posts]
    node, metres = nearest_node(again, 40.9642, 129.3278, mode=Mode.RAIL)
    assert metres < 100 and again.node_names[node].startswith("Kilju")
    with pytest.raises(NetworkNotFound, match="no network named 'nowhere'"):
        bn.load("nowhere")
