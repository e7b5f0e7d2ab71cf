"""Save and load networks as a folder: ``arrays.npz`` (uncompressed, fast) + ``meta.json``.

Writes go to a temporary folder renamed into place, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bolo.network.errors import InvalidNetworkName, NetworkNotFound
from bolo.network.graph import Exit, Mode, Network, NetworkPost, PostKind

FORMAT_VERSION = 1
_ARRAYS = ("node_lat", "node_lon", "indptr", "indices", "arc_seconds", "arc_metres", "arc_mode")
_GEOM = ("geom_ptr", "geom_lat", "geom_lon")


def network_dir(root: Path, name: str) -> Path:
    """Folder of the network ``name`` under the networks root."""
    if not name or "/" in name or "\x00" in name or name.startswith("."):
        raise InvalidNetworkName(f"invalid network name {name!r}")
    return root / name


def _post_json(p: NetworkPost) -> dict[str, Any]:
    return {
        "id": p.post_id,
        "kind": p.kind.value,
        "name": p.name,
        "lat": p.lat,
        "lon": p.lon,
        "mode": p.mode.value,
        "node": p.node,
    }


def save_network(
    network: Network,
    root: Path,
    *,
    extra: dict[str, Any] | None = None,
    fill: Callable[[Path], object] | None = None,
) -> Path:
    """Write ``network`` under ``root/<name>`` atomically and return that folder. ``fill`` is
    called with the new folder before it replaces the old one, to write more files beside the
    arrays: when it raises, nothing is replaced."""
    target = network_dir(root, network.name)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{network.name}.", dir=root))
    try:
        arrays = {k: getattr(network, k) for k in _ARRAYS}
        for k in _GEOM:
            value = getattr(network, k)
            if value is not None:
                arrays[k] = value
        np.savez(tmp / "arrays.npz", **arrays)
        meta = {
            "format": FORMAT_VERSION,
            "name": network.name,
            "attribution": network.attribution,
            "source_sha256": network.source_sha256,
            "node_names": {str(k): v for k, v in network.node_names.items()},
            "posts": [_post_json(p) for p in network.posts],
            "exits": [
                {"id": e.exit_id, "kind": e.kind, "name": e.name, "node": e.node}
                for e in network.exits
            ],
            "extra": extra or {},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        if fill is not None:
            fill(tmp)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{network.name}.old.", dir=root))
            os.replace(target, old / "x")
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_meta(root: Path, name: str) -> dict[str, Any] | None:
    """The meta.json of a stored network, or None when there is none (or it is unreadable)."""
    path = network_dir(root, name) / "meta.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if meta.get("format") == FORMAT_VERSION else None


def stored_identity(root: Path, name: str) -> tuple[int, ...] | None:
    """What tells one stored copy of network ``name`` from another without reading it: device,
    inode, size and modification time (ns) of its two files; None when it is not stored. A new
    import renames a new folder into place, so the identity changes with every import."""
    folder = network_dir(root, name)
    found: list[int] = []
    for file in ("meta.json", "arrays.npz"):
        try:
            stat = (folder / file).stat()
        except OSError:
            return None
        found += [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns]
    return tuple(found)


def load_network(root: Path, name: str) -> Network:
    """Load the network stored under ``root/<name>``; NetworkNotFound when absent or stale."""
    meta = read_meta(root, name)
    if meta is None:
        raise NetworkNotFound(f"no network named {name!r} in {root}")
    with np.load(network_dir(root, name) / "arrays.npz") as data:
        arrays = {k: data[k] for k in data.files}
    posts = [
        NetworkPost(
            post_id=p["id"],
            kind=PostKind(p["kind"]),
            name=p["name"],
            lat=p["lat"],
            lon=p["lon"],
            mode=Mode(p["mode"]),
            node=p["node"],
        )
        for p in meta["posts"]
    ]
    exits = [
        Exit(exit_id=e["id"], kind=e["kind"], name=e["name"], node=e["node"]) for e in meta["exits"]
    ]
    return Network(
        name=meta["name"],
        **{k: arrays[k] for k in _ARRAYS},
        node_names={int(k): v for k, v in meta["node_names"].items()},
        posts=posts,
        exits=exits,
        attribution=meta["attribution"],
        geom_ptr=arrays.get("geom_ptr"),
        geom_lat=arrays.get("geom_lat"),
        geom_lon=arrays.get("geom_lon"),
        source_sha256=meta["source_sha256"],
    )
