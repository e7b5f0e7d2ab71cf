"""Audit routes: verify the chain."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from bolo.audit.service import verify
from bolo.auth.deps import DB, allow
from bolo.auth.model import Role

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class VerifyOut(BaseModel):
    """The chain's verdict; ``first_bad`` is a 0-based index."""

    ok: bool
    entries: int
    first_bad: int | None
    reason: str


@router.get(
    "/verify", response_model=VerifyOut, dependencies=[allow(Role.SUPERVISOR, Role.COORDINATOR)]
)
def verify_chain(db: DB) -> VerifyOut:
    """Walk every link of the audit chain."""
    report = verify(db)
    return VerifyOut(
        ok=report.ok, entries=report.entries, first_bad=report.first_bad, reason=report.reason
    )
