"""Run the reference incident: every step through the service layer, on a fake clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bolo.alerts import service, takedown
from bolo.alerts.activation import Attestation
from bolo.alerts.schemas import AlertDraft
from bolo.auth.model import Role, User
from bolo.auth.service import user_by_name
from bolo.cases.model import Case, Outcome
from bolo.cases.picture import recommended_posts
from bolo.cases.schemas import CaseCreate, CaseResolve, Hint, LastKnown, Person
from bolo.cases.service import add_hint, open_case, resolve_case
from bolo.cli_support import console
from bolo.clock import FakeClock, use_clock
from bolo.network import load
from bolo.network.graph import Network, PostKind
from bolo.posts.service import import_network_posts
from bolo.reports.service import submit_search_report, submit_sighting
from bolo.scenarios.seed_checks import ReplayFailed, print_timeline, write_and_check
from bolo.scenarios.seed_dispatch import Dissemination, disseminating
from bolo.scenarios.seed_incident import (
    BUDGET,
    KILJU_GUARD_POST,
    SONGCHON,
    Timeline,
    at,
    content_for,
    ensure_user,
)
from bolo.scenarios.seed_posts import give_channels
from bolo.search import HintKind
from bolo.store.db import session_scope, upgrade_database

# The reference facts give the boy's age nowhere: the activation gate's age criterion is not met.
AGE_OVERRIDE = (
    "The facts give no age, but he is a young boy whom the couple plan to sell "
    "at the border: the alert must go out."
)


def _open_case(db: Session, clock: FakeClock, tl: Timeline, coordinator: User) -> Case:
    clock.set(at(0, 16, 30))
    case = open_case(
        db,
        actor=coordinator,
        data=CaseCreate(
            children=[
                Person(
                    name="Boy (name withheld)",
                    sex="male",
                    description="Son of the county MSS preliminary-examination director",
                )
            ],
            suspects=[
                Person(
                    name="Suspect 1 (withheld)",
                    sex="female",
                    description="Local resident; one of a couple",
                ),
                Person(
                    name="Suspect 2 (withheld)",
                    sex="male",
                    description="Local resident; one of a couple",
                ),
            ],
            narrative=(
                "Boy taken by a couple from the county who planned to sell him at the border."
            ),
            last_known=LastKnown(
                place="Songch'on, South P'yongan",
                lat=SONGCHON[0],
                lon=SONGCHON[1],
                time_earliest=at(0, 12),
                time_latest=at(0, 15),
            ),
            reported_at=at(0, 16, 30),
        ),
    )
    tl.add(clock(), "coordinator", f"case {case.reference} opened (Songch'on)")
    clock.set(at(0, 17, 30))
    add_hint(
        db,
        case_id=case.id,
        actor=coordinator,
        hint=Hint(
            kind=HintKind.HEADING,
            bearing_deg=0.0,
            weight=0.7,
            text="the kidnappers are travelling northwards, to the border",
        ),
    )
    tl.add(clock(), "MSS office", "tip: heading north to the border (heading hint)")
    return case


def _elapsed(case: Case, clock: FakeClock) -> float:
    """Seconds since the earliest time the boy can have been taken."""
    return (clock() - case.last_seen_earliest).total_seconds()


def _rank(
    case: Case, network: Network, evidence: list[dict[str, Any]], tl: Timeline, clock: FakeClock
) -> list[dict[str, Any]]:
    ranked = recommended_posts(case, network, at=clock(), budget=BUDGET, evidence=evidence)
    ids = [r["post_id"] for r in ranked]
    rank = ids.index(KILJU_GUARD_POST) + 1 if KILJU_GUARD_POST in ids else None
    tl.kilju_ranks.append(rank)
    return ranked


def _issue(
    db: Session,
    clock: FakeClock,
    tl: Timeline,
    version_id: str,
    approver: Any,
    net: Dissemination,
    ranked: list[dict[str, Any]],
) -> None:
    version = service.get_version(db, version_id=version_id)
    clock.advance(minutes=20)
    service.approve(db, version_id=version.id, sha256=version.sha256, approver=approver)
    tl.versions.append(version)
    tl.add(
        clock(),
        "approver",
        f"{version.msg_type} approved by a second person and issued to "
        f"{len(service.targets_of(db, version_id=version.id))} posts",
    )
    net.issued(db, tl, version, [r["post_id"] for r in ranked])


def _searches(
    db: Session, clock: FakeClock, tl: Timeline, case: Case, network: Network, officer_id: str
) -> list[dict[str, Any]]:
    """Station crews on the western lines search trains and find nothing (negative evidence)."""
    evidence = []
    stations = [p for p in network.posts if p.kind == PostKind.STATION and p.lon < 126.0]
    for post in stations[:6]:
        clock.set(at(1, 20))
        submit_search_report(
            db,
            case_id=case.id,
            post_id=post.post_id,
            searched_from=at(1, 10),
            searched_to=at(1, 18),
            searched="all passengers travelling with children",
            detection_probability=0.6,
            actor_id=officer_id,
        )
        evidence.append(
            {
                "kind": "search",
                "post_id": post.post_id,
                "from": at(1, 10).isoformat(),
                "to": at(1, 18).isoformat(),
                "detection_probability": 0.6,
                "found": False,
            }
        )
    tl.add(clock(), "station crews", f"{len(evidence)} western stations searched trains: nothing")
    return evidence


def _alert_and_update(
    db: Session, clock: FakeClock, tl: Timeline, case: Case, network: Network, net: Dissemination
) -> str:
    """The Alert to the top posts, the western stations' searches, the Update; the alert id."""
    coordinator = user_by_name(db, username="coordinator")
    approver = user_by_name(db, username="approver")
    clock.set(at(1, 8))
    ranked = _rank(case, network, [], tl, clock)
    draft = AlertDraft.model_validate(
        content_for(ranked, network, elapsed_s=_elapsed(case, clock)).model_dump()
    )
    version = service.draft_alert(db, case_id=case.id, data=draft, author=coordinator)
    # The facts give no age: the coordinator overrides that criterion, in writing.
    service.submit_for_approval(
        db,
        version_id=version.id,
        author=coordinator,
        attestation=Attestation(
            abduction_believed=True, risk_of_harm=True, override_reason=AGE_OVERRIDE
        ),
    )
    tl.add(
        clock(),
        "coordinator",
        f"alert drafted for the top {len(ranked)} posts "
        f"(Kilju guard post rank {tl.kilju_ranks[-1]})",
    )
    _issue(db, clock, tl, version.id, approver, net, ranked)

    evidence = _searches(db, clock, tl, case, network, net.officer.id)
    clock.set(at(2, 8))
    ranked = _rank(case, network, evidence, tl, clock)
    body = content_for(ranked, network, elapsed_s=_elapsed(case, clock))
    update = service.update_alert(db, alert_id=version.alert_id, content=body, author=coordinator)
    service.submit_for_approval(db, version_id=update.id, author=coordinator)
    tl.add(
        clock(),
        "coordinator",
        f"update drafted from the new search picture (Kilju guard post rank {tl.kilju_ranks[-1]})",
    )
    _issue(db, clock, tl, update.id, approver, net, ranked)
    return version.alert_id


