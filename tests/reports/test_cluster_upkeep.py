"""Keeping a cluster's queue line costs what the cluster holds, not what the database holds:
the line of one cluster is rewritten from that cluster's rows (its index), never by walking
every new report (which each added report paid, the triage worker's add_report_ms)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from bolo.reports.cluster_upkeep import refresh_lines
from bolo.reports.intake import ReportState
from bolo.reports.model import Report, ReportCluster
from bolo.store.db import session_scope
from tests.reports.factories import coordinator, songchon_case
from tests.reports.test_clustering import _scattered


def _steps(engine: Engine, labels: list[str]) -> tuple[int, int]:
    """SQLite virtual-machine steps (in thousands) of rewriting the lines of ``labels``, and
    of counting the new reports of the database once."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.set_progress_handler(tick, 1000)  # type: ignore[union-attr]
        refresh_lines(conn, labels)
        line, steps[0] = steps[0], 0
        conn.execute(
            select(func.count()).select_from(Report).where(Report.state == ReportState.NEW.value)
        ).scalar_one()
        raw.set_progress_handler(None, 0)  # type: ignore[union-attr]
        conn.rollback()
    return line, steps[0]


def test_a_clusters_line_is_rewritten_from_its_own_rows(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = songchon_case(s, coordinator(s)).id
    _scattered(sqlite_engine, case_id, 3000)
    with session_scope(sqlite_engine) as s:
        lines = s.execute(select(ReportCluster).limit(2)).scalars().all()
        before = {line.id: (line.head_id, line.new_count) for line in lines}
    # Two clusters, as a clustered report's own and the one it joined: with more than one
    # label SQLite preferred the index of every new report when the state was tested too.
    rewrite, count_all = _steps(sqlite_engine, sorted(before))
    assert count_all > 0 and rewrite * 10 <= count_all, (rewrite, count_all)
    with sqlite_engine.begin() as conn:
        refresh_lines(conn, sorted(before))
    with session_scope(sqlite_engine) as s:
        after = {label: s.get(ReportCluster, label) for label in before}
        assert {k: (v.head_id, v.new_count) for k, v in after.items() if v} == before
