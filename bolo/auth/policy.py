"""Who may see what: the rules the routes and services share (default deny)."""

from __future__ import annotations

from typing import Any

from bolo.auth.model import Role, User
from bolo.auth.service import require_actor_role
from bolo.errors import Forbidden

STAFF_READERS = (Role.COORDINATOR, Role.APPROVER, Role.SUPERVISOR, Role.VIEWER)
# Roles that see the names, descriptions and photos of the child and the suspects.
PERSONAL_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.APPROVER, Role.SUPERVISOR})
REDACTED = "[restricted]"
PERSONAL_PEOPLE_FIELDS = ("children", "suspects")


def require_reader(reader: User | None) -> None:
    """Forbidden unless ``reader`` may read the staff's data (cases and their reports):
    STAFF_READERS or an admin; None is the local operator at the server's command line. The
    API's ``allow(*STAFF_READERS)`` and the console's ``PageUser`` refuse earlier; the read
    services check it again, so every caller (route, page, CLI, script) keeps the same rule."""
    require_actor_role(reader, *STAFF_READERS)


def can_see_personal(user: User) -> bool:
    """True when ``user``'s role may read the personal data of a case."""
    return user.role in PERSONAL_READERS


def redact_people(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """People with everything but the age kept out (the count stays visible)."""
    return [{"name": REDACTED, "age": p.get("age")} for p in people]


def case_view(data: dict[str, Any], user: User) -> dict[str, Any]:
    """A case's fields as ``user`` may see them: personal fields redacted for other roles."""
    if can_see_personal(user):
        return data
    view = dict(data)
    for key in PERSONAL_PEOPLE_FIELDS:
        view[key] = redact_people(list(view.get(key, [])))
    view["vehicles"] = [{"description": REDACTED} for _ in view.get("vehicles", [])]
    view["narrative"] = REDACTED if view.get("narrative") else ""
    # A hint's direction helps anyone searching; its free text can name people and places.
    view["hints"] = [
        {**hint, "text": REDACTED} if hint.get("text") else hint for hint in view.get("hints", [])
    ]
    return view


def require_post_access(user: User, post_id: str) -> None:
    """Forbidden unless ``user`` may act for ``post_id``: a post officer only for the post
    the user belongs to; staff roles for any post."""
    if user.role == Role.POST_OFFICER:
        if user.post_id != post_id:
            raise Forbidden("a post officer acts only for the post they belong to")
        return
    if user.role not in {Role.ADMIN, Role.COORDINATOR, Role.SUPERVISOR}:
        raise Forbidden(f"role {user.role!r} may not act for a post")
