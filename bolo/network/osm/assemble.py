"""Combine road and rail arcs into one Network: prune islands, link stations, order nodes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from bolo.network.build import build_csr, haversine_m, morton_order
from bolo.network.graph import FloatArray, IntArray, ModeCode, Network
from bolo.network.osm.topology import Arcs, BoolArray, geometry_arrays


@dataclass(frozen=True)
class ImportOptions:
    """Tunable import rules. Times in seconds, distances in metres."""

    min_component_nodes: int = 100  # smaller road islands (parking lots, cut fragments) go
    board_seconds: float = 300.0  # road -> train at a station: walking in and waiting
    alight_seconds: float = 60.0  # train -> road
    station_rail_metres: float = 500.0
    station_road_metres: float = 1000.0
    patrol_spacing_metres: float = 2000.0  # about one patrol candidate per this much major road
    snap_metres: float = 1000.0  # tagged places farther than this from the network are dropped


def _components(n: int, arcs: Arcs) -> tuple[int, IntArray]:
    graph = coo_matrix((np.ones(arcs.tails.size), (arcs.tails, arcs.heads)), shape=(n, n))
    count, labels = connected_components(graph, directed=True, connection="weak")
    return int(count), labels.astype(np.int64)


def subset(arcs: Arcs, keep_node: BoolArray) -> Arcs:
    """The arcs among the kept nodes, with nodes renumbered in their old order."""
    new_id = np.cumsum(keep_node) - 1
    keep_arc = keep_node[arcs.tails] & keep_node[arcs.heads]
    per_arc = {
        k: getattr(arcs, k)[keep_arc]
        for k in (
            "metres",
            "seconds",
            "major",
            "cut_exit",
            "geom_first",
            "geom_last",
            "geom_reversed",
            "share",
        )
    }
    return replace(
        arcs,
        node_lat=arcs.node_lat[keep_node],
        node_lon=arcs.node_lon[keep_node],
        node_key=arcs.node_key[keep_node],
        tails=new_id[arcs.tails[keep_arc]],
        heads=new_id[arcs.heads[keep_arc]],
        **per_arc,
    )


def prune_road(arcs: Arcs, min_nodes: int) -> Arcs:
    """Drop weakly connected road islands smaller than ``min_nodes`` (keeping the largest)."""
    n = arcs.node_lat.size
    if n == 0:
        return arcs
    _, labels = _components(n, arcs)
    sizes = np.bincount(labels)
    keep_label = sizes >= min(min_nodes, int(sizes.max()))
    return subset(arcs, keep_label[labels])


def prune_rail(
    arcs: Arcs, station_lat: FloatArray, station_lon: FloatArray, radius_m: float
) -> Arcs:
    """Keep only the rail components that serve at least one station."""
    n = arcs.node_lat.size
    if n == 0 or station_lat.size == 0:
        return subset(arcs, np.zeros(n, dtype=np.bool_))
    _, labels = _components(n, arcs)
    from bolo.network.osm.snap import nearest_within

    idx, ok = nearest_within(arcs.node_lat, arcs.node_lon, station_lat, station_lon, radius_m)
    served = np.zeros(labels.max() + 1, dtype=np.bool_)
    served[labels[idx[ok]]] = True
    return subset(arcs, served[labels])


@dataclass
class Combined:
    """The merged graph before posts: node arrays and CSR arcs, plus per-arc/node flags."""

    network: Network
    road_nodes: IntArray  # network ids of the road-graph nodes
    rail_nodes: IntArray
    arc_major: BoolArray
    arc_cut_exit: BoolArray
    arc_share: FloatArray


def combine(
    name: str, road: Arcs, rail: Arcs, transfers: tuple[IntArray, IntArray, FloatArray, FloatArray]
) -> Combined:
    """Merge road (ids first) and rail arcs and transfer arcs (over merged ids) into a Network
    whose nodes are in Z-order."""
    nr = road.node_lat.size
    lat = np.concatenate((road.node_lat, rail.node_lat))
    lon = np.concatenate((road.node_lon, rail.node_lon))
    t_tail, t_head, t_sec, t_m = transfers
    nt = t_tail.size
    tails = np.concatenate((road.tails, rail.tails + nr, t_tail))
    heads = np.concatenate((road.heads, rail.heads + nr, t_head))
    seconds = np.concatenate((road.seconds, rail.seconds, t_sec))
    metres = np.concatenate((road.metres, rail.metres, t_m))
    modes = np.concatenate(
        (
            np.full(road.tails.size, ModeCode.ROAD, np.uint8),
            np.full(rail.tails.size, ModeCode.RAIL, np.uint8),
            np.full(nt, ModeCode.TRANSFER, np.uint8),
        )
    )
    order = morton_order(lat, lon)
    new_id = np.empty_like(order)
    new_id[order] = np.arange(order.size)
    indptr, indices, sec, met, mode, arc_order = build_csr(
        lat.size, new_id[tails], new_id[heads], seconds, metres, modes
    )
    first, last, rev, p_lat, p_lon = _geometry(road, rail, nt)
    ptr, glat, glon = geometry_arrays(
        first[arc_order], last[arc_order], rev[arc_order], p_lat, p_lon
    )
    net = Network(
        name=name,
        node_lat=lat[order],
        node_lon=lon[order],
        indptr=indptr,
        indices=indices,
        arc_seconds=sec,
        arc_metres=met,
        arc_mode=mode,
        geom_ptr=ptr,
        geom_lat=glat,
        geom_lon=glon,
    )
    flags = [
        np.concatenate((getattr(road, k), getattr(rail, k), np.full(nt, fill)))[arc_order]
        for k, fill in (("major", False), ("cut_exit", False), ("share", 1.0))
    ]
    return Combined(
        net,
        new_id[:nr],
        new_id[nr:],
        flags[0].astype(np.bool_),
        flags[1].astype(np.bool_),
        flags[2],
    )


def _geometry(
    road: Arcs, rail: Arcs, n_transfer: int
) -> tuple[IntArray, IntArray, BoolArray, FloatArray, FloatArray]:
    shift = road.point_lat.size
    zero = np.zeros(n_transfer, dtype=np.int64)
    first = np.concatenate((road.geom_first, rail.geom_first + shift, zero))
    last = np.concatenate((road.geom_last, rail.geom_last + shift, zero))
    rev = np.concatenate((road.geom_reversed, rail.geom_reversed, zero.astype(np.bool_)))
    return (
        first,
        last,
        rev,
        np.concatenate((road.point_lat, rail.point_lat)),
        np.concatenate((road.point_lon, rail.point_lon)),
    )


def station_transfers(
    road: Arcs, rail: Arcs, st_lat: FloatArray, st_lon: FloatArray, opts: ImportOptions
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Transfer arcs (pre-merge ids: road first, rail shifted) linking each station's rail node
    with the nearest road node: road -> rail costs board_seconds, rail -> road alight_seconds."""
    from bolo.network.osm.snap import nearest_within

    ri, rok = nearest_within(rail.node_lat, rail.node_lon, st_lat, st_lon, opts.station_rail_metres)
    di, dok = nearest_within(road.node_lat, road.node_lon, st_lat, st_lon, opts.station_road_metres)
    ok = rok & dok
    rail_id = ri[ok] + road.node_lat.size
    road_id = di[ok]
    pairs = np.unique(np.column_stack((road_id, rail_id)), axis=0)
    road_id, rail_id = pairs[:, 0], pairs[:, 1]
    metres = haversine_m(
        road.node_lat[road_id],
        road.node_lon[road_id],
        rail.node_lat[rail_id - road.node_lat.size],
        rail.node_lon[rail_id - road.node_lat.size],
    )
    n = road_id.size
    return (
        np.concatenate((road_id, rail_id)),
        np.concatenate((rail_id, road_id)),
        np.concatenate((np.full(n, opts.board_seconds), np.full(n, opts.alight_seconds))),
        np.concatenate((metres, metres)),
    )
