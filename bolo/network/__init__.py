"""The transport network: import (OSM, corridor tables), travel times, posts, isochrones.

Pure: numpy, scipy, numba, shapely, osmium. ``load(name)`` is the entry point for readers.
"""

from __future__ import annotations

from pathlib import Path

from bolo.network.errors import NetworkError, NetworkImportError, NetworkNotFound, PointTooFar
from bolo.network.graph import Exit, Mode, ModeCode, Network, NetworkPost, PostKind

BUNDLED_CORRIDORS = {"dprk": Path(__file__).resolve().parent.parent / "data" / "dprk"}

__all__ = [
    "Exit",
    "Mode",
    "ModeCode",
    "Network",
    "NetworkError",
    "NetworkImportError",
    "NetworkNotFound",
    "NetworkPost",
    "PointTooFar",
    "PostKind",
    "default_network",
    "imported_networks",
    "is_known",
    "load",
    "networks_root",
]


def networks_root() -> Path:
    """The folder where networks are cached (``BOLO_DATA_DIR``/networks)."""
    from bolo.settings import get_settings

    return get_settings().networks_dir()


def is_known(name: str) -> bool:
    """Whether ``load(name)`` can give a network: a bundled one, or one imported into the
    networks folder (checked without loading it)."""
    from bolo.network.store import read_meta

    return name in BUNDLED_CORRIDORS or read_meta(networks_root(), name) is not None


def imported_networks() -> list[str]:
    """The names of the networks imported into the networks folder (bundled ones excluded),
    sorted."""
    from bolo.network.store import read_meta

    root = networks_root()
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.name not in BUNDLED_CORRIDORS and read_meta(root, p.name) is not None
    )


def default_network() -> str:
    """The network a case is on when it names none: ``BOLO_DEFAULT_NETWORK`` when set, else the
    only imported network when there is exactly one, else the bundled "dprk" corridors."""
    from bolo.settings import get_settings

    chosen = get_settings().default_network.strip()
    if chosen:
        return chosen
    imported = imported_networks()
    return imported[0] if len(imported) == 1 else "dprk"


def load(name: str) -> Network:
    """Load the cached network ``name``; build and cache a bundled corridor network ("dprk")
    on first use. NetworkNotFound when there is no such network."""
    from bolo.network.store import load_network, read_meta, save_network

    root = networks_root()
    meta = read_meta(root, name)
    if name in BUNDLED_CORRIDORS:
        from bolo.network.corridors import corridor_cache_key, load_corridors

        key = corridor_cache_key(BUNDLED_CORRIDORS[name])
        if meta is not None and meta.get("extra", {}).get("cache_key") == key:
            return load_network(root, name)
        network = load_corridors(BUNDLED_CORRIDORS[name], name=name)
        save_network(network, root, extra={"cache_key": key})
        return network
    if meta is not None:
        return load_network(root, name)
    raise NetworkNotFound(
        f"no network named {name!r} in {root}; import one with "
        f"'bolo network import FILE.osm.pbf --name {name}'"
    )
