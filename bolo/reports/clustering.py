"""Near-duplicate clustering of stored reports: once per report, against its neighbours only.

A report is stored unclustered (``cluster_id`` NULL). ``cluster_pending`` (run by the
triage worker process of ``bolo serve`` or by ``bolo report cluster``) takes a batch of them,
computes their keys once (trigram set, h3 cell) and compares each with the stored reports of its
case near it: the same or neighbouring h3 cells within the time window, plus reports without a
place whose trigram count could reach the similarity needed. It merges the clusters it links
(single linkage, labelled by the earliest report, as ``triage_rules.cluster`` does for a whole list)
and re-scores the ``new`` reports whose corroboration changed. Reading and comparing happen
outside any write transaction; the writes of a batch take one short transaction.

One worker at a time clusters a database: the worker holds a lease (``bolo.store.leases``)
and renews it in the transaction that writes each batch.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import h3
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    bindparam,
    select,
    update,
)

from bolo.reports.cluster_upkeep import case_facts, in_chunks, live_sizes, refresh_lines, rescore
from bolo.reports.intake import ReportKind
from bolo.reports.model import Report
from bolo.reports.triage_rules import (
    LIMITS,
    Limits,
    ReportFacts,
    linked,
    parse_text_key,
    shingles,
)

_REPORTS = cast(Table, Report.__table__)
CELL_RESOLUTION = 5  # h3 cells of ~250 km2 (edge ~8.5 km): a handful cover a report's reach
_NEIGHBOUR_COLUMNS = (
    Report.id,
    Report.cluster_id,
    Report.seen_at,
    Report.lat,
    Report.lon,
    Report.radius_m,
    Report.text_key,
    Report.state,
)


# The same stored reports are neighbours of batch after batch: read each key set once.
_parsed = lru_cache(maxsize=1 << 16)(parse_text_key)


def cell_of(lat: float | None, lon: float | None) -> str | None:
    """The h3 cell (resolution ``CELL_RESOLUTION``) of a WGS84 point; None without one."""
    if lat is None or lon is None:
        return None
    return str(h3.latlng_to_cell(lat, lon, CELL_RESOLUTION))


def cells_within(cell: str, distance_m: float) -> list[str]:
    """Every cell holding a point that may lie within ``distance_m`` metres of a point in
    ``cell``: a disk of rings wide enough for the local cell size, with a cell to spare."""
    # Edge of a regular hexagon of the cell's area; neighbouring centres are edge * sqrt(3) apart.
    edge = math.sqrt(2.0 * h3.cell_area(cell, "m^2") / (3.0 * math.sqrt(3.0)))
    rings = math.ceil((distance_m + 2.0 * edge) / (0.9 * edge * math.sqrt(3.0)))
    return [str(c) for c in h3.grid_disk(cell, rings)]


@dataclass
class _Node:
    """A report as clustering sees it: its facts, trigram set, h3 cell and current cluster."""

    facts: ReportFacts
    keys: frozenset[str]
    cell: str | None
    cluster: str


@dataclass
class _Batch:
    """One case's pending reports and the stored reports they may link to, by h3 cell."""

    case_id: str | None
    pending: list[_Node] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    by_cell: dict[str | None, list[_Node]] = field(default_factory=lambda: defaultdict(list))
    parent: dict[str, str] = field(default_factory=dict)  # cluster -> the cluster it joined
    first_seen: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def root(self, label: str) -> str:
        """The cluster that ``label`` has been merged into (itself when none)."""
        while label in self.parent:
            label = self.parent[label]
        return label

    def keep(self, node: _Node) -> None:
        """Make ``node`` a candidate for the reports compared after it."""
        if node.facts.id not in self.seen:
            self.seen.add(node.facts.id)
            self.by_cell[node.cell].append(node)

    def candidates(self, node: _Node, limits: Limits) -> Iterable[_Node]:
        """The kept reports in cells ``node`` may reach, and those without a place."""
        if node.cell is None:
            return [m for members in self.by_cell.values() for m in members]
        near = cells_within(node.cell, limits.distance_m + node.facts.radius_m)
        return [m for c in [*near, None] for m in self.by_cell.get(c, ())]


def _node(row: Any, keys: frozenset[str], cluster: str) -> _Node:
    facts = ReportFacts(
        id=row.id,
        kind=ReportKind.TIP,
        text="",
        time=row.seen_at,
        lat=row.lat,
        lon=row.lon,
        radius_m=row.radius_m,
    )
    return _Node(facts, keys, cell_of(row.lat, row.lon), cluster)


def _pending(conn: Connection, limit: int) -> list[Row[Any]]:
    stmt = (
        select(
            Report.id,
            Report.case_id,
            Report.text,
            Report.seen_at,
            Report.lat,
            Report.lon,
            Report.radius_m,
        )
        .where(Report.cluster_id.is_(None))
        .order_by(Report.created_at, Report.id)
        .limit(limit)
    )
    return list(conn.execute(stmt))


