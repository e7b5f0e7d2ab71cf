"""Build a Network from a corridor table (the schematic DPRK network of the reference incident).

Folder layout: ``nodes.csv`` (id, name, lat, lon, kind), ``edges.csv`` (from, to, mode, est_km,
est_minutes; each row usable in both directions), ``checkpoints_synthetic.csv`` (edge, mode,
lat, lon) and ``border_crossings.csv`` (id, name, mode, lat, lon).

Road and rail share the town nodes (changing mode in a town is free). Each synthetic checkpoint
gets its own node inserted at the midpoint of its edge (of its mode), splitting that edge's
time and length in two halves, so a traveller on that edge passes the checkpoint.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bolo.network.build import build_csr
from bolo.network.errors import NetworkImportError
from bolo.network.graph import Exit, Mode, ModeCode, Network, NetworkPost, PostKind
from bolo.network.travel import nearest_node

CORRIDOR_VERSION = 1  # bump when the way a table becomes a Network changes
KILJU_GUARD = ("guard-kilju", "Kilju guard post", 40.9642, 129.3278)
ATTRIBUTION = (
    "Schematic network. GeoNames (CC BY 4.0); NGII; Natural Earth; "
    "© OpenStreetMap contributors (ODbL); Wikipedia (CC BY-SA)"
)


def corridor_cache_key(directory: Path) -> str:
    """A key that changes when the table's CSV files or this builder change."""
    digest = hashlib.sha256(str(CORRIDOR_VERSION).encode())
    for path in sorted(directory.glob("*.csv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_csv(path: Path, required: set[str]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = required - set(reader.fieldnames or [])
            if missing:
                raise NetworkImportError(f"{path}: missing columns {sorted(missing)}")
            return list(reader)
    except OSError as exc:
        raise NetworkImportError(f"cannot read {path}: {exc}") from exc


def _mode_of(text: str) -> Mode:
    """The snapping mode of a free-text mode ('road+rail' and 'rail (freight)' included)."""
    return Mode.ROAD if "road" in text else Mode.RAIL


@dataclass
class _Builder:
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    arcs: list[tuple[int, int, float, float, int]] = field(default_factory=list)

    def node(self, lat: float, lon: float, name: str) -> int:
        self.lat.append(lat)
        self.lon.append(lon)
        self.names[len(self.lat) - 1] = name
        return len(self.lat) - 1

    def edge(self, a: int, b: int, seconds: float, metres: float, mode: Mode) -> None:
        code = int(ModeCode.of(mode))
        self.arcs.append((a, b, seconds, metres, code))
        self.arcs.append((b, a, seconds, metres, code))


def _read_edges(directory: Path, ids: dict[str, int]) -> list[tuple[str, str, Mode, float, float]]:
    rows = _read_csv(directory / "edges.csv", {"from", "to", "mode", "est_km", "est_minutes"})
    edges = []
    for r in rows:
        if r["from"] not in ids or r["to"] not in ids:
            raise NetworkImportError(f"edges.csv: unknown node in {r['from']}-{r['to']}")
        try:
            edges.append(
                (
                    r["from"],
                    r["to"],
                    Mode(r["mode"]),
                    float(r["est_minutes"]) * 60.0,
                    float(r["est_km"]) * 1000.0,
                )
            )
        except ValueError as exc:
            raise NetworkImportError(f"edges.csv: bad row {r}: {exc}") from exc
    return edges


def load_corridors(directory: Path, name: str = "dprk") -> Network:
    """Read a corridor table folder into a Network with its posts and exits (see module doc).

    Post ids: ``station-<node id>`` for every non-border node on a rail edge;
    ``checkpoint-<edge>`` (``checkpoint-<edge>-<mode>`` when the edge has a road and a rail
    checkpoint); ``border-<id>``; ``guard-kilju`` at Kilju. Exits are the border crossings.
    """
    node_rows = _read_csv(directory / "nodes.csv", {"id", "name", "lat", "lon", "kind"})
    if not node_rows:
        raise NetworkImportError(f"{directory / 'nodes.csv'}: no nodes")
    b = _Builder()
    ids = {r["id"]: b.node(float(r["lat"]), float(r["lon"]), r["name"]) for r in node_rows}
    kinds = {r["id"]: r["kind"] for r in node_rows}
    edges = _read_edges(directory, ids)
    posts, rail_towns = _add_edges(b, edges, ids, _checkpoints(directory))
    net = _assemble(b, name)
    for town in sorted(rail_towns, key=lambda t: ids[t]):
        if kinds[town] != "border_crossing":
            posts.append(
                NetworkPost(
                    f"station-{town}",
                    PostKind.STATION,
                    b.names[ids[town]],
                    b.lat[ids[town]],
                    b.lon[ids[town]],
                    Mode.RAIL,
                    ids[town],
                )
            )
    net.posts = posts
    _add_borders(net, directory)
    _add_kilju_guard(net)
    return net


_Checkpoints = dict[tuple[str, Mode], tuple[str, dict[str, str]]]


def _checkpoints(directory: Path) -> _Checkpoints:
    """Checkpoint rows keyed by (edge, mode), each with its post id (see load_corridors)."""
    rows = _read_csv(directory / "checkpoints_synthetic.csv", {"edge", "mode", "lat", "lon"})
    per_edge = Counter(r["edge"] for r in rows)
    split: _Checkpoints = {}
    for r in rows:
        post_id = f"checkpoint-{r['edge']}"
        if per_edge[r["edge"]] > 1:
            post_id += f"-{r['mode']}"
        split[(r["edge"], Mode(r["mode"]))] = (post_id, r)
    return split


def _add_edges(
    b: _Builder,
    edges: list[tuple[str, str, Mode, float, float]],
    ids: dict[str, int],
    split: _Checkpoints,
) -> tuple[list[NetworkPost], set[str]]:
    """Add every edge to ``b``, an edge with a checkpoint as two halves through a new midpoint
    node (``split`` is emptied as they are used). Returns the checkpoint posts and the towns
    on a rail edge; NetworkImportError for a checkpoint on an edge that does not exist."""
    posts: list[NetworkPost] = []
    rail_towns: set[str] = set()
    for a, c, mode, seconds, metres in edges:
        key = next(((e, mode) for e in (f"{a}-{c}", f"{c}-{a}") if (e, mode) in split), None)
        if mode is Mode.RAIL:
            rail_towns.update((a, c))
        if key is None:
            b.edge(ids[a], ids[c], seconds, metres, mode)
            continue
        post_id, row = split.pop(key)
        mid = b.node(
            (b.lat[ids[a]] + b.lat[ids[c]]) / 2,
            (b.lon[ids[a]] + b.lon[ids[c]]) / 2,
            f"checkpoint {row['edge']} ({mode.value})",
        )
        b.edge(ids[a], mid, seconds / 2, metres / 2, mode)
        b.edge(mid, ids[c], seconds / 2, metres / 2, mode)
        posts.append(
            NetworkPost(
                post_id,
                PostKind.CHECKPOINT,
                f"Checkpoint {row['edge']}",
                float(row["lat"]),
                float(row["lon"]),
                mode,
                mid,
            )
        )
    if split:
        raise NetworkImportError(f"checkpoints on unknown edges: {sorted(e for e, _ in split)}")
    return posts, rail_towns


def _add_kilju_guard(net: Network) -> None:
    """Add the Kilju guard post at the road node nearest to it."""
    glat, glon = KILJU_GUARD[2], KILJU_GUARD[3]
    node, _ = nearest_node(net, glat, glon, mode=Mode.ROAD)
    net.posts.append(
        NetworkPost(
            KILJU_GUARD[0], PostKind.GUARD_POST, KILJU_GUARD[1], glat, glon, Mode.ROAD, node
        )
    )


def _assemble(b: _Builder, name: str) -> Network:
    arcs = np.array(b.arcs, dtype=np.float64)
    indptr, indices, seconds, metres, modes, _ = build_csr(
        len(b.lat),
        arcs[:, 0].astype(np.int64),
        arcs[:, 1].astype(np.int64),
        arcs[:, 2],
        arcs[:, 3],
        arcs[:, 4].astype(np.uint8),
    )
    return Network(
        name=name,
        node_lat=np.array(b.lat),
        node_lon=np.array(b.lon),
        indptr=indptr,
        indices=indices,
        arc_seconds=seconds,
        arc_metres=metres,
        arc_mode=modes,
        node_names=dict(b.names),
        attribution=ATTRIBUTION,
    )


def _add_borders(net: Network, directory: Path) -> None:
    rows = _read_csv(directory / "border_crossings.csv", {"id", "name", "mode", "lat", "lon"})
    for r in rows:
        lat, lon, mode = float(r["lat"]), float(r["lon"]), _mode_of(r["mode"])
        node, _ = nearest_node(net, lat, lon, mode=mode)
        post_id = f"border-{r['id']}"
        net.posts.append(
            NetworkPost(post_id, PostKind.BORDER_CROSSING, r["name"], lat, lon, mode, node)
        )
        net.exits.append(Exit(post_id, "border_crossing", r["name"], node))
