"""The two-person rule's account side: the approver of a live alert must be a second person.

The alert service refuses an approval by the author themself. That alone is not enough when the
author is an admin: an admin could create an approver account, or issue a token or set a
password for an existing approver, and approve with it. So an approval is also refused when the
approver's account, or the credential (token or password) used to approve, comes from the
author - directly or through accounts the author created - or when the author's own account was
created by the approver. Who created an account, set a password or issued a token is kept on the
rows (``User.created_by``, ``User.password_set_by``, ``ApiToken.issued_by``) and in the audit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bolo.auth.model import Credential, User
from bolo.errors import Forbidden
from bolo.settings import get_settings

MAX_DEPTH = 64  # creation chains are short; this only stops a corrupt loop


def makers(db: Session, user_id: str | None) -> set[str]:
    """``user_id`` and every account above it in the chain of who created whom."""
    found: set[str] = set()
    while user_id is not None and user_id not in found and len(found) < MAX_DEPTH:
        found.add(user_id)
        user = db.get(User, user_id)
        user_id = user.created_by if user is not None else None
    return found


def require_second_person(db: Session, *, approver: User, author_id: str) -> None:
    """Forbidden unless ``approver`` is independent of the author ``author_id``: the approver's
    account was not created by the author (nor by an account the author created), the author's
    was not created by the approver, and the credential of this request (``Session.info``'s
    ``credential``: a token, or the password of a web session) was not issued or set by the
    author or by an account the author created."""
    if author_id in makers(db, approver.id):
        raise Forbidden(
            "your account was created by the alert's author (or by an account "
            "they created): a second person must approve"
        )
    if approver.id in makers(db, author_id):
        raise Forbidden("you created the author's account: a second person must approve")
    credential = db.info.get("credential")
    if isinstance(credential, Credential) and author_id in makers(db, credential.issued_by):
        kind = "token" if credential.kind == "token" else "password"
        raise Forbidden(
            f"the {kind} you signed in with was issued by the alert's author: "
            "a second person must approve with their own credentials"
        )


def require_approver_code(db: Session, *, approver: User) -> None:
    """When ``BOLO_APPROVER_TOTP_REQUIRED`` is on: Forbidden unless the approver typed a fresh
    one-time code in this request (``bolo.auth.login.claim_code`` notes it)."""
    if not get_settings().approver_totp_required:
        return
    if approver.totp_secret is None:
        raise Forbidden(
            "approving a live alert needs one-time codes: enrol them first "
            "(console: Account, or `bolo user totp NAME`)"
        )
    if db.info.get("second_factor") != approver.id:
        raise Forbidden("approving a live alert needs a fresh one-time code")