def _neighbours(conn: Connection, batch: _Batch, limits: Limits) -> None:
    """Load the clustered reports of the case that may link to a pending one."""
    low = min(n.facts.time for n in batch.pending) - limits.window
    high = max(n.facts.time for n in batch.pending) + limits.window
    base = select(*_NEIGHBOUR_COLUMNS).where(
        Report.case_id.is_(None) if batch.case_id is None else Report.case_id == batch.case_id,
        Report.cluster_id.is_not(None),
        Report.seen_at.between(low, high),
    )
    cells: set[str] = set()
    for node in batch.pending:
        if node.cell is not None:
            cells.update(cells_within(node.cell, limits.distance_m + node.facts.radius_m))
    queries = [base.where(Report.cell.in_(chunk)) for chunk in in_chunks(cells)]
    # A link without a place needs similarity >= the unplaced threshold t, so the smaller set
    # has at least t times the larger's trigrams: a range of counts the index can pick.
    t = limits.unplaced_threshold
    sizes = [len(n.keys) for n in batch.pending]
    size_rule = Report.key_size.between(math.floor(min(sizes) * t), math.ceil(max(sizes) / t))
    if any(n.cell is None for n in batch.pending):
        queries.append(base.where(size_rule))
    else:
        queries.append(base.where(Report.cell.is_(None), size_rule))
    for query in queries:
        for row in conn.execute(query):
            batch.keep(_node(row, _parsed(row.text_key or ""), row.cluster_id))


def _first_seen(conn: Connection, batch: _Batch) -> None:
    """(time, id) of every cluster head involved: the earliest report names a cluster."""
    labels = {m.cluster for members in batch.by_cell.values() for m in members}
    for chunk in in_chunks(labels):
        for row in conn.execute(select(Report.id, Report.seen_at).where(Report.id.in_(chunk))):
            batch.first_seen[row.id] = (row.seen_at, row.id)


def _link(batch: _Batch, node: _Node, limits: Limits) -> None:
    """Join ``node`` to every cluster it links to, merging them under the earliest head."""
    heads = {node.facts.id}
    for other in batch.candidates(node, limits):
        # One link is enough to join a cluster: members of a cluster already joined are skipped.
        label = batch.root(other.cluster)
        if label not in heads and linked(node.facts, other.facts, node.keys, other.keys, limits):
            heads.add(label)
    batch.first_seen[node.facts.id] = (node.facts.time, node.facts.id)
    winner = min(heads, key=lambda h: batch.first_seen[h])
    for head in heads - {winner}:
        batch.parent[head] = winner
    node.cluster = winner
    batch.keep(node)


def cluster_batch(
    conn: Connection, rows: Sequence[Row[Any]], limits: Limits = LIMITS
) -> list[_Batch]:
    """Cluster pending report rows (read from ``conn``, nothing written); one batch per case."""
    by_case: dict[str | None, _Batch] = {}
    for row in rows:
        batch = by_case.setdefault(row.case_id, _Batch(row.case_id))
        batch.pending.append(_node(row, shingles(row.text), row.id))
    for batch in by_case.values():
        _neighbours(conn, batch, limits)
        _first_seen(conn, batch)
        for node in sorted(batch.pending, key=lambda n: (n.facts.time, n.facts.id)):
            _link(batch, node, limits)
    return list(by_case.values())


def _store(conn: Connection, batch: _Batch) -> tuple[set[str], set[str]]:
    """Write a batch's labels and keys; returns the ids of the reports to re-score (the
    batch's own and those of clusters of at most 2 that grew: corroboration counts up to 2,
    so in a larger cluster every report already had its full count) and the labels of the
    clusters that changed (those merged away among them)."""
    final = {label: batch.root(label) for label in batch.parent}
    grown = set(final) | set(final.values()) | {batch.root(n.cluster) for n in batch.pending}
    small = [label for label, n in live_sizes(conn, grown).items() if n <= 2]
    ids = {n.facts.id for n in batch.pending}
    for chunk in in_chunks(small):
        ids.update(conn.execute(select(Report.id).where(Report.cluster_id.in_(chunk))).scalars())
    for loser, winner in final.items():
        conn.execute(update(Report).where(Report.cluster_id == loser).values(cluster_id=winner))
    rows = [
        {
            "rid": n.facts.id,
            "label": batch.root(n.cluster),
            "key": "|".join(sorted(n.keys)),
            "size": len(n.keys),
            "cell": n.cell,
        }
        for n in batch.pending
    ]
    conn.execute(
        update(_REPORTS)
        .where(_REPORTS.c.id == bindparam("rid"))
        .values(
            cluster_id=bindparam("label"),
            text_key=bindparam("key"),
            key_size=bindparam("size"),
            cell=bindparam("cell"),
        ),
        rows,
    )
    return ids, grown


def cluster_pending(
    engine: Engine,
    *,
    limit: int = 1024,
    limits: Limits = LIMITS,
    guard: Callable[[Connection], bool] | None = None,
) -> int:
    """Cluster up to ``limit`` unclustered reports (oldest received first) and store their
    labels, keys and scores; returns how many were clustered (0: nothing was waiting).
    ``guard`` runs first in the writing transaction (the worker renews its lease there): when
    it answers False nothing is written and 0 is returned."""
    with engine.connect() as conn:
        rows = _pending(conn, limit)
        if not rows:
            return 0
        batches = cluster_batch(conn, rows, limits)
        conn.rollback()  # end the read: the comparing held no lock, the writes come next
    with engine.begin() as conn:
        if guard is not None and not guard(conn):
            return 0
        for batch in batches:
            ids, changed = _store(conn, batch)
            rescore(conn, ids=ids, case=case_facts(conn, batch.case_id))
            refresh_lines(conn, changed)
    return len(rows)
