"""Stored clustering: once per report, against neighbours only, equal to the whole-list reference;
the queue reads stored clusters, a page at a time, leaving no report out."""

from __future__ import annotations

import math
import random
import time
from datetime import timedelta

import h3
import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from bolo.clock import now
from bolo.errors import InvalidInput
from bolo.reports import service
from bolo.reports.clustering import cell_of, cells_within, cluster_pending
from bolo.reports.decisions import facts_of
from bolo.reports.geocode import haversine_m
from bolo.reports.intake import ReportState, TipIn
from bolo.reports.model import Report
from bolo.reports.triage_rules import cluster
from bolo.reports.worker import TriageWorker, cluster_all
from bolo.store.db import session_scope
from tests.reports.factories import KILJU, coordinator, songchon_case

TEXTS = [
    "couple with a small boy in a grey truck heading north",
    "a couple and a small boy, grey truck, going north",
    "man in a military coat carrying a crying child",
    "red car speeding south with a child in the back",
    "nothing unusual, just a stray dog near the market",
]
PLACES = [None, "Kilju", "Gilju", "Hamhung", "zzqx unknown place"]


def _random_tips(case_id: str, count: int, seed: int) -> list[TipIn]:
    rng = random.Random(seed)
    tips = []
    for i in range(count):
        text = f"{rng.choice(TEXTS)}{'!' * rng.randrange(3)} {i % 7}"
        place = rng.choice(PLACES)
        lat = lon = None
        if place is None:
            lat, lon = KILJU[0] + rng.uniform(-0.08, 0.08), KILJU[1] + rng.uniform(-0.08, 0.08)
        tips.append(
            TipIn(
                case_id=case_id,
                what=text,
                place=place,
                lat=lat,
                lon=lon,
                seen_at=now() - timedelta(minutes=rng.uniform(1, 400)),
            )
        )
    return tips


def _labels(engine: Engine, case_id: str) -> tuple[list[str | None], list[str]]:
    with session_scope(engine) as s:
        rows = list(
            s.execute(select(Report).where(Report.case_id == case_id).order_by(Report.id)).scalars()
        )
        return [r.cluster_id for r in rows], cluster([facts_of(r) for r in rows])


@pytest.mark.parametrize("seed", [1, 2])
def test_stored_clusters_equal_the_whole_list_reference(db_engine: Engine, seed: int) -> None:
    with session_scope(db_engine) as s:
        case_id = songchon_case(s, coordinator(s)).id
    tips = _random_tips(case_id, 120, seed)
    rng = random.Random(seed)
    # Reports arrive in several lots, each clustered in batches of random sizes before the next.
    while tips:
        lot = tips[: rng.randint(5, 40)]
        tips = tips[len(lot) :]
        with session_scope(db_engine) as s:
            for tip in lot:
                service.submit_tip(s, tip=tip)
        while cluster_pending(db_engine, limit=rng.randint(1, 25)):
            pass
    stored, reference = _labels(db_engine, case_id)
    assert stored == reference
    assert len(set(reference)) < len(reference)  # some did cluster


