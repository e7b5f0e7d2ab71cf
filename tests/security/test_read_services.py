"""The read services hold the reading rule themselves (``policy.require_reader``): whoever calls
them, a route, a console page, the CLI or a script, a post officer reads no case and no report,
as the API's ``allow(*STAFF_READERS)`` and the console's ``PageUser`` say."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bolo.auth.model import Role, User
from bolo.auth.policy import STAFF_READERS
from bolo.auth.service import create_user
from bolo.cases.service import get_case, list_cases
from bolo.errors import Forbidden, NotFound
from bolo.posts.model import Post
from bolo.reports.service import get_report, list_reports, triage_page
from bolo.store.db import session_scope

Read = Callable[[Session, User | None], object]
READS: dict[str, Read] = {
    "get_case": lambda db, u: get_case(db, case_id="C-19700101-NOCASE", reader=u),
    "list_cases": lambda db, u: list_cases(db, reader=u),
    "get_report": lambda db, u: get_report(db, report_id="T-NONE-NONE", reader=u),
    "list_reports": lambda db, u: list_reports(db, reader=u),
    "triage_page": lambda db, u: triage_page(db, case_id=None, reader=u),
}


def _reader(db: Session, role: Role) -> User:
    if role == Role.POST_OFFICER and db.get(Post, "gate-1") is None:
        db.add(Post(id="gate-1", kind="police", name="Gate 1", lat=42.5, lon=1.5))
        db.flush()
    post = "gate-1" if role == Role.POST_OFFICER else None
    return create_user(db, username=role.value, role=role, post_id=post, actor=None)


@pytest.mark.parametrize("read", sorted(READS))
def test_a_post_officer_reads_no_case_and_no_report(sqlite_engine: Engine, read: str) -> None:
    with session_scope(sqlite_engine) as db, pytest.raises(Forbidden):
        READS[read](db, _reader(db, Role.POST_OFFICER))


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("role", [*STAFF_READERS, Role.ADMIN, None])
def test_staff_readers_and_the_local_operator_read(
    sqlite_engine: Engine, read: str, role: Role | None
) -> None:
    with session_scope(sqlite_engine) as db:
        reader = _reader(db, role) if role is not None else None
        with suppress(NotFound):  # allowed to look: there is nothing there
            READS[read](db, reader)