def _interception_and_cancel(
    db: Session,
    clock: FakeClock,
    tl: Timeline,
    case: Case,
    network: Network,
    net: Dissemination,
    alert_id: str,
) -> None:
    coordinator = user_by_name(db, username="coordinator")
    clock.set(at(4, 10))
    kilju = network.post(KILJU_GUARD_POST)
    submit_sighting(
        db,
        case_id=case.id,
        post_id=KILJU_GUARD_POST,
        seen_at=at(4, 9, 40),
        text="Couple travelling with a boy stopped at the guard post and detained.",
        lat=kilju.lat,
        lon=kilju.lon,
        intercepted=True,
        actor_id=net.officer.id,
    )
    tl.add(clock(), "Kilju guard post", "interception: couple and boy stopped, child safe")
    clock.set(at(4, 10, 30))
    takedown.cancel_alert(
        db, alert_id=alert_id, reason="The child was found safe at Kilju.", actor=coordinator
    )
    cancel = service.versions_of(db, alert_id=alert_id)[-1]
    tl.versions.append(cancel)
    tl.add(clock(), "coordinator", "alert cancelled in one step (CAP Cancel to every post)")
    net.issued(db, tl, cancel, [])
    clock.set(at(4, 12))
    resolve_case(
        db, case_id=case.id, data=CaseResolve(outcome=Outcome.FOUND_SAFE), actor=coordinator
    )
    tl.add(clock(), "coordinator", "case resolved: found safe")


def replay(db: Session, clock: FakeClock, out: Path) -> Timeline:
    """Play the incident on ``db``; return its timeline. Raises ReplayFailed when a check fails.

    The replay commits before each dispatcher round (the dispatcher works on its own database
    connection), so a failure part-way leaves the steps before it stored.
    """
    tl = Timeline()
    network = load("dprk")
    import_network_posts(db, network=network, actor_id=None)
    coordinator = ensure_user(db, "coordinator", Role.COORDINATOR)
    ensure_user(db, "approver", Role.APPROVER)
    officer = ensure_user(db, "kilju-officer", Role.POST_OFFICER, post_id=KILJU_GUARD_POST)
    case = _open_case(db, clock, tl, coordinator)
    engine = db.get_bind()
    if not isinstance(engine, Engine):
        raise ReplayFailed("the replay needs a session bound to an engine")
    with disseminating(engine, clock, officer) as net:
        give_channels(db, net.posts, [p.post_id for p in network.posts])
        alert_id = _alert_and_update(db, clock, tl, case, network, net)
        _interception_and_cancel(db, clock, tl, case, network, net, alert_id)
        tl.received = [a.webhook_id for a in net.posts.arrivals]
        tl.rejected = net.posts.rejected
    return tl


def run_replay(*, out: Path, fresh: bool = False) -> Timeline:
    """Migrate, replay the incident in one transaction, write and check the CAP files, print."""
    from bolo.settings import get_settings

    settings = get_settings()
    if fresh and not settings.database_url:
        (settings.data_dir / "bolo.db").unlink(missing_ok=True)
    upgrade_database()
    clock = FakeClock(at(0, 12))
    with use_clock(clock), session_scope() as db:
        tl = replay(db, clock, out)
        files = write_and_check(db, tl, out)
        print_timeline(console, db, tl, files)
    return tl


DEMO_LOGINS = ("coordinator", "approver", "kilju-officer")


def demo_logins() -> dict[str, str]:
    """Give the replay's users fresh random passwords so a person can sign in to the served demo.

    Returns username -> password (printed once by `bolo demo`, never stored in clear).
    """
    import secrets

    from bolo.auth.service import set_password, user_by_name

    logins = {}
    with session_scope() as db:
        for username in DEMO_LOGINS:
            password = secrets.token_urlsafe(12)
            set_password(
                db,
                user_id=user_by_name(db, username=username).id,
                password=password,
                actor=None,
            )
            logins[username] = password
    return logins
