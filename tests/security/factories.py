"""A small but complete incident for the security tests: staff of every role, two posts, a case
whose people have distinctive names, an issued alert, a tip with contact and photo, a sighting."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from PIL import Image
from sqlalchemy.orm import Session

from bolo.alerts import service as alerts
from bolo.alerts.activation import Attestation
from bolo.alerts.schemas import AlertDraft
from bolo.alerts.takedown import cancel_alert
from bolo.auth.model import Role, Scope, User
from bolo.auth.service import create_user, issue_token
from bolo.cases.model import Outcome
from bolo.cases.schemas import CaseCreate, CaseResolve, Hint, LastKnown, Person, Vehicle
from bolo.cases.service import close_case, open_case, resolve_case
from bolo.clock import FakeClock, now
from bolo.network.graph import Mode, PostKind
from bolo.posts.schemas import PostIn
from bolo.posts.service import upsert_post
from bolo.reports.intake import TipIn
from bolo.reports.photo import clean_photo
from bolo.reports.service import submit_sighting, submit_tip
from bolo.search import HintKind

CHILD = "Quillane Vextrambo"
SUSPECTS = ("Dornavil Haskettine", "Merovia Plunkstadt")
NARRATIVE = "Taken outside the Zorbinski bakery by the couple"
HINT_TEXT = "heading to Ulvenmark crossing"
VEHICLE = "green Tarvokan lorry"
PLATE = "PX-7731-QZ"
TIP_TEXT = "saw Quillane Vextrambo near the Glimmerstad depot"
CONTACT = "tipster-phone +850 5550 19876"
PASSWORD = "a long enough password"
PERSONAL = (
    CHILD,
    *SUSPECTS,
    NARRATIVE,
    HINT_TEXT,
    VEHICLE,
    PLATE,
    TIP_TEXT,
    CONTACT,
    "Quillane",
    "Vextrambo",
    "Haskettine",
    "Plunkstadt",
    "Zorbinski",
    "Ulvenmark",
)


@dataclass
class World:
    """Ids and tokens of the incident."""

    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    posts: list[str] = field(default_factory=list)
    case_id: str = ""
    alert_id: str = ""
    version_id: str = ""
    report_ids: list[str] = field(default_factory=list)
    photo_sha256: str = ""


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _people(db: Session, w: World) -> None:
    for role in Role:
        post = w.posts[0] if role == Role.POST_OFFICER else None
        # Only the approver gets a password: argon2 is slow on purpose.
        user = create_user(
            db,
            username=f"u-{role.value}",
            role=role,
            post_id=post,
            password=PASSWORD if role == Role.APPROVER else None,
            actor=None,
        )
        w.users[role.value] = user
        w.tokens[role.value] = issue_token(db, user_id=user.id, label="test", actor=None)
    w.users["second_coordinator"] = create_user(
        db, username="u-coord2", role=Role.COORDINATOR, actor=None
    )
    officer_b = create_user(
        db, username="u-officer-b", role=Role.POST_OFFICER, post_id=w.posts[1], actor=None
    )
    w.users["officer_b"] = officer_b
    w.tokens["officer_b"] = issue_token(db, user_id=officer_b.id, actor=None)
    w.tokens["post_token"] = issue_token(
        db, user_id=w.users["post_officer"].id, scope=Scope.POST, post_id=w.posts[0], actor=None
    )


def build_world(db: Session, *, with_reports: bool = True) -> World:
    """Create the incident through the services (one transaction); the alert is issued to the
    first post only."""
    w = World()
    for i in range(2):
        post = upsert_post(
            db,
            data=PostIn(
                id=f"cp-{i}",
                kind=PostKind.CHECKPOINT,
                name=f"Checkpoint {i}",
                lat=39.3 + i / 10,
                lon=126.3,
                mode=Mode.ROAD,
            ),
            actor=None,
        )
        w.posts.append(post.id)
    _people(db, w)
    coordinator = w.users["coordinator"]
    seen = now() - timedelta(hours=1)
    case = open_case(
        db,
        actor=coordinator,
        data=CaseCreate(
            children=[Person(name=CHILD, age=7, description=f"{CHILD}, red coat")],
            suspects=[Person(name=s, description=f"{s} of Songchon") for s in SUSPECTS],
            vehicles=[Vehicle(description=VEHICLE, plate=PLATE)],
            narrative=NARRATIVE,
            hints=[Hint(kind=HintKind.HEADING, bearing_deg=0, text=HINT_TEXT)],
            last_known=LastKnown(
                place="Zorbinski bakery, Songchon",
                lat=39.2,
                lon=126.2,
                time_earliest=seen - timedelta(hours=1),
                time_latest=seen,
            ),
        ),
    )
    w.case_id = case.id
    draft = AlertDraft.model_validate(
        {
            "texts": [
                {
                    "headline": f"{CHILD} abducted",
                    "description": f"{CHILD}, 7, red coat; "
                    f"taken by {SUSPECTS[0]} in a {VEHICLE} {PLATE}",
                    "instruction": "Search vehicles travelling with children.",
                }
            ],
            "area": {
                "description": "Songchon",
                "circles": [{"lat": 39.2, "lon": 126.2, "radius_km": 50}],
            },
            "target_post_ids": [w.posts[0]],
        }
    )
    version = alerts.draft_alert(db, case_id=case.id, data=draft, author=coordinator)
    alerts.submit_for_approval(
        db,
        version_id=version.id,
        author=coordinator,
        attestation=Attestation(abduction_believed=True, risk_of_harm=True),
    )
    alerts.approve(db, version_id=version.id, sha256=version.sha256, approver=w.users["approver"])
    w.alert_id, w.version_id = version.alert_id, version.id
    if with_reports:
        _reports(db, w)
    return w


def _reports(db: Session, w: World) -> None:
    photo = clean_photo(_photo())
    w.photo_sha256 = photo.sha256
    tip = TipIn.model_validate(
        {
            "case_id": w.case_id,
            "what": TIP_TEXT,
            "lat": 39.4,
            "lon": 126.3,
            "seen_at": (now() - timedelta(minutes=30)),
            "contact": CONTACT,
        }
    )
    w.report_ids.append(submit_tip(db, tip=tip, photo=photo).id)
    sighting = submit_sighting(
        db,
        case_id=w.case_id,
        post_id=w.posts[0],
        seen_at=now() - timedelta(minutes=10),
        text=f"{CHILD} seen with {SUSPECTS[1]}",
        lat=39.3,
        lon=126.3,
        actor_id=w.users["post_officer"].id,
    )
    w.report_ids.append(sighting.id)


def end_case(db: Session, w: World, clock: FakeClock | None = None) -> None:
    """The coordinator cancels the world's alert, resolves its case (found safe) and closes it
    (an hour after resolving, with ``clock``): the case is then due for the retention purge."""
    coordinator = w.users["coordinator"]
    cancel_alert(db, alert_id=w.alert_id, reason="found safe", actor=coordinator)
    resolve_case(
        db, case_id=w.case_id, data=CaseResolve(outcome=Outcome.FOUND_SAFE), actor=coordinator
    )
    if clock is not None:
        clock.advance(hours=1)
    close_case(db, case_id=w.case_id, actor=coordinator)
