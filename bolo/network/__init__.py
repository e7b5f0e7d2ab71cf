"""The transport network: import (OSM, corridor tables), travel times, posts, isochrones.

Pure: numpy, scipy, numba, shapely, osmium. ``load(name)`` is the entry point for readers.
"""

from __future__ import annotations

import threading
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
    "load_shared",
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


_shared: dict[tuple[str, str], tuple[tuple[int, ...], Network]] = {}
_shared_lock = threading.Lock()
# Networks kept at once: an installation runs on one or a few; more data folders only in tests.
_SHARED_MAX = 8


def load_shared(name: str) -> tuple[Network, tuple[int, ...]]:
    """``load(name)`` once per stored copy in this process, and that copy's identity
    (``bolo.network.store.stored_identity``): the same Network object until the network's files
    change (a new import), so that what is cached on it (snapping trees, travel weights, the
    search model) is built once. Callers must not change its arrays or posts
    (``bolo.network.posts.with_posts`` gives a copy with other posts). A bundled network is
    checked against its sources when first loaded only."""
    from bolo.network.store import stored_identity

    root = networks_root()
    key = (str(root), name)
    with _shared_lock:
        identity = stored_identity(root, name)
        found = _shared.get(key)
        if found is not None and found[0] == identity:
            return found[1], found[0]
        # Under the lock: a burst of first requests reads the files once, not once each.
        network = load(name)
        # The identity seen before reading: files replaced meanwhile differ from it next time.
        identity = identity or stored_identity(root, name) or ()
        _shared.pop(key, None)
        _shared[key] = (identity, network)
        while len(_shared) > _SHARED_MAX:  # the least recently loaded goes first
            del _shared[next(iter(_shared))]
        return network, identity
