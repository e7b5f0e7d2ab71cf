"""`bolo case ...`: open, list, show, hint, photo, resolve, close."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bolo.cases import service
from bolo.cases.model import Case, Outcome
from bolo.cases.schemas import CaseCreate, CaseOut, CaseResolve, Hint
from bolo.cli_support import (
    ALWAYS_JSON,
    JSON_OUT,
    acting_user,
    emit,
    emit_rows,
    handle_errors,
    print_json,
    read_model,
)
from bolo.store.db import session_scope

app = typer.Typer(help="Cases: one abduction each.", no_args_is_help=True)
AS = Annotated[str, typer.Option("--as", help="Username to act as.")]
CASE = Annotated[str, typer.Argument(help="The case's id or reference (C-YYYYMMDD-XXXXXX).")]


def _brief(case: Case) -> dict[str, str]:
    return {"id": case.id, "reference": case.reference, "state": case.state}


@app.command("open")
@handle_errors
def open_(
    file: Annotated[Path, typer.Argument(help="Case JSON ('-' for stdin).")],
    as_: AS,
    as_json: JSON_OUT = False,
) -> None:
    """Open a case from a JSON report."""
    data = read_model(file, CaseCreate)
    with session_scope() as db:
        case = service.open_case(db, data=data, actor=acting_user(db, as_))
        emit(as_json, _brief(case), f"opened case {case.reference} ({case.id})")


@app.command("list")
@handle_errors
def list_(as_json: JSON_OUT = False) -> None:
    """List cases."""
    with session_scope() as db:
        rows = [
            {
                **_brief(c),
                "reported": c.reported_at.isoformat(timespec="minutes"),
                "network": c.network,
                "last known place": c.last_known_place,
            }
            for c in service.list_cases(db, reader=None)
        ]
    emit_rows(as_json, rows, ("reference", "id", "state", "reported", "last known place"))


@app.command("show")
@handle_errors
def show(case_id: CASE, _json: ALWAYS_JSON = False) -> None:
    """Show one case as JSON."""
    with session_scope() as db:
        print_json(
            CaseOut.model_validate(service.get_case(db, case_id=case_id, reader=None)).model_dump(
                mode="json"
            )
        )


@app.command("photo")
@handle_errors
def photo(
    case_id: CASE,
    file: Annotated[Path, typer.Argument(help="JPEG, PNG or WebP, at most 5 MiB.")],
    as_: AS,
    child: Annotated[int, typer.Option(min=0, help="Which child (0 = the first).")] = 0,
    as_json: JSON_OUT = False,
) -> None:
    """Attach a photo of a child (its metadata removed); it goes into the next alert."""
    from bolo.cases.photos import attach_child_photo, photo_url
    from bolo.errors import InvalidInput

    if not file.is_file():
        raise InvalidInput(f"no such file: {file}")
    with session_scope() as db:
        stored = attach_child_photo(
            db,
            case_id=case_id,
            child_index=child,
            raw=file.read_bytes(),
            actor=acting_user(db, as_),
        )
        emit(
            as_json,
            {"case_id": stored.case_id, "child": child, "url": photo_url(stored)},
            f"photo stored: {photo_url(stored)}",
        )


@app.command("hint")
@handle_errors
def hint(case_id: CASE, file: Path, as_: AS, as_json: JSON_OUT = False) -> None:
    """Add a heading or destination hint from JSON."""
    data = read_model(file, Hint)
    with session_scope() as db:
        case = service.add_hint(db, case_id=case_id, hint=data, actor=acting_user(db, as_))
        emit(as_json, {**_brief(case), "hints": len(case.hints)}, "hint added")


@app.command("resolve")
@handle_errors
def resolve(
    case_id: CASE, outcome: Outcome, as_: AS, note: str = "", as_json: JSON_OUT = False
) -> None:
    """Record the outcome of a case (its alerts must be down)."""
    with session_scope() as db:
        case = service.resolve_case(
            db,
            case_id=case_id,
            data=CaseResolve(outcome=outcome, note=note),
            actor=acting_user(db, as_),
        )
        emit(as_json, {**_brief(case), "outcome": case.outcome}, "case resolved")


@app.command("close")
@handle_errors
def close(case_id: CASE, as_: AS, as_json: JSON_OUT = False) -> None:
    """Close a resolved case."""
    with session_scope() as db:
        case = service.close_case(db, case_id=case_id, actor=acting_user(db, as_))
        emit(as_json, _brief(case), "case closed")
