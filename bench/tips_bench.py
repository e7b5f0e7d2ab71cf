"""Public tip intake under a surge, beside a bare FastAPI endpoint in the same server and run.

    make bench-tools   # once: installs Debian's wrk (the load generator)
    .venv/bin/python bench/tips_bench.py [--seconds 10] [--connections 32] [--json]

Starts bolo's app (with one bare endpoint added) in a uvicorn subprocess (uvloop, httptools) on
loopback over a fresh SQLite file, then drives it with wrk (bench/tips_wrk.lua; ``--client
asyncio`` uses a Python client instead, and is the fallback when wrk is missing):
1. bare: ``POST /bench/bare`` (returns a constant) for S/2 seconds: ``bare_per_s``;
2. surge: ``POST /api/v1/public/tips`` for S seconds, each tip distinct and from its own client
   address (X-Forwarded-For from a trusted loopback proxy: thousands of people answering a public
   alert); above the overall limit the server answers 429;
3. one client: a single address sends 40 tips at once: its bucket lets ``burst`` through, the
   rest get 429 with Retry-After;
4. with ``--with-triage-reader``: the case starts with ``--reports`` tips (default 5,000, made
   and clustered as bench/triage_bench.py does, once), every server runs the triage worker as
   ``bolo serve`` does, and ``--rounds`` rounds (default 3) of two surges follow: one alone, one
   while a signed-in coordinator loads the case's triage page every 2 s
   (bench/triage_reader.py). Each surge gets a fresh server over its own copy of the seeded
   case, and the rounds alternate which surge goes first (bench/tips_rounds.py), so neither
   the case's growth nor the machine's drifting load favours a side. ``rounds`` lists each
   round's rates and ratio; ``accepted_per_s_alone`` and ``accepted_per_s_with_reader`` are
   the medians over the rounds, ``ratio_median`` the median of the rounds' ratios. With
   ``--reader-idle`` the reader signs in but reads nothing: a control run, telling how far two
   surges differ at the machine's load with no reader at all.
Each phase stops issuing at its deadline and counts every answer to what it sent, so
``responses_2xx`` can be compared exactly with ``stored`` (rows in the database afterwards).
``accepted_per_s`` is the surge's 2xx divided by S. Server CPU per request comes from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tips_load import (  # noqa: E402  (beside this file)
    TIP_PATH,
    Phase,
    asyncio_phase,
    exchange,
    have_wrk,
    request_bytes,
    seen_at,
    wrk_phase,
)
from tips_rounds import (  # noqa: E402  (beside this file)
    SURGE_FIRST,
    async_runner,
    copy_case,
    free_port,
    measured,
    round_figures,
    rounds,
    start_server,
    stop_server,
    stored_reports,
    tips_phase,
)

READER = "triage-reader"


def _prepare(folder: Path, reports: int = 0) -> tuple[dict[str, str], str]:
    env = dict(
        os.environ, BOLO_DATA_DIR=str(folder), BOLO_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}"
    )
    os.environ.update(env)
    from bolo.auth.model import Role
    from bolo.auth.service import create_user
    from bolo.cases.schemas import CaseCreate, LastKnown, Person
    from bolo.cases.service import open_case
    from bolo.settings import reset_settings
    from bolo.store.db import session_scope, upgrade_database

    reset_settings()
    upgrade_database()
    seen = datetime.now(UTC) - timedelta(hours=3)
    with session_scope() as session:
        coordinator = create_user(session, username="bench", role=Role.COORDINATOR, actor=None)
        case = open_case(
            session,
            actor=coordinator,
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
        case_id = case.id
    if reports:
        _seed_reports(case_id, reports)
    return env, case_id


def _seed_reports(case_id: str, reports: int) -> None:
    """A coordinator to read triage, and ``reports`` clustered tips in the case."""
    from triage_bench import PASSWORD, _store, make_tips

    from bolo.auth.model import Role
    from bolo.auth.service import create_user
    from bolo.reports.worker import cluster_all
    from bolo.store.db import default_engine, session_scope

    with session_scope() as session:
        create_user(session, username=READER, role=Role.COORDINATOR, password=PASSWORD, actor=None)
    _store(default_engine(), make_tips(case_id, reports))
    cluster_all()


def serve(port: int) -> None:
    """Run the app under test (called in the subprocess)."""
    import uvicorn
    from fastapi.responses import JSONResponse
    from starlette.requests import Request

    from bolo.api import create_app
    from bolo.reports.routes import public_router, router

    app = create_app(timers=False)
    if os.environ.get("BOLO_BENCH_TRIAGE_WORKER") == "1":
        from bolo.reports.worker import WorkerProcess

        WorkerProcess().start()  # as the lifespan of `bolo serve` does
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/public/tips" not in paths:
        app.include_router(public_router)
        app.include_router(router)

    @app.post("/bench/bare")
    async def bare() -> JSONResponse:
        return JSONResponse({"ok": True}, 201)

    async def hold(request: Request) -> JSONResponse:
        # Parks a wrk connection after its last tip until wrk has gone (see tips_wrk.lua).
        while not await request.is_disconnected():
            await asyncio.sleep(0.2)
        return JSONResponse({"ok": True})

    app.add_route("/bench/hold", hold, methods=["GET"], include_in_schema=False)

    fast = all(importlib.util.find_spec(m) for m in ("uvloop", "httptools"))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop" if fast else "auto",
        http="httptools" if fast else "auto",
    )


async def _single_client(port: int, burst: int) -> Phase:
    single = Phase()
    seen = seen_at()
    for i in range(burst + 35):
        body = json.dumps(
            {"what": f"the same person again, tip {i}", "place": "Kilju", "seen_at": seen}
        ).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, headers = await exchange(reader, writer, request_bytes(TIP_PATH, body, "192.0.2.7"))
        writer.close()
        single.statuses[status] = single.statuses.get(status, 0) + 1
        if status == 429 and not headers.get("retry-after", "").isdigit():
            single.retry_after_ok = False
    return single


def _phases(
    port: int, pid: int, case_id: str, seconds: float, connections: int, burst: int, client: str
) -> dict[str, Phase]:
    warmup = tips_phase(port, case_id, 0, 1.0, 4, client)
    if client == "wrk":
        bare = measured(
            pid,
            lambda: wrk_phase(
                port, mode="bare", seconds=seconds / 2, connections=connections, first=0
            ),
        )
    else:
        bare_request = request_bytes("/bench/bare", b"{}", "10.0.0.1")
        bare = measured(
            pid,
            lambda: async_runner()(
                asyncio_phase(port, lambda: bare_request, seconds / 2, connections)
            ),
        )
    surge = measured(
        pid, lambda: tips_phase(port, case_id, SURGE_FIRST, seconds, connections, client)
    )
    single = async_runner()(_single_client(port, burst))
    return {"bare": bare, "tips": surge, "single": single, "warmup": warmup}


def run(
    seconds: float,
    connections: int,
    overall_limit: float | None = None,
    client: str = "wrk",
    reader_reports: int | None = None,
    reader_idle: bool = False,
    reader_rounds: int = 3,
) -> dict[str, Any]:
    """Run the phases and return the figures. ``overall_limit`` (tips per second) sets
    the server's overall rate limit, to watch the surge being cut to it with 429s; ``client``
    is 'wrk' or 'asyncio'; ``reader_reports`` (a number: the case's tips beforehand) adds
    ``reader_rounds`` rounds of a surge alone and a surge with a coordinator reading triage;
    ``reader_idle`` runs those surges without reading (a control: how far two surges differ at
    this load with no reader at all)."""
    from bolo.reports.config import TipSettings

    burst = TipSettings().per_client_burst
    seeded = reader_reports or 0
    with tempfile.TemporaryDirectory(prefix="tips-bench-") as tmp:
        template, basic = Path(tmp) / "case", Path(tmp) / "basic"
        template.mkdir()
        _, case_id = _prepare(template, seeded)
        extra = {}
        if reader_reports is not None:
            extra["BOLO_BENCH_TRIAGE_WORKER"] = "1"
        if overall_limit:
            extra["BOLO_TIPS_OVERALL_PER_SECOND"] = str(overall_limit)
            extra["BOLO_TIPS_OVERALL_BURST"] = str(max(1, int(overall_limit)))
        env = copy_case(template, basic) | extra
        port = free_port()
        process = start_server(env, port)
        try:
            result = _phases(port, process.pid, case_id, seconds, connections, burst, client)
        finally:
            stop_server(process)
        stored = stored_reports(basic) - seeded
        done = []
        if reader_reports is not None:
            from triage_bench import PASSWORD

            done = rounds(
                template,
                Path(tmp),
                case_id,
                reader_rounds,
                {"seconds": seconds, "connections": connections, "client": client},
                (READER, PASSWORD, reader_idle),
                extra,
            )
            stored += sum(r[kind]["stored"] - seeded for r in done for kind in ("alone", "reader"))
    tips, bare = result["tips"], result["bare"]
    # every phase that sent tips
    counted = [result["warmup"], tips, result["single"]]
    counted += [p for r in done for kind in ("alone", "reader") for p in r[kind]["phases"]]
    ok = sum(p.count(200, 300) for p in counted)
    limited = sum(p.count(429, 430) for p in counted)
    failed = sum(p.count(500, 600) for p in counted)
    return {
        "accepted_per_s": round(tips.count(200, 300) / tips.elapsed, 1),
        "p99_ms": round(tips.p99_ms(), 2),
        "responses_2xx": ok,
        "responses_429": limited,
        "responses_5xx": failed,
        "responses_other": sum(p.count(0, 1000) for p in counted) - ok - limited - failed,
        "stored": stored,
        "bare_per_s": round(bare.count(200, 300) / bare.elapsed, 1),
        "bare_p99_ms": round(bare.p99_ms(), 2),
        "surge_429": tips.count(429, 430),
        "server_cpu_ms_per_tip": round(tips.cpu_ms(), 3),
        "server_cpu_ms_per_bare": round(bare.cpu_ms(), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "retry_after_ok": all(p.retry_after_ok for p in counted),
        "seconds": seconds,
        "connections": connections,
        "overall_limit": overall_limit,
        "client": client,
        **(_reader_figures(done, seeded, reader_idle) if reader_reports is not None else {}),
    }


def _reader_figures(done: list[dict[str, Any]], seeded: int, idle: bool) -> dict[str, Any]:
    figures = round_figures(done)
    return {
        "reports": seeded,
        "accepted_per_s_alone": figures["accepted_per_s_alone"],
        "accepted_per_s_with_reader": figures["accepted_per_s_with_reader"],
        "ratio_median": figures["ratio_median"],
        "p99_ms_with_reader": statistics.median(r["p99_ms_with_reader"] for r in figures["rounds"]),
        # Each surge starts from a copy of the clustered case: no backlog to wait for.
        "triage_backlog_drain_s": 0.0,
        "reader_idle": idle,
        **{k: v for k, v in figures.items() if k.startswith("reader_")},
        "rounds": figures["rounds"],
    }


def _table(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    ratio = figures["accepted_per_s"] / figures["bare_per_s"] if figures["bare_per_s"] else 0.0
    table = Table(
        title=f"public tip intake, {figures['seconds']:g} s, "
        f"{figures['connections']} connections, {figures['client']} client, "
        "SQLite"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    table.add_row("tips accepted per s", f"{figures['accepted_per_s']:,.0f}", ">= 1,000")
    table.add_row("bare FastAPI endpoint per s (baseline)", f"{figures['bare_per_s']:,.0f}", "")
    table.add_row("ratio tips / bare", f"{ratio:.0%}", ">= 30%")
    table.add_row("p99 latency of tips, ms", f"{figures['p99_ms']:.1f}", "<= 100")
    table.add_row("p99 latency of bare, ms", f"{figures['bare_p99_ms']:.1f}", "")
    table.add_row(
        "2xx answers / rows stored",
        f"{figures['responses_2xx']:,} / {figures['stored']:,}",
        "equal",
    )
    table.add_row(
        "429 answers (surge + one client)",
        f"{figures['responses_429']:,} ({figures['surge_429']:,} + "
        f"{figures['responses_429'] - figures['surge_429']})",
        "> 0",
    )
    table.add_row("5xx answers", str(figures["responses_5xx"]), "0")
    table.add_row(
        "server CPU ms per tip / per bare request",
        f"{figures['server_cpu_ms_per_tip']:.2f} / {figures['server_cpu_ms_per_bare']:.2f}",
        "",
    )
    table.add_row(
        "load average (1 min) after the run",
        f"{figures['load_average_1min']:.1f}",
        "< 2 for meaningful rates",
    )
    table.add_row("other answers", str(figures["responses_other"]), "0")
    Console().print(table)


def main() -> None:
    """Parse arguments, run, print a table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the surge")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--overall-limit",
        type=float,
        default=None,
        help="server's overall limit, tips/s (default: its setting, 2000)",
    )
    parser.add_argument(
        "--client",
        choices=["wrk", "asyncio"],
        default=None,
        help="load generator (default: wrk when installed, else asyncio)",
    )
    parser.add_argument(
        "--with-triage-reader",
        action="store_true",
        help="a second surge while a coordinator reads the case's triage page",
    )
    parser.add_argument(
        "--reports",
        type=int,
        default=5000,
        help="tips in the case before the surges (with --with-triage-reader)",
    )
    parser.add_argument(
        "--reader-idle",
        action="store_true",
        help="with --with-triage-reader: run the second surge without reading (a control)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="with --with-triage-reader: rounds of a surge alone and one with the reader",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    client = args.client or ("wrk" if have_wrk() else "asyncio")
    if client == "wrk" and not have_wrk():
        raise SystemExit("wrk is not installed: run `make bench-tools` (or use --client asyncio)")
    if client == "asyncio" and args.client is None:
        print(
            "wrk is missing (`make bench-tools` installs it): using the asyncio client, "
            "which takes CPU from the server",
            file=sys.stderr,
        )
    if args.reports < 0:
        raise SystemExit("--reports must be >= 0")
    if args.rounds < 1:
        raise SystemExit("--rounds must be >= 1")
    figures = run(
        args.seconds,
        args.connections,
        args.overall_limit,
        client,
        args.reports if args.with_triage_reader else None,
        args.reader_idle,
        args.rounds,
    )
    if args.json:
        print(json.dumps(figures))
    else:
        _table(figures)


if __name__ == "__main__":
    main()
