"""Your language: every signed-in user picks the language of their pages (``users.language``;
none = the browser's choice)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from bolo import i18n
from bolo.audit.service import record
from bolo.auth.deps import DB, WebUser
from bolo.errors import InvalidInput
from bolo.i18n import N_
from bolo.web.auth import Csrf
from bolo.web.forms import FormFields

router = APIRouter(prefix="/account", include_in_schema=False)


def set_language(db: DB, user: WebUser, language: str) -> str | None:
    """Store ``language`` (a code bolo has a catalog for; empty = the browser's choice) as the
    user's; InvalidInput (422) for any other value. Returns what was stored."""
    chosen = i18n.supported(language) if language else None
    if language and chosen is None:
        raise InvalidInput(N_("this language is not available"))
    user.language = chosen
    record(
        db,
        actor_id=user.id,
        action="user.language_set",
        entity="user",
        entity_id=user.id,
        data={"language": chosen},
    )
    return chosen


@router.post("/language", dependencies=[Csrf])
def change_language(db: DB, user: WebUser, form: FormFields) -> Response:
    """Set the signed-in user's language, then show the account page in it."""
    set_language(db, user, form.get("language", "").strip())
    db.commit()
    return RedirectResponse("/account", status_code=303)
