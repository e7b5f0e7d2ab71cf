"""Working a case from its page: a hint or a sighting that arrives later, resolving the case
(when no alert of it is live) and closing it. Each refusal is shown on the case page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from bolo.auth.deps import DB
from bolo.auth.model import User
from bolo.cases.model import Case, Outcome
from bolo.cases.schemas import CaseResolve, Hint
from bolo.cases.service import add_hint, close_case, get_case, resolve_case
from bolo.errors import BoloError, InvalidInput
from bolo.reports.service import submit_sighting
from bolo.web.alerting import problems
from bolo.web.auth import Coordinators, Csrf, Managers, PageUser
from bolo.web.console import render_case_page
from bolo.web.forms import FormFields, local_time

router = APIRouter(prefix="/console", include_in_schema=False)


def hint_from_form(form: dict[str, str]) -> Hint:
    """The Hint of the case page's hint form (validation is Hint's)."""
    data: dict[str, object] = {
        "kind": form.get("hint_kind", ""),
        "text": form.get("hint_text", "").strip(),
    }
    for field, key in (
        ("bearing_deg", "hint_bearing"),
        ("lat", "hint_lat"),
        ("lon", "hint_lon"),
        ("weight", "hint_weight"),
    ):
        value = form.get(key, "").strip()
        if value:
            data[field] = value
    return Hint.model_validate(data)


def _act(
    case_id: str,
    request: Request,
    db: DB,
    user: User,
    form: dict[str, str],
    action: Callable[[Case], object],
    anchor: str,
) -> Response:
    """Run one form's service call on the case: committed and back to the case page, or
    rolled back and the case page again with what to fix and the form's values."""
    case = get_case(db, case_id=case_id, reader=user)
    try:
        action(case)
    except (ValidationError, ValueError, BoloError) as exc:
        db.rollback()
        return render_case_page(
            case.id, request, db, user, problems(exc), getattr(exc, "status", 422), form
        )
    db.commit()
    return RedirectResponse(f"/console/cases/{case.id}#{anchor}", status_code=303)


@router.post("/cases/{case_id}/hints", dependencies=[Coordinators, Csrf])
def post_hint(case_id: str, request: Request, db: DB, user: PageUser, form: FormFields) -> Response:
    """Add a heading or destination hint to the open case; the picture takes it at once."""
    return _act(
        case_id,
        request,
        db,
        user,
        form,
        lambda case: add_hint(db, case_id=case.id, hint=hint_from_form(form), actor=user),
        "timeline",
    )


def _seen_at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(local_time(text))
    except ValueError:
        raise ValueError("seen_at: give the date and time of the sighting (UTC)") from None


@router.post("/cases/{case_id}/sightings", dependencies=[Managers, Csrf])
def post_sighting(
    case_id: str, request: Request, db: DB, user: PageUser, form: FormFields
) -> Response:
    """Record a sighting a post reported by other means (radio, telephone) for the case."""
    return _act(
        case_id,
        request,
        db,
        user,
        form,
        lambda case: submit_sighting(
            db,
            case_id=case.id,
            post_id=form.get("post_id", "").strip(),
            seen_at=_seen_at(form.get("seen_at", "").strip()),
            text=form.get("text", "").strip(),
            place=form.get("place", "").strip() or None,
            actor_id=user.id,
            via="console",
        ),
        "timeline",
    )


def _outcome(text: str) -> Outcome:
    if text not in {o.value for o in Outcome}:
        raise InvalidInput("outcome: choose how the case ended")
    return Outcome(text)


@router.post("/cases/{case_id}/resolve", dependencies=[Managers, Csrf])
def post_resolve(
    case_id: str, request: Request, db: DB, user: PageUser, form: FormFields
) -> Response:
    """Record how the case ended; refused while one of its alerts is live (cancel it first)."""
    return _act(
        case_id,
        request,
        db,
        user,
        form,
        lambda case: resolve_case(
            db,
            case_id=case.id,
            actor=user,
            data=CaseResolve(
                outcome=_outcome(form.get("outcome", "")), note=form.get("note", "").strip()
            ),
        ),
        "details-h",
    )


@router.post("/cases/{case_id}/close", dependencies=[Managers, Csrf])
def post_close(case_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Close the resolved case; its retention period starts now."""
    return _act(
        case_id,
        request,
        db,
        user,
        {},
        lambda case: close_case(db, case_id=case.id, actor=user),
        "details-h",
    )
