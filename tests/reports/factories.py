"""Builders for the reports tests: a case last seen at Songch'on, posts along the corridor."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bolo.auth.model import Role, User
from bolo.auth.service import create_user
from bolo.cases.model import Case
from bolo.cases.schemas import CaseCreate, LastKnown, Person
from bolo.cases.service import open_case
from bolo.clock import now
from bolo.network.graph import Mode, PostKind
from bolo.posts.schemas import PostIn
from bolo.posts.service import upsert_post

SONGCHON = (39.2068, 126.2039)
KILJU = (40.9642, 129.3278)


def coordinator(session: Session, name: str = "coord") -> User:
    """A coordinator who triages reports."""
    return create_user(session, username=name, role=Role.COORDINATOR, actor=None)


def songchon_case(session: Session, author: User, hours_ago: float = 6.0) -> Case:
    """An open case: the boy was last seen at Songch'on ``hours_ago`` hours ago."""
    seen: datetime = now() - timedelta(hours=hours_ago)
    return open_case(
        session,
        data=CaseCreate(
            children=[Person(name="Test Child", age=8)],
            last_known=LastKnown(
                place="Songchon",
                lat=SONGCHON[0],
                lon=SONGCHON[1],
                time_earliest=seen - timedelta(minutes=30),
                time_latest=seen,
            ),
        ),
        actor=author,
    )


def post(
    session: Session, post_id: str, lat: float, lon: float, kind: PostKind = PostKind.GUARD_POST
) -> str:
    """Create a post and return its id."""
    upsert_post(
        session,
        data=PostIn(id=post_id, kind=kind, name=post_id.title(), lat=lat, lon=lon, mode=Mode.ROAD),
        actor=None,
    )
    return post_id
