"""Working a case from its page: a hint or a sighting that arrives later, resolving the case
(when no alert of it is live) and closing it. Each refusal is shown on the case page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from bolo.auth.deps import DB
from bolo.cases.model import Outcome
from bolo.cases.schemas import CaseResolve, Hint
from bolo.cases.service import add_hint, close_case, get_case, resolve_case
from bolo.errors import BoloError
from bolo.reports.service import submit_sighting
from bolo.web.alerting import problems
from bolo.web.auth import Coordinators, Csrf, Managers, PageUser
from bolo.web.console import render_case_page
from bolo.web.forms import FormFields, local_time

router = APIRouter(prefix="/console", include_in_schema=False)


def _done(case_id: str, anchor: str) -> Response:
    return RedirectResponse(f"/console/cases/{case_id}#{anchor}", status_code=303)


def hint_from_form(form: dict[str, str]) -> Hint:
    """The Hint of the case page's hint form (validation is Hint's)."""
    data: dict[str, object] = {"kind": form.get("hint_kind", ""),
                               "text": form.get("hint_text", "").strip()}
    for field, key in (("bearing_deg", "hint_bearing"), ("lat", "hint_lat"),
                       ("lon", "hint_lon"), ("weight", "hint_weight")):
        value = form.get(key, "").strip()
        if value:
            data[field] = value
    return Hint.model_validate(data)


@router.post("/cases/{case_id}/hints", dependencies=[Coordinators, Csrf])
def post_hint(case_id: str, request: Request, db: DB, user: PageUser,
              form: FormFields) -> Response:
    """Add a heading or destination hint to the open case; the picture takes it at once."""
    case = get_case(db, case_id=case_id)
    try:
        add_hint(db, case_id=case.id, hint=hint_from_form(form), actor_id=user.id)
    except (ValidationError, BoloError) as exc:
        db.rollback()
        return render_case_page(case.id, request, db, user, problems(exc),
                                getattr(exc, "status", 422), form)
    db.commit()
    return _done(case.id, "timeline")


def _seen_at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(local_time(text))
    except ValueError:
        raise ValueError("seen_at: give the date and time of the sighting (UTC)") from None


@router.post("/cases/{case_id}/sightings", dependencies=[Managers, Csrf])
def post_sighting(case_id: str, request: Request, db: DB, user: PageUser,
                  form: FormFields) -> Response:
    """Record a sighting a post reported by other means (radio, telephone) for the case."""
    case = get_case(db, case_id=case_id)
    try:
        seen_at = _seen_at(form.get("seen_at", "").strip())
        submit_sighting(db, case_id=case.id, post_id=form.get("post_id", "").strip(),
                        seen_at=seen_at, text=form.get("text", "").strip(),
                        place=form.get("place", "").strip() or None, actor_id=user.id,
                        via="console")
    except (ValidationError, ValueError, BoloError) as exc:
        db.rollback()
        return render_case_page(case.id, request, db, user, problems(exc),
                                getattr(exc, "status", 422), form)
    db.commit()
    return _done(case.id, "timeline")


@router.post("/cases/{case_id}/resolve", dependencies=[Managers, Csrf])
def post_resolve(case_id: str, request: Request, db: DB, user: PageUser,
                 form: FormFields) -> Response:
    """Record how the case ended; refused while one of its alerts is live (cancel it first)."""
    case = get_case(db, case_id=case_id)
    outcome = form.get("outcome", "")
    if outcome not in {o.value for o in Outcome}:
        return render_case_page(case.id, request, db, user,
                                ["outcome: choose how the case ended"], 422, form)
    try:
        data = CaseResolve(outcome=Outcome(outcome), note=form.get("note", "").strip())
        resolve_case(db, case_id=case.id, data=data, actor_id=user.id)
    except (ValidationError, BoloError) as exc:
        db.rollback()
        return render_case_page(case.id, request, db, user, problems(exc),
                                getattr(exc, "status", 422), form)
    db.commit()
    return _done(case.id, "details-h")


@router.post("/cases/{case_id}/close", dependencies=[Managers, Csrf])
def post_close(case_id: str, request: Request, db: DB, user: PageUser) -> Response:
    """Close the resolved case; its retention period starts now."""
    case = get_case(db, case_id=case_id)
    try:
        close_case(db, case_id=case.id, actor_id=user.id)
    except BoloError as exc:
        db.rollback()
        return render_case_page(case.id, request, db, user, problems(exc), exc.status)
    db.commit()
    return _done(case.id, "details-h")
