"""`bolo report ...`: add a tip, sighting or search report; list; triage; queue; evidence;
geocode."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from bolo.cli_support import (
    ALWAYS_JSON,
    JSON_OUT,
    acting_user,
    case_id_of,
    console,
    emit,
    fail,
    handle_errors,
    print_json,
)
from bolo.reports import service
from bolo.reports.geocode import default_gazetteer
from bolo.reports.intake import ReportKind, ReportState, SearchResult, TipIn
from bolo.reports.model import Report
from bolo.store.db import session_scope

app = typer.Typer(
    help="Reports: public tips, post sightings and search reports; triage.", no_args_is_help=True
)
AS = Annotated[str, typer.Option("--as", help="Username to act as.")]


def _brief(report: Report) -> dict[str, object]:
    return {
        "id": report.id,
        "receipt": report.receipt,
        "kind": report.kind,
        "state": report.state,
        "credibility": round(report.credibility, 4),
    }


CASE = Annotated[str, typer.Option("--case", help="The case's id or reference.")]


@app.command("add")
@handle_errors
def add(
    kind: Annotated[ReportKind, typer.Argument(help="tip, sighting or search")],
    case: CASE,
    text: Annotated[str, typer.Option(help="What was seen / searched.")],
    seen_at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            help="Sighting time (tip, sighting) or search start, with zone.",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"],
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            help="End of the search interval (search), with zone.",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"],
        ),
    ] = None,
    post: Annotated[str | None, typer.Option(help="Reporting post id.")] = None,
    place: Annotated[str | None, typer.Option(help="Place name or 'lat, lon'.")] = None,
    result: SearchResult = SearchResult.NOTHING_FOUND,
    intercepted: bool = False,
    as_: Annotated[str | None, typer.Option("--as")] = None,
    as_json: JSON_OUT = False,
) -> None:
    """Add a report. Sightings and search reports need --post; a search needs --until."""
    if seen_at is None:
        raise fail("--at is required (a time with its zone)")
    if kind is not ReportKind.TIP and post is None:
        raise fail(f"a {kind.value} report needs --post")
    with session_scope() as db:
        actor = acting_user(db, as_).id if as_ else None
        case = case_id_of(db, case)
        if kind is ReportKind.TIP or post is None:  # (post is None only for a tip: see above)
            tip = TipIn(case_id=case, what=text, place=place, seen_at=seen_at)
            report = service.submit_tip(db, tip=tip, via="cli")
        elif kind is ReportKind.SIGHTING:
            report = service.submit_sighting(
                db,
                case_id=case,
                post_id=post,
                seen_at=seen_at,
                text=text,
                place=place,
                intercepted=intercepted,
                actor_id=actor,
                via="cli",
            )
        elif until is None:
            raise fail("a search report needs --until")
        else:
            report = service.submit_search_report(
                db,
                case_id=case,
                post_id=post,
                searched_from=seen_at,
                searched_to=until,
                searched=text,
                result=result,
                actor_id=actor,
                via="cli",
            )
        emit(
            as_json,
            _brief(report),
            f"stored {report.kind} {report.receipt} ({report.id}), "
            f"state {report.state}, credibility {report.credibility:.2f}",
        )


@app.command("list")
@handle_errors
def list_(
    case: Annotated[str | None, typer.Option("--case")] = None,
    state: ReportState | None = None,
    kind: ReportKind | None = None,
    limit: int = 50,
    as_json: JSON_OUT = False,
) -> None:
    """List reports, newest first."""
    with session_scope() as db:
        case_id = case_id_of(db, case) if case else None
        found = service.list_reports(
            db, case_id=case_id, state=state, kind=kind, limit=limit, reader=None
        )
        rows = [
            {
                **_brief(r),
                "seen_at": r.seen_at.isoformat(),
                "place": r.place_resolved or r.place,
                "text": r.text,
            }
            for r in found
        ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    table.add_column("receipt", no_wrap=True)
    for name in ("kind", "state", "cred.", "seen", "place", "text"):
        table.add_column(name)
    for r in found:
        table.add_row(
            r.receipt,
            r.kind,
            r.state,
            f"{r.credibility:.2f}",
            f"{r.seen_at:%Y-%m-%d %H:%M}Z",
            r.place_resolved or r.place,
            r.text[:60],
        )
    console.print(table)


@app.command("queue")
@handle_errors
def queue(
    case: Annotated[str | None, typer.Option("--case")] = None,
    limit: int = 50,
    after: Annotated[
        str | None,
        typer.Option(help="Continue after this position (printed at the end of a full page)."),
    ] = None,
    as_json: JSON_OUT = False,
) -> None:
    """The triage queue: new reports clustered, most credible first, with reasons."""
    with session_scope() as db:
        found = service.triage_page(
            db,
            case_id=case_id_of(db, case) if case else None,
            reader=None,
            limit=limit,
            after=service.Cursor.decode(after) if after else None,
        )
        if as_json:
            print_json(
                [
                    {
                        **_brief(e.report),
                        "cluster_size": e.cluster_size,
                        "place": e.report.place_resolved or e.report.place,
                        "text": e.report.text,
                        "reasons": list(e.report.reasons),
                    }
                    for e in found.entries
                ]
            )
            return
        for entry in found.entries:
            r = entry.report
            console.print(
                f"{r.receipt} cred {r.credibility:.2f} x{entry.cluster_size} "
                f"{r.place_resolved or r.place}: {r.text[:70]}",
                highlight=False,
            )
            for reason in r.reasons:
                console.print(f"    {reason}", highlight=False)
        if found.unclustered:
            console.print(f"{found.unclustered} report(s) not yet clustered", highlight=False)
        if found.next_after is not None:
            console.print(f"more: --after {found.next_after.encode()}", highlight=False)


@app.command("cluster")
@handle_errors
def cluster(
    follow: Annotated[
        bool,
        typer.Option(help="Keep running, clustering reports as they arrive (until interrupted)."),
    ] = False,
) -> None:
    """Cluster the stored reports not yet clustered (near-duplicates), as `bolo serve` does.
    One worker clusters a database at a time: while another holds the clustering lease, this
    one waits (--follow) or clusters nothing."""
    from bolo.reports.worker import TriageWorker

    worker = TriageWorker()
    if not follow:
        done = worker.drain()
        holder = None if done else worker.other_holder()
        if holder is not None:
            console.print(f"another worker clusters this database ({holder})", highlight=False)
        console.print(f"clustered {done} report(s)", highlight=False)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        worker.release()
    console.print(f"clustered {worker.clustered} report(s)", highlight=False)


@app.command("triage")
@handle_errors
def triage(
    report: Annotated[str, typer.Argument(help="Report id or receipt.")],
    state: Annotated[ReportState, typer.Option(help="New state.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    as_: AS,
    as_json: JSON_OUT = False,
) -> None:
    """Decide on a report (new -> credible/dismissed -> confirmed)."""
    with session_scope() as db:
        done = service.triage_report(
            db, report_id=report, state=state, reason=reason, actor=acting_user(db, as_)
        )
        emit(as_json, _brief(done), f"{done.receipt} is now {done.state}")


@app.command("evidence")
@handle_errors
def evidence(case: CASE, _json: ALWAYS_JSON = False) -> None:
    """Print the search-picture evidence of a case as JSON."""
    with session_scope() as db:
        print_json(service.evidence_for_case(db, case_id=case_id_of(db, case)))


@app.command("geocode")
@handle_errors
def geocode(
    place: Annotated[str, typer.Argument(help="Place name, any spelling or Hangul.")],
    as_json: JSON_OUT = False,
) -> None:
    """Look a place name up in the offline gazetteer."""
    match = default_gazetteer().geocode(place)
    if match is None:
        raise fail(f"no place matches {place!r}")
    emit(
        as_json,
        {
            "name": match.place.name,
            "lat": match.place.lat,
            "lon": match.place.lon,
            "how": match.how,
            "radius_m": match.place.radius_m,
        },
        f"{match.place.name} {match.place.lat:.5f}, {match.place.lon:.5f} "
        f"({match.how}, ±{match.place.radius_m:.0f} m)",
    )
