"""The compact network every other part reads: nodes, CSR arcs with travel times, posts, exits.

This module is the contract between the network builders (OSM import, corridor import) and
its readers (travel times, the search picture, the API). It is pure: numpy and scipy only.
Coordinates are WGS84 degrees, times seconds, lengths metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]


class Mode(StrEnum):
    """How a traveller moves along an arc."""

    ROAD = "road"
    RAIL = "rail"
    FOOT = "foot"
    TRANSFER = "transfer"


class ModeCode(IntEnum):
    """The integer code of a Mode as stored in the uint8 arrays."""

    ROAD = 0
    RAIL = 1
    FOOT = 2
    TRANSFER = 3

    @classmethod
    def of(cls, mode: Mode) -> ModeCode:
        """Return the array code of a mode."""
        return cls[mode.name]

    def mode(self) -> Mode:
        """Return the Mode this code stands for."""
        return Mode[self.name]


class PostKind(StrEnum):
    """The kinds of receiving post bolo knows."""

    CHECKPOINT = "checkpoint"
    STATION = "station"
    PATROL = "patrol"
    BORDER_CROSSING = "border_crossing"
    GUARD_POST = "guard_post"
    POLICE = "police"
    MILITARY = "military"
    FERRY_TERMINAL = "ferry_terminal"
    PUBLIC = "public"


@dataclass(frozen=True)
class NetworkPost:
    """A post as the network sees it: a stable id, a kind, a place and the node it is snapped to."""

    post_id: str
    kind: PostKind
    name: str
    lat: float
    lon: float
    mode: Mode
    node: int


@dataclass(frozen=True)
class Exit:
    """A place where a traveller can leave the region (border crossing, cut road, port)."""

    exit_id: str
    kind: str
    name: str
    node: int


@dataclass
class Network:
    """A directed multimodal graph in CSR form with its posts and exits.

    Arc ``k`` leaves node ``i`` for ``indptr[i] <= k < indptr[i+1]`` and reaches ``indices[k]``;
    ``arc_seconds[k]`` is its nominal travel time, ``arc_metres[k]`` its length and
    ``arc_mode[k]`` its ModeCode.
    """

    name: str
    node_lat: FloatArray
    node_lon: FloatArray
    indptr: IntArray
    indices: IntArray
    arc_seconds: FloatArray
    arc_metres: FloatArray
    arc_mode: ByteArray
    node_names: dict[int, str] = field(default_factory=dict)
    posts: list[NetworkPost] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)
    attribution: str = ""
    # Drawing geometry of contracted arcs: arc k is drawn through the points
    # geom_lat/lon[geom_ptr[k]:geom_ptr[k+1]] (interior points only; empty = straight line).
    geom_ptr: IntArray | None = None
    geom_lat: FloatArray | None = None
    geom_lon: FloatArray | None = None
    source_sha256: str = ""
    # Derived, rebuildable data (k-d trees, reverse graphs) kept with the network it belongs to.
    cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_lat.shape[0])

    @property
    def n_arcs(self) -> int:
        """Number of directed arcs."""
        return int(self.indices.shape[0])

    def node_has_mode(self, mode: Mode) -> npt.NDArray[np.bool_]:
        """Boolean mask of the nodes that have at least one arc of ``mode`` (in or out)."""
        key = f"node_has_mode:{mode.value}"
        cached = self.cache.get(key)
        if cached is None:
            arcs = self.arc_mode == ModeCode.of(mode)
            mask = np.zeros(self.n_nodes, dtype=np.bool_)
            mask[self.indices[arcs]] = True
            tails = np.repeat(np.arange(self.n_nodes), np.diff(self.indptr))
            mask[tails[arcs]] = True
            self.cache[key] = mask
            return mask
        return cached  # type: ignore[return-value]

    def post(self, post_id: str) -> NetworkPost:
        """Return the post with this id or raise KeyError."""
        for p in self.posts:
            if p.post_id == post_id:
                return p
        raise KeyError(post_id)
