"""Small synthetic OSM extracts for tests, written with pyosmium's SimpleWriter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way


@dataclass
class Extract:
    """Nodes and ways to write; ``grid`` adds a street grid and returns its node ids."""

    nodes: list[Node] = field(default_factory=list)
    ways: list[Way] = field(default_factory=list)
    next_id: int = 1

    def node(self, lat: float, lon: float, tags: dict[str, str] | None = None) -> int:
        """Add a node at (lat, lon) (WGS84 degrees; lon wrapped into -180..180); its id."""
        ident = self.next_id
        self.next_id += 1
        lon = (lon + 180.0) % 360.0 - 180.0
        self.nodes.append(Node(id=ident, location=(lon, lat), tags=tags or {}))
        return ident

    def way(self, refs: Iterable[int], tags: dict[str, str]) -> int:
        """Add a way over node ids ``refs``; its id."""
        ident = self.next_id
        self.next_id += 1
        self.ways.append(Way(id=ident, nodes=list(refs), tags=tags))
        return ident

    def grid(
        self,
        lat: float,
        lon: float,
        *,
        side: int = 12,
        step: float = 0.002,
        tags: dict[str, str] | None = None,
    ) -> dict[tuple[int, int], int]:
        """A side x side street grid (rows and columns, ``step`` degrees apart) with its
        south-west corner at (lat, lon); the node id of each (row, column)."""
        ids = {
            (i, j): self.node(lat + i * step, lon + j * step)
            for i in range(side)
            for j in range(side)
        }
        t = tags or {"highway": "tertiary"}
        for i in range(side):
            self.way([ids[i, j] for j in range(side)], dict(t))
            self.way([ids[j, i] for j in range(side)], dict(t))
        return ids

    def write(self, path: Path) -> Path:
        """Write the extract (format by the file name: .osm.pbf, .osm, .osm.bz2, ...)."""
        path.unlink(missing_ok=True)
        writer = osmium.SimpleWriter(str(path))
        try:
            for n in sorted(self.nodes, key=lambda n: n.id):
                writer.add_node(n)
            for w in sorted(self.ways, key=lambda w: w.id):
                writer.add_way(w)
        finally:
            writer.close()
        return path
