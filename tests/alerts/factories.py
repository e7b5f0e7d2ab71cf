"""Builders of the alerts tests (also used by other domains' tests): staff, a case, posts,
alert content and drafts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bolo.alerts import service
from bolo.alerts.activation import Attestation
from bolo.alerts.schemas import AlertContent, AlertDraft, AreaSpec, CircleSpec, InfoText
from bolo.auth.model import Role, User
from bolo.auth.service import create_user
from bolo.cases.model import Case
from bolo.cases.schemas import CaseCreate, LastKnown, Person
from bolo.cases.service import open_case
from bolo.network.graph import Mode, PostKind
from bolo.posts.schemas import PostIn
from bolo.posts.service import upsert_post
from bolo.store.db import session_scope


def staff(session: Session) -> tuple[User, User]:
    """A coordinator and an approver."""
    return (
        create_user(session, username="coord", role=Role.COORDINATOR, actor=None),
        create_user(session, username="approver", role=Role.APPROVER, actor=None),
    )


def a_case(session: Session, author: User) -> Case:
    """An open case last seen an hour ago."""
    seen = datetime.now(UTC) - timedelta(hours=1)
    return open_case(
        session,
        data=CaseCreate(
            children=[Person(name="Test Child", age=8, description="blue jacket, red cap")],
            suspects=[Person(name="Suspect One", description="woman, about 40")],
            last_known=LastKnown(
                place="Songchon",
                lat=39.2068,
                lon=126.2039,
                time_earliest=seen - timedelta(hours=1),
                time_latest=seen,
            ),
        ),
        actor=author,
    )


# The submitting coordinator's statements that let a live alert of ``a_case`` pass the gate.
ATTESTED = Attestation(abduction_believed=True, risk_of_harm=True)


def some_posts(session: Session, n: int = 3, kind: PostKind = PostKind.CHECKPOINT) -> list[str]:
    """Create ``n`` posts and return their ids."""
    ids = []
    for i in range(n):
        post = upsert_post(
            session,
            data=PostIn(
                id=f"{kind.value}-{i}",
                kind=kind,
                name=f"Post {i}",
                lat=39.3 + i / 10,
                lon=126.3,
                mode=Mode.ROAD,
            ),
            actor=None,
        )
        ids.append(post.id)
    return ids


def content(targets: list[str], headline: str = "Child abducted near Songchon") -> AlertContent:
    """An alert body addressed to ``targets``."""
    return AlertContent(
        texts=[
            InfoText(
                headline=headline,
                description="A boy, 8, taken by two adults.",
                instruction="Search passengers travelling with children.",
            )
        ],
        area=AreaSpec(
            description="Songchon and the roads north",
            circles=[CircleSpec(lat=39.2, lon=126.2, radius_km=50)],
        ),
        target_post_ids=targets,
    )


def draft(targets: list[str], status: str = "Actual") -> AlertDraft:
    """A new-alert body."""
    return AlertDraft.model_validate({**content(targets).model_dump(), "cap_status": status})


def issue_public_alert(engine: Engine) -> tuple[str, datetime]:
    """Issue a public Actual alert of a new case (creating the staff the first time)."""
    with session_scope(engine) as db:
        known = db.query(User).filter(User.username.in_(["coord", "approver"])).all()
        roles = {u.username: u for u in known}
        coord, approver = (roles["coord"], roles["approver"]) if len(roles) == 2 else staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        sent = v.issued_at or v.sent
        assert sent is not None
        return v.alert_id, sent
