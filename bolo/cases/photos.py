"""Photos of the children of a case: uploaded with the report, put in the alert, purged after.

A photo is re-encoded without any metadata (EXIF, GPS, ICC) and kept in the database, so the
purge removes it in the same transaction as the case's other personal data. Its address goes
into the child's ``photo_url``, which the CAP message carries as an image resource. Anyone may
fetch it while one of the case's live (``Actual``) alerts is active (posts and the public need
it); while only an ``Exercise`` or ``Test`` alert is active, signed-in post officers may too, the
public may not. Before that, and after the alert is lifted, only staff may: a found child's face
does not stay public.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bolo.alerts.model import Alert, CapStatus, in_force_at
from bolo.audit.service import record
from bolo.auth.model import User
from bolo.auth.service import require_role
from bolo.cases.model import Case, CasePhoto, CaseState
from bolo.cases.service import EDITORS, get_case
from bolo.clock import now
from bolo.errors import BoloError, Conflict, InvalidInput, NotFound
from bolo.reports.photo import PhotoError, clean_photo
from bolo.settings import get_settings

MEDIA_PATH = "/media/case-photos"
_MIME = {"jpg": "image/jpeg", "png": "image/png"}


class PhotoRefused(BoloError):
    """An uploaded photo that is too large, of the wrong type or unreadable."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def photo_url(photo: CasePhoto) -> str:
    """The absolute address the photo is served at (``BOLO_PUBLIC_BASE_URL`` + media path)."""
    extension = next(ext for ext, mime in _MIME.items() if mime == photo.mime_type)
    return f"{get_settings().public_base_url.rstrip('/')}{MEDIA_PATH}/{photo.id}.{extension}"


def attach_child_photo(
    session: Session, *, case_id: str, child_index: int, raw: bytes, actor: User
) -> CasePhoto:
    """Store ``raw`` (JPEG, PNG or WebP, <= 5 MiB) cleaned of metadata as the photo of the
    case's child number ``child_index`` (0-based), replacing any earlier one, and point the
    child's ``photo_url`` at it (``actor``: a coordinator). Only an open case takes photos."""
    require_role(actor, *EDITORS)
    case = get_case(session, case_id=case_id, reader=actor)
    if case.state != CaseState.OPEN:
        raise Conflict(f"case {case.reference} is {case.state}: photos can be added while open")
    if not 0 <= child_index < len(case.children):
        raise InvalidInput(
            f"case {case.reference} has {len(case.children)} child(ren); "
            f"child_index {child_index} is out of range"
        )
    try:
        clean = clean_photo(raw)
    except PhotoError as exc:
        raise PhotoRefused(str(exc), exc.status) from exc
    session.execute(
        delete(CasePhoto).where(CasePhoto.case_id == case.id, CasePhoto.child_index == child_index)
    )
    photo = CasePhoto(
        case_id=case.id,
        child_index=child_index,
        data=clean.data,
        mime_type=_MIME[clean.extension],
        sha256=clean.sha256,
        created_by=actor.id,
    )
    session.add(photo)
    session.flush()
    children = [dict(child) for child in case.children]
    children[child_index]["photo_url"] = photo_url(photo)
    case.children = children
    record(
        session,
        actor_id=actor.id,
        action="case.photo_added",
        entity="case",
        entity_id=case.id,
        data={"child_index": child_index, "sha256": clean.sha256},
    )
    return photo


def photo_to_show(
    session: Session, *, name: str, staff: bool, post_officer: bool = False
) -> CasePhoto:
    """The photo served at ``{MEDIA_PATH}/{name}`` (``<id>.<ext>``) for a staff member; for a
    signed-in post officer while any alert of its case is active; for anyone while an Actual
    alert of its case is active (an Exercise never makes it public). NotFound otherwise
    (existence not told)."""
    photo_id, _, extension = name.partition(".")
    photo = session.get(CasePhoto, photo_id)
    if photo is None or _MIME.get(extension) != photo.mime_type:
        raise NotFound("no such photo")
    statuses = list(CapStatus) if post_officer else [CapStatus.ACTUAL]
    if staff or _case_alert_is_active(session, photo.case_id, statuses):
        return photo
    raise NotFound("no such photo")


def _case_alert_is_active(session: Session, case_id: str, statuses: list[CapStatus]) -> bool:
    case = session.get(Case, case_id)
    if case is None or case.state == CaseState.PURGED:
        return False
    return (
        session.execute(
            select(Alert.id)
            .where(
                Alert.case_id == case_id,
                in_force_at(now()),
                Alert.cap_status.in_([s.value for s in statuses]),
            )
            .limit(1)
        ).first()
        is not None
    )
