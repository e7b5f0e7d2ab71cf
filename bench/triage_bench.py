"""Triage of a large case: adding one report to the stored clusters, and the triage page.

    .venv/bin/python bench/triage_bench.py [--reports 5000] [--baseline-reports 1000] [--json]

Builds one open case on a fresh SQLite file with ``--reports`` tips spread over two hours: events
at places of the bundled gazetteer, each told by one to eight people in their own words (words
dropped, swapped, misspelt; the place by name, by coordinates, or not found), the way a national
alert brings them. Every tip is geocoded and stored as the intake does, then clustered by the
stored clustering (``cluster_all_s``). Then:

- ``add_report_ms``: one more tip stored and clustered against the stored clusters (median of
  15; ``add_report_max_ms`` the slowest), as the triage worker does for each report;
- ``page_ms``: ``GET /console/triage?case=ID`` of a signed-in coordinator through the app
  (median of 10; ``overview_page_ms`` the page of every open case);
- ``baseline_page_ms``: what one view of the triage page computes without stored clusters
  (re-clustering every pair of the case's reports, ``bench/triage_baseline.py``), on the first
  ``--baseline-reports`` tips of the same data in a database of their own (it grows with the
  square of the reports: 435 s at 5,000 on this machine, so a smaller size by default).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PASSWORD = "bench password, long enough"
WHO = ["a couple", "two men", "a woman", "a man in uniform", "an old man", "three adults"]
CHILD = ["a small boy", "a crying child", "a boy of about eight", "a sleeping kid", "a little boy"]
HOW = ["in a grey truck", "on a bus", "on foot", "in a black car", "on the train", "on a tractor"]
GOING = [
    "heading north",
    "going towards the border",
    "heading east",
    "going south",
    "waiting at the station",
    "buying food at the market",
]
SPELLING = {
    "couple": "cuople",
    "truck": "truk",
    "north": "nort",
    "station": "staton",
    "child": "chlid",
    "boy": "bo",
}


def _retold(text: str, rng: random.Random) -> str:
    """The same event in another person's words: words dropped, swapped or misspelt."""
    words = text.split()
    if rng.random() < 0.5 and len(words) > 6:
        del words[rng.randrange(len(words))]
    if rng.random() < 0.3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    words = [SPELLING.get(w, w) if rng.random() < 0.15 else w for w in words]
    return " ".join(words) + rng.choice(["", ".", "!", " - please hurry", " I am sure"])


def make_tips(case_id: str, count: int, seed: int = 7) -> list[Any]:
    """``count`` tips (``TipIn``) of events over the last two hours, 1-8 tips per event."""
    from bolo.reports.geocode import default_gazetteer
    from bolo.reports.intake import TipIn

    rng = random.Random(seed)
    places = rng.sample(default_gazetteer().places, 600)
    end = datetime.now(UTC) - timedelta(minutes=3)
    tips: list[Any] = []
    while len(tips) < count:
        place = rng.choice(places)
        seen = end - timedelta(seconds=rng.uniform(0, 7200))
        story = (
            f"{rng.choice(WHO)} with {rng.choice(CHILD)} {rng.choice(HOW)}, "
            f"{rng.choice(GOING)} near {place.name}"
        )
        for _ in range(min(count - len(tips), rng.choice([1, 1, 1, 2, 2, 3, 4, 8]))):
            at = min(end, seen + timedelta(minutes=rng.uniform(-20, 20)))
            kind = rng.random()
            lat = lon = None
            name: str | None = place.name
            if kind < 0.25:
                lat = place.lat + rng.uniform(-0.01, 0.01)
                lon = place.lon + rng.uniform(-0.01, 0.01)
                name = None
            elif kind < 0.33:
                name = f"behind the old {rng.choice(['mill', 'school', 'bridge'])}"
            tips.append(
                TipIn(
                    case_id=case_id,
                    what=_retold(story, rng),
                    place=name,
                    lat=lat,
                    lon=lon,
                    seen_at=at,
                )
            )
    return tips


def _database(folder: Path, name: str) -> Any:
    from bolo.store.db import engine_for, upgrade_database

    engine = engine_for(f"sqlite:///{folder / name}")
    upgrade_database(engine)
    return engine


def _case_and_user(engine: Any) -> tuple[str, str]:
    from bolo.auth.model import Role
    from bolo.auth.service import create_user
    from bolo.cases.schemas import CaseCreate, LastKnown, Person
    from bolo.cases.service import open_case
    from bolo.store.db import session_scope

    seen = datetime.now(UTC) - timedelta(hours=3)
    with session_scope(engine) as s:
        user = create_user(
            s, username="coord", role=Role.COORDINATOR, password=PASSWORD, actor=None
        )
        case = open_case(
            s,
            actor=user,
            data=CaseCreate(
                children=[Person(name="Bench Child", age=8)],
                last_known=LastKnown(
                    place="Songchon",
                    lat=39.2068,
                    lon=126.2039,
                    time_earliest=seen - timedelta(hours=1),
                    time_latest=seen,
                ),
            ),
        )
        return case.id, user.id


