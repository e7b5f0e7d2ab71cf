"""Case routes under /api/v1/cases (staff only)."""

from __future__ import annotations

from fastapi import APIRouter

from bolo.auth.deps import DB, CurrentUser, allow
from bolo.auth.model import Role, User
from bolo.auth.policy import case_view
from bolo.auth.service import require_role
from bolo.cases import service
from bolo.cases.model import Case, CaseState
from bolo.cases.schemas import CaseCreate, CaseOut, CaseResolve, Hint

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
STAFF = (Role.COORDINATOR, Role.APPROVER, Role.SUPERVISOR, Role.VIEWER)


def _out(case: Case, user: User) -> CaseOut:
    """The case with its personal fields redacted for roles that may not see them."""
    return CaseOut.model_validate(case_view(CaseOut.model_validate(case).model_dump(), user))


@router.post("", response_model=CaseOut, status_code=201, dependencies=[allow(Role.COORDINATOR)])
def open_case(body: CaseCreate, db: DB, user: CurrentUser) -> CaseOut:
    """Open a case from a report."""
    require_role(user, Role.COORDINATOR)
    case = service.open_case(db, data=body, actor_id=user.id)
    db.commit()
    return CaseOut.model_validate(case)


@router.get("", response_model=list[CaseOut], dependencies=[allow(*STAFF)])
def list_cases(db: DB, user: CurrentUser, state: CaseState | None = None) -> list[CaseOut]:
    """Cases, newest first."""
    require_role(user, *STAFF)
    return [_out(c, user) for c in service.list_cases(db, state=state)]


@router.get("/{case_id}", response_model=CaseOut, dependencies=[allow(*STAFF)])
def get_case(case_id: str, db: DB, user: CurrentUser) -> CaseOut:
    """One case by id or reference."""
    require_role(user, *STAFF)
    return _out(service.get_case(db, case_id=case_id), user)


@router.post("/{case_id}/hints", response_model=CaseOut,
             dependencies=[allow(Role.COORDINATOR)])
def add_hint(case_id: str, body: Hint, db: DB, user: CurrentUser) -> CaseOut:
    """Add a heading or destination hint."""
    require_role(user, Role.COORDINATOR)
    case = service.add_hint(db, case_id=case_id, hint=body, actor_id=user.id)
    db.commit()
    return CaseOut.model_validate(case)


@router.post("/{case_id}/resolve", response_model=CaseOut,
             dependencies=[allow(Role.COORDINATOR, Role.SUPERVISOR)])
def resolve(case_id: str, body: CaseResolve, db: DB, user: CurrentUser) -> CaseOut:
    """Record the outcome (every alert must be down first)."""
    require_role(user, Role.COORDINATOR, Role.SUPERVISOR)
    case = service.resolve_case(db, case_id=case_id, data=body, actor_id=user.id)
    db.commit()
    return CaseOut.model_validate(case)


@router.post("/{case_id}/close", response_model=CaseOut,
             dependencies=[allow(Role.COORDINATOR, Role.SUPERVISOR)])
def close(case_id: str, db: DB, user: CurrentUser) -> CaseOut:
    """Close a resolved case; the retention period starts."""
    require_role(user, Role.COORDINATOR, Role.SUPERVISOR)
    case = service.close_case(db, case_id=case_id, actor_id=user.id)
    db.commit()
    return CaseOut.model_validate(case)