def test_corroboration_is_scored_once_clusters_grow(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        case_id = songchon_case(s, coordinator(s)).id
        first = service.submit_tip(
            s,
            tip=TipIn(
                case_id=case_id, what=TEXTS[0], place="Kilju", seen_at=now() - timedelta(hours=1)
            ),
        )
    assert cluster_all(db_engine) == 1
    with session_scope(db_engine) as s:
        alone = s.get(Report, first.id)
        assert alone is not None and not any("agree" in r for r in alone.reasons)
        # The case's last-known place was applied when it was clustered.
        assert any("reachable" in r for r in alone.reasons)
        service.submit_tip(
            s,
            tip=TipIn(
                case_id=case_id, what=TEXTS[1], place="Gilju", seen_at=now() - timedelta(minutes=50)
            ),
        )
    cluster_all(db_engine)
    with session_scope(db_engine) as s:
        grown = s.get(Report, first.id)
        assert grown is not None and "1 other report(s) nearby agree: +0.10" in grown.reasons
        assert grown.cluster_id == first.id


def _agreeing(engine: Engine, report_id: str) -> list[str]:
    with session_scope(engine) as s:
        report = s.get(Report, report_id)
        assert report is not None
        return [r for r in report.reasons if "agree" in r]


def test_dismissing_a_report_rescores_the_others_of_its_cluster(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        author = coordinator(s)
        case_id = songchon_case(s, author).id
        ids = [
            service.submit_tip(
                s,
                tip=TipIn(
                    case_id=case_id,
                    what=TEXTS[i % 2],
                    place="Kilju",
                    seen_at=now() - timedelta(minutes=50 + i),
                ),
            ).id
            for i in range(3)
        ]
    cluster_all(db_engine)
    assert _agreeing(db_engine, ids[0]) == ["2 other report(s) nearby agree: +0.20"]
    with session_scope(db_engine) as s:
        service.triage_report(
            s, report_id=ids[2], state=ReportState.DISMISSED, reason="prank", actor=author
        )
    assert _agreeing(db_engine, ids[0]) == ["1 other report(s) nearby agree: +0.10"]
    assert _agreeing(db_engine, ids[1]) == ["1 other report(s) nearby agree: +0.10"]
    with session_scope(db_engine) as s:
        service.triage_report(
            s, report_id=ids[1], state=ReportState.DISMISSED, reason="prank", actor=author
        )
    assert _agreeing(db_engine, ids[0]) == []
    with session_scope(db_engine) as s:  # taken back: it supports the others again
        service.triage_report(
            s, report_id=ids[1], state=ReportState.CREDIBLE, reason="checked", actor=author
        )
    assert _agreeing(db_engine, ids[0]) == ["1 other report(s) nearby agree: +0.10"]


def test_queue_pages_cover_every_new_report_once(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = songchon_case(s, coordinator(s)).id
        for tip in _random_tips(case_id, 90, seed=3):
            service.submit_tip(s, tip=tip)
    with session_scope(sqlite_engine) as s:
        # Before clustering every report has a line of its own, and is counted as waiting.
        page = service.triage_page(s, case_id=case_id, reader=None, limit=1000)
        assert (len(page.entries), page.unclustered, page.total_new) == (90, 90, 90)
    cluster_all(sqlite_engine)
    seen: list[str] = []
    sizes = 0
    after = None
    with session_scope(sqlite_engine) as s:
        while True:
            page = service.triage_page(s, case_id=case_id, reader=None, after=after, limit=7)
            seen += [e.report.id for e in page.entries]
            sizes += sum(e.cluster_size for e in page.entries)
            scores = [e.report.credibility for e in page.entries]
            assert scores == sorted(scores, reverse=True)
            if page.next_after is None:
                break
            after = service.Cursor.decode(page.next_after.encode())
        assert page.unclustered == 0
        labels = {r.cluster_id for r in s.execute(select(Report)).scalars()}
    assert len(seen) == len(set(seen)) == len(labels)
    assert sizes == 90


def test_bad_queue_positions_are_refused() -> None:
    for token in ["", "nonsense", "YWJj", service.Cursor(0.5, now(), "x").encode()[:-3]]:
        with pytest.raises(InvalidInput):
            service.Cursor.decode(token)


def test_cells_within_cover_the_reach() -> None:
    rng = random.Random(5)
    for _ in range(300):
        lat, lon = rng.uniform(-60, 60), rng.uniform(-180, 180)
        reach = rng.uniform(100, 20_000)
        bearing = rng.uniform(0, 360)
        # A point at distance < reach, in a random direction.
        d = rng.uniform(0, reach) / 6_371_008.8
        phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
        phi2 = math.asin(
            math.sin(phi) * math.cos(d) + math.cos(phi) * math.sin(d) * math.cos(theta)
        )
        lam2 = lam + math.atan2(
            math.sin(theta) * math.sin(d) * math.cos(phi),
            math.cos(d) - math.sin(phi) * math.sin(phi2),
        )
        other = (math.degrees(phi2), math.degrees(lam2))
        assert haversine_m(lat, lon, *other) <= reach + 1
        here = cell_of(lat, lon)
        assert here is not None and h3.is_valid_cell(here)
        assert cell_of(*other) in cells_within(here, reach)


def test_worker_thread_clusters_what_arrives(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = songchon_case(s, coordinator(s)).id
        for tip in _random_tips(case_id, 10, seed=4):
            service.submit_tip(s, tip=tip)
    worker = TriageWorker(sqlite_engine, poll_s=0.05)
    worker.start()
    try:
        for _ in range(200):
            if worker.clustered >= 10:
                break
            time.sleep(0.05)
    finally:
        worker.stop()
    assert worker.clustered == 10
    with session_scope(sqlite_engine) as s:
        assert service.triage_page(s, case_id=case_id, reader=None).unclustered == 0
        assert all(r.state == ReportState.NEW.value for r in s.execute(select(Report)).scalars())


def _scattered(engine: Engine, case_id: str, count: int) -> None:
    """``count`` tips far apart (few neighbours each: quick to cluster), stored directly."""
    rng = random.Random(count)
    moment = now()
    rows = [
        {
            "id": f"scattered-{i:06d}",
            "receipt": f"S{i:07d}",
            "dedupe_key": f"scattered-{i}",
            "case_id": case_id,
            "kind": "tip",
            "text": f"{rng.choice(TEXTS)} {i}",
            "lat": KILJU[0] + rng.uniform(-1.5, 1.5),
            "lon": KILJU[1] + rng.uniform(-1.5, 1.5),
            "radius_m": 500.0,
            "seen_at": moment - timedelta(minutes=rng.uniform(1, 600)),
            "credibility": round(rng.uniform(0.2, 0.7), 2),
            "reasons": [],
            "created_at": moment,
        }
        for i in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Report), rows)
    cluster_all(engine)


def _page_steps(engine: Engine, case_id: str) -> tuple[int, int]:
    """SQLite virtual-machine steps (in thousands) of a triage page, and of counting the case's
    new reports once: the same on every machine, whatever its speed."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    with Session(engine) as s:
        raw = s.connection().connection.driver_connection
        raw.set_progress_handler(tick, 1000)
        service.triage_page(s, case_id=case_id, reader=None, limit=50)
        page, steps[0] = steps[0], 0
        s.execute(
            select(func.count())
            .select_from(Report)
            .where(Report.case_id == case_id, Report.state == ReportState.NEW.value)
        ).scalar_one()
        raw.set_progress_handler(None, 0)
    return page, steps[0]


def test_a_triage_page_reads_stored_lines_not_every_report(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = songchon_case(s, coordinator(s)).id
    _scattered(sqlite_engine, case_id, 4000)
    page, count = _page_steps(sqlite_engine, case_id)
    # The count of the case's new reports and a page of lines: not a ranking of every report
    # (that took over 40 times a count).
    assert count > 0 and page <= 2 * count


def _reference_lines(engine: Engine, case_id: str) -> list[tuple[str, int]]:
    """The queue's lines computed from every report: (head id, new reports in the cluster)."""
    groups: dict[str, list[Report]] = {}
    with session_scope(engine) as s:
        for r in s.execute(select(Report).where(Report.case_id == case_id)).scalars():
            if r.state == ReportState.NEW.value:
                groups.setdefault(r.cluster_id or r.id, []).append(r)
    heads = [
        (min(rs, key=lambda r: (-r.credibility, r.seen_at, r.id)), len(rs))
        for rs in groups.values()
    ]
    heads.sort(key=lambda h: (-h[0].credibility, h[0].seen_at, h[0].id))
    return [(h.id, n) for h, n in heads]


def test_stored_lines_follow_decisions_and_rescoring(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        author = coordinator(s)
        case_id = songchon_case(s, author).id
        for tip in _random_tips(case_id, 60, seed=5):
            service.submit_tip(s, tip=tip)
    cluster_all(db_engine)
    rng = random.Random(5)
    with session_scope(db_engine) as s:
        ids = list(s.execute(select(Report.id).where(Report.case_id == case_id)).scalars())
    for report_id in rng.sample(ids, 25):
        with session_scope(db_engine) as s:
            state = ReportState(s.get(Report, report_id).state)  # type: ignore[union-attr]
            choices = {
                ReportState.NEW: [ReportState.DISMISSED, ReportState.CREDIBLE],
                ReportState.DISMISSED: [ReportState.CREDIBLE],
                ReportState.CREDIBLE: [ReportState.DISMISSED],
            }.get(state, [])
            if choices:
                service.triage_report(
                    s,
                    report_id=report_id,
                    state=rng.choice(choices),
                    reason="checked",
                    actor=author,
                )
    with session_scope(db_engine) as s:
        page = service.triage_page(s, case_id=case_id, reader=None, limit=1000)
        lines = [(e.report.id, e.cluster_size) for e in page.entries]
    assert lines == _reference_lines(db_engine, case_id)
