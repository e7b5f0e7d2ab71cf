"""`bolo report ...`: add a tip, sighting or search report; list; triage; queue; evidence;
geocode."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from bolo.cli_support import acting_user, console, fail, handle_errors, print_json
from bolo.reports import service
from bolo.reports.geocode import default_gazetteer
from bolo.reports.intake import ReportKind, ReportState, SearchResult, TipIn
from bolo.store.db import session_scope

app = typer.Typer(help="Reports: public tips, post sightings and search reports; triage.",
                  no_args_is_help=True)
AS = Annotated[str, typer.Option("--as", help="Username to act as.")]
CASE = Annotated[str, typer.Option("--case", help="Case id.")]


@app.command("add")
@handle_errors
def add(kind: Annotated[ReportKind, typer.Argument(help="tip, sighting or search")],
        case: CASE, text: Annotated[str, typer.Option(help="What was seen / searched.")],
        seen_at: Annotated[datetime | None, typer.Option(
            "--at", help="Sighting time (tip, sighting) or search start, with zone.",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"])] = None,
        until: Annotated[datetime | None, typer.Option(
            help="End of the search interval (search), with zone.",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"])] = None,
        post: Annotated[str | None, typer.Option(help="Reporting post id.")] = None,
        place: Annotated[str | None, typer.Option(help="Place name or 'lat, lon'.")] = None,
        result: SearchResult = SearchResult.NOTHING_FOUND,
        intercepted: bool = False, as_: Annotated[str | None, typer.Option("--as")] = None,
        ) -> None:
    """Add a report. Sightings and search reports need --post; a search needs --until."""
    if seen_at is None:
        raise fail("--at is required (a time with its zone)")
    with session_scope() as db:
        actor = acting_user(db, as_).id if as_ else None
        if kind is ReportKind.TIP:
            tip = TipIn(case_id=case, what=text, place=place, seen_at=seen_at)
            report = service.submit_tip(db, tip=tip, via="cli")
        elif post is None:
            raise fail(f"a {kind.value} report needs --post")
        elif kind is ReportKind.SIGHTING:
            report = service.submit_sighting(db, case_id=case, post_id=post, seen_at=seen_at,
                                             text=text, place=place, intercepted=intercepted,
                                             actor_id=actor, via="cli")
        elif until is None:
            raise fail("a search report needs --until")
        else:
            report = service.submit_search_report(
                db, case_id=case, post_id=post, searched_from=seen_at, searched_to=until,
                searched=text, result=result, actor_id=actor, via="cli")
        console.print(f"stored {report.kind} {report.receipt} ({report.id}), state "
                      f"{report.state}, credibility {report.credibility:.2f}")


@app.command("list")
@handle_errors
def list_(case: Annotated[str | None, typer.Option("--case")] = None,
          state: ReportState | None = None, kind: ReportKind | None = None,
          limit: int = 50) -> None:
    """List reports, newest first."""
    table = Table()
    table.add_column("receipt", no_wrap=True)
    for name in ("kind", "state", "cred.", "seen", "place", "text"):
        table.add_column(name)
    with session_scope() as db:
        for r in service.list_reports(db, case_id=case, state=state, kind=kind, limit=limit):
            table.add_row(r.receipt, r.kind, r.state, f"{r.credibility:.2f}",
                          f"{r.seen_at:%Y-%m-%d %H:%M}Z", r.place_resolved or r.place,
                          r.text[:60])
    console.print(table)


@app.command("queue")
@handle_errors
def queue(case: Annotated[str | None, typer.Option("--case")] = None, limit: int = 50) -> None:
    """The triage queue: new reports clustered, most credible first, with reasons."""
    with session_scope() as db:
        for entry in service.triage_queue(db, case_id=case, limit=limit):
            r = entry.report
            console.print(f"{r.receipt} cred {r.credibility:.2f} x{entry.cluster_size} "
                          f"{r.place_resolved or r.place}: {r.text[:70]}", highlight=False)
            for reason in r.reasons:
                console.print(f"    {reason}", highlight=False)


@app.command("triage")
@handle_errors
def triage(report: Annotated[str, typer.Argument(help="Report id or receipt.")],
           state: Annotated[ReportState, typer.Option(help="New state.")],
           reason: Annotated[str, typer.Option(help="Why.")], as_: AS) -> None:
    """Decide on a report (new -> credible/dismissed -> confirmed)."""
    with session_scope() as db:
        done = service.triage_report(db, report_id=report, state=state, reason=reason,
                                     actor_id=acting_user(db, as_).id)
        console.print(f"{done.receipt} is now {done.state}")


@app.command("evidence")
@handle_errors
def evidence(case: CASE) -> None:
    """Print the search-picture evidence of a case as JSON."""
    with session_scope() as db:
        print_json(service.evidence_for_case(db, case_id=case))


@app.command("geocode")
@handle_errors
def geocode(place: Annotated[str, typer.Argument(help="Place name, any spelling or Hangul.")]
            ) -> None:
    """Look a place name up in the offline gazetteer."""
    match = default_gazetteer().geocode(place)
    if match is None:
        raise fail(f"no place matches {place!r}")
    console.print(f"{match.place.name} {match.place.lat:.5f}, {match.place.lon:.5f} "
                  f"({match.how}, ±{match.place.radius_m:.0f} m)", highlight=False)
