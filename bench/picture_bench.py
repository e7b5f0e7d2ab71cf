"""Case picture request time: GET /api/v1/cases/{id}/picture on an imported OSM extract with the
network's posts stored, as each request pays it when the picture must be computed afresh (new
evidence, or the next minute), with the network kept in the process (loaded once per stored copy,
its posts placed and its search model built once per version of the stored posts).

    .venv/bin/python bench/picture_bench.py [--extract PBF] [--requests 7] [--json]

Baseline (same run, requests alternating): the same request with the network read from disk,
its posts placed and its search model built for every request, as when nothing is kept.
Also: a repeat within the same minute (the picture cache answers). Figures are medians (ms);
``ratio`` is baseline over kept.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PORTO = REPO.parent / "shared" / "data" / "osm" / "r5_porto_portugal.osm.pbf"


def _ms(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def _world(extract: Path) -> tuple[Any, dict[str, str], str, int, int]:
    """A data folder with ``extract`` imported and its posts stored, a coordinator's token and
    a case opened 30 minutes after the child was last seen near the network's middle node."""
    from fastapi.testclient import TestClient

    from bolo.api import create_app
    from bolo.auth.model import Role
    from bolo.auth.service import create_user, issue_token
    from bolo.cases.schemas import CaseCreate, LastKnown, Person
    from bolo.cases.service import open_case
    from bolo.clock import now
    from bolo.network.osm import import_osm
    from bolo.posts.service import import_network_posts
    from bolo.store.db import session_scope, upgrade_database

    upgrade_database()
    network = import_osm(extract, name="bench")
    with session_scope() as db:
        import_network_posts(db, network=network, actor_id=None)
        user = create_user(db, username="coord", role=Role.COORDINATOR, actor=None)
        token = issue_token(db, user_id=user.id, actor=None)
        middle = network.n_nodes // 2
        seen = now() - timedelta(minutes=30)
        case = open_case(
            db,
            data=CaseCreate(
                children=[Person(name="A Child", age=7)],
                network="bench",
                last_known=LastKnown(
                    place="middle",
                    lat=float(network.node_lat[middle]),
                    lon=float(network.node_lon[middle]),
                    time_earliest=seen - timedelta(minutes=15),
                    time_latest=seen,
                ),
            ),
            actor_id=user.id,
        )
        case_id = case.id
    client = TestClient(create_app(timers=False))
    return (
        client,
        {"Authorization": f"Bearer {token}"},
        case_id,
        network.n_nodes,
        len(network.posts),
    )


def measure(extract: Path, requests: int) -> dict[str, Any]:
    """Median request times (ms) kept, baseline and repeated, on ``extract``."""
    import bolo.network
    from bolo.cases import picture

    client, headers, case_id, nodes, posts = _world(extract)
    url = f"/api/v1/cases/{case_id}/picture"

    def request() -> None:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text

    def afresh() -> None:
        picture._cache.clear()  # the picture itself is computed anew: new evidence or minute
        request()

    def from_disk() -> None:
        # getattr: the same script measures a checkout that keeps nothing (then it is afresh).
        getattr(picture, "_networks", {}).clear()
        getattr(bolo.network, "_shared", {}).clear()
        afresh()

    from_disk()  # compiles the kernels and warms the file cache for both
    afresh()
    kept, baseline, repeat = [], [], []
    for _ in range(requests):
        baseline.append(_ms(from_disk))
        kept.append(_ms(afresh))
        repeat.append(_ms(request))
    kept_ms, baseline_ms = statistics.median(kept), statistics.median(baseline)
    return {
        "extract": extract.name,
        "nodes": nodes,
        "posts": posts,
        "requests": requests,
        "picture_ms": round(kept_ms, 1),
        "baseline_ms": round(baseline_ms, 1),
        "ratio": round(baseline_ms / kept_ms, 2),
        "repeat_ms": round(statistics.median(repeat), 1),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    """Run the benchmark in a fresh data folder and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, default=PORTO)
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    extract = (
        args.extract
        if args.extract.exists()
        else REPO / "tests" / "fixtures" / ("vh_andorra-latest.osm.pbf")
    )
    with tempfile.TemporaryDirectory(prefix="bolo-picture-bench-") as folder:
        os.environ["BOLO_DATA_DIR"] = folder
        os.environ.pop("BOLO_DATABASE_URL", None)
        from bolo.settings import reset_settings

        reset_settings()
        result = measure(extract, args.requests)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:12} {value}")


if __name__ == "__main__":
    main()