def _store(engine: Any, tips: list[Any]) -> None:
    from bolo.reports.service import store_rows, tip_row

    rows = [tip_row(t) for t in tips]
    for start in range(0, len(rows), 500):
        with engine.begin() as conn:
            store_rows(conn, rows[start : start + 500], {})


def _add_one_ms(engine: Any, tip: Any) -> float:
    from bolo.reports.clustering import cluster_pending

    start = time.perf_counter()
    _store(engine, [tip])
    assert cluster_pending(engine, limit=1) == 1
    return 1000.0 * (time.perf_counter() - start)


def _page_ms(case_id: str, repeat: int = 10) -> tuple[float, float, int]:
    """Median ms of the case's triage page and of the overview; the page's line count."""
    from fastapi.testclient import TestClient

    from bolo.api import create_app

    with TestClient(create_app(timers=False)) as http:
        answer = http.post(
            "/login", data={"username": "coord", "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        timings: dict[str, list[float]] = {"case": [], "all": []}
        lines = 0
        for _ in range(repeat):
            for which, path in (
                ("case", f"/console/triage?case={case_id}"),
                ("all", "/console/triage"),
            ):
                start = time.perf_counter()
                page = http.get(path, headers={"Accept": "text/html"})
                timings[which].append(1000.0 * (time.perf_counter() - start))
                assert page.status_code == 200, page.text[:500]
                lines = page.text.count('class="report"') if which == "case" else lines
    return statistics.median(timings["case"]), statistics.median(timings["all"]), lines


def _baseline_ms(folder: Path, tips: list[Any]) -> float:
    from triage_baseline import refresh_and_queue

    from bolo.store.db import session_scope

    engine = _database(folder, "baseline.db")
    case_id, _user = _case_and_user(engine)
    _store(engine, [t.model_copy(update={"case_id": case_id}) for t in tips])
    with session_scope(engine) as s:
        start = time.perf_counter()
        refresh_and_queue(s, case_id)
        s.flush()
        took = 1000.0 * (time.perf_counter() - start)
        s.rollback()
    engine.dispose()
    return took


def run(reports: int, baseline_reports: int) -> dict[str, Any]:
    """Build the case, cluster it, and measure; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        folder = Path(tmp)
        os.environ.update(
            BOLO_DATA_DIR=str(folder), BOLO_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}"
        )
        from bolo.reports.worker import cluster_all
        from bolo.settings import reset_settings
        from bolo.store.db import set_default_engine

        reset_settings()
        engine = _database(folder, "bench.db")
        set_default_engine(engine)
        case_id, _user = _case_and_user(engine)
        tips = make_tips(case_id, reports + 15)
        _store(engine, tips[:reports])
        start = time.perf_counter()
        cluster_all(engine)
        cluster_s = time.perf_counter() - start
        adds = [_add_one_ms(engine, tip) for tip in tips[reports:]]
        page, overview, lines = _page_ms(case_id)
        clusters = _count_clusters(engine, case_id)
        baseline = _baseline_ms(folder, tips[:baseline_reports]) if baseline_reports else None
        set_default_engine(None)
        engine.dispose()
    return {
        "reports": reports,
        "add_report_ms": round(statistics.median(adds), 1),
        "add_report_max_ms": round(max(adds), 1),
        "page_ms": round(page, 1),
        "overview_page_ms": round(overview, 1),
        "page_lines": lines,
        "baseline_page_ms": None if baseline is None else round(baseline, 1),
        "baseline_reports": baseline_reports,
        "cluster_all_s": round(cluster_s, 2),
        "clusters": clusters,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def _count_clusters(engine: Any, case_id: str) -> int:
    from sqlalchemy import func, select

    from bolo.reports.model import Report

    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count(func.distinct(Report.cluster_id))).where(
                    Report.case_id == case_id
                )
            ).scalar_one()
        )


def main() -> None:
    """Parse arguments, run, print JSON or a short report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument(
        "--baseline-reports", type=int, default=1000, help="size of the baseline run (0: skip it)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.reports < 1 or args.baseline_reports < 0:
        raise SystemExit("--reports must be >= 1 and --baseline-reports >= 0")
    figures = run(args.reports, min(args.baseline_reports, args.reports))
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
