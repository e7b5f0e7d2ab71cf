"""OpenStreetMap import: ``import_osm(path, name=...)`` builds (or reloads from cache) a Network."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bolo.network.contract import contract_chains
from bolo.network.errors import NetworkImportError
from bolo.network.graph import ModeCode, Network, PostKind
from bolo.network.osm.assemble import (
    ImportOptions,
    combine,
    prune_rail,
    prune_road,
    station_transfers,
)
from bolo.network.osm.deadends import turn_at_dead_ends
from bolo.network.osm.gazetteer import extract_places, has_places
from bolo.network.osm.places import cut_exits, dedupe_posts, patrol_posts, tagged_places
from bolo.network.osm.read import RawOsm, coord_key, read_osm, to_fixed
from bolo.network.osm.topology import split_ways
from bolo.network.store import load_network, network_dir, read_meta, save_network

IMPORT_VERSION = 4
ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
Progress = Callable[[str], None]

__all__ = ["ImportOptions", "file_sha256", "import_osm"]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_key(sha: str, opts: ImportOptions) -> str:
    blob = json.dumps({"sha": sha, "v": IMPORT_VERSION, "opts": asdict(opts)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def import_osm(
    path: Path,
    *,
    name: str,
    root: Path | None = None,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> Network:
    """Import an OSM extract as network ``name`` under ``root`` (default: BOLO_DATA_DIR/networks).

    When the same file (by SHA-256) was imported under that name with the same options, the
    cached arrays are loaded instead. Errors (unreadable, empty, no roads) raise
    NetworkImportError and leave any previous network of that name untouched.
    """
    if root is None:
        from bolo.network import networks_root

        root = networks_root()
    opts = options or ImportOptions()
    step = progress or (lambda _msg: None)
    if not path.is_file():
        raise NetworkImportError(f"{path}: no such file")
    step("hashing")
    sha = file_sha256(path)
    key = _cache_key(sha, opts)
    meta = read_meta(root, name)
    if meta is not None and meta.get("extra", {}).get("cache_key") == key:
        step("loading from cache")
        if not has_places(network_dir(root, name)):
            step("place names")
            extract_places(path, network_dir(root, name))
        return load_network(root, name)
    network = build_network(path, name=name, options=opts, progress=step)
    network.source_sha256 = sha

    def gazetteer(folder: Path) -> None:
        step("place names")
        extract_places(path, folder)  # the geocoder's gazetteer of the imported country
        step("saving")

    save_network(network, root, extra={"cache_key": key, "source": path.name}, fill=gazetteer)
    return network


def _pins(raw: RawOsm, kinds: set[str]) -> np.ndarray:
    pts = [(t.lat, t.lon) for t in raw.tagged if t.kind in kinds and t.osm_id.startswith("n")]
    if not pts:
        return np.empty(0, dtype=np.int64)
    arr = np.array(pts)
    return coord_key(to_fixed(arr[:, 0]), to_fixed(arr[:, 1]))


def build_network(
    path: Path, *, name: str, options: ImportOptions | None = None, progress: Progress | None = None
) -> Network:
    """Build a Network from an OSM file without touching any cache (see import_osm)."""
    opts = options or ImportOptions()
    step = progress or (lambda _msg: None)
    step("reading OSM")
    raw = read_osm(path)
    step("splitting ways")
    road = split_ways(
        raw.road, _pins(raw, {PostKind.CHECKPOINT.value, PostKind.BORDER_CROSSING.value})
    )
    rail = split_ways(raw.rail, _pins(raw, {PostKind.STATION.value}))
    step("pruning islands")
    road = turn_at_dead_ends(prune_road(road, opts.min_component_nodes))
    stations = np.array(
        [(t.lat, t.lon) for t in raw.tagged if t.kind == PostKind.STATION.value]
    ).reshape(-1, 2)
    rail = prune_rail(rail, stations[:, 0], stations[:, 1], opts.station_rail_metres)
    if road.tails.size + rail.tails.size == 0:
        raise NetworkImportError(
            f"{path}: no usable road or rail network (no way joins two distinct points)"
        )
    step("assembling")
    transfers = station_transfers(road, rail, stations[:, 0], stations[:, 1], opts)
    combined = combine(name, road, rail, transfers)
    step("posts and exits")
    posts, exits, _dropped = tagged_places(combined, raw, opts)
    posts += patrol_posts(combined, raw, opts)
    exits += cut_exits(combined, raw)
    net = combined.network
    net.posts = dedupe_posts(posts)
    net.exits = exits
    net.node_names = {p.node: p.name for p in net.posts if p.kind != PostKind.PATROL}
    net.attribution = ATTRIBUTION
    step("contracting chains")
    # Transfer ends stay: they are where a traveller changes mode.
    transfer_ends = np.flatnonzero(
        np.bincount(net.indices[net.arc_mode == ModeCode.TRANSFER], minlength=net.n_nodes)
    )
    return contract_chains(net, keep_nodes=transfer_ends)
