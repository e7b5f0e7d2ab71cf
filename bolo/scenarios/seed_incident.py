"""Replay of the reference incident (Songch'on, Mar 31 -> Kilju, Apr 4) through the service layer.

Facts come from shared/scenarios/seed-incident (a Daily NK report). Everything else is an
assumption and is listed in ASSUMPTIONS, printed with the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from bolo.alerts.model import AlertVersion
from bolo.alerts.schemas import AlertContent, AreaSpec, InfoText
from bolo.auth.model import Role, User
from bolo.auth.service import create_user, user_by_name
from bolo.errors import NotFound
from bolo.network.graph import Mode, Network
from bolo.network.isochrone import isochrone_polygon

KST = timezone(timedelta(hours=9), "KST")
SONGCHON = (39.2068, 126.2039)
KILJU_GUARD_POST = "guard-kilju"
BUDGET = 20
ACK_AFTER_MIN = 4
SILENT_POSTS = 2

ASSUMPTIONS = [
    "Year 2023 and all times of day (the report gives dates only);"
    " times are Pyongyang time, +09:00.",
    "The boy was last seen in Songch'on between 12:00 and 15:00 on Mar 31; reported 16:30.",
    "'Heading north to the border' is a heading hint, bearing 0 deg, weight 0.7.",
    "Posts: the network's stations, the 31 synthetic province-boundary checkpoints, the border"
    " crossings, and a guard post at Kilju (40.9642 N, 129.3278 E).",
    "Route and speeds: the schematic DPRK corridor table (road 35 km/h, rail 25 km/h);"
    " the suspects went by road (hitching rides in military vehicles).",
    f"The alert targets the top {BUDGET} posts of the search picture; station crews on the"
    " western lines searched trains and found nothing (search reports, detection 0.6).",
    "Every post has two webhook channels, its own alerting system and its duty officer's"
    " phone, both pointing at one loopback HTTP receiver started by the replay on 127.0.0.1:"
    " it stands in for the posts' own systems (it checks each signature with the post's own"
    " secret, as a post does, but no real post, phone or network is involved). bolo's"
    " in-process dispatcher sends them for real over HTTP, on the replay's clock.",
    f"Within {ACK_AFTER_MIN} minutes of each Alert and Update, every targeted post acknowledges"
    " by name (the Kilju guard post as its officer in bolo; the others through the signed link"
    f" in the message, by a placeholder name) except the {SILENT_POSTS} lowest-ranked other"
    " posts, which stay silent: bolo escalates them to their duty phone after the escalation"
    " time (10 minutes by default); one then acknowledges, the other stays silent to the end.",
    "Names of the child and the suspects are withheld (the report names no one).",
]


@dataclass
class Timeline:
    """What the replay did, in order, for the table and the checks."""

    rows: list[tuple[datetime, str, str]] = field(default_factory=list)
    versions: list[AlertVersion] = field(default_factory=list)
    kilju_ranks: list[int | None] = field(default_factory=list)
    # Dissemination as the replay meant it, checked against the stored rows afterwards:
    acks: dict[tuple[str, str], str] = field(default_factory=dict)  # (version, post) -> name
    silent: dict[str, list[str]] = field(default_factory=dict)  # version -> posts escalated
    unacknowledged: dict[str, list[str]] = field(default_factory=dict)  # version -> posts
    received: list[str] = field(default_factory=list)  # webhook-ids the posts verified
    rejected: int = 0  # requests the posts' receiver refused

    def add(self, when: datetime, who: str, what: str) -> None:
        """Add one row."""
        self.rows.append((when, who, what))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time of the incident (March 31 is day 0), Pyongyang time."""
    return datetime(2023, 3, 31, hour, minute, tzinfo=KST) + timedelta(days=day)


def ensure_user(session: Session, username: str, role: Role, post_id: str | None = None) -> User:
    """The user with this name, created when missing (replays may run twice on one database)."""
    try:
        return user_by_name(session, username=username)
    except NotFound:
        return create_user(session, username=username, role=role, post_id=post_id, actor=None)


TEXT_EN = InfoText(
    language="en-US",
    headline="Child abduction: boy taken from Songch'on, suspects heading north",
    description=(
        "A boy was taken from Songch'on County, South P'yongan, on 31 March by two adults, a man "
        "and a woman travelling together, believed to be heading north towards the border, "
        "possibly by road and by hitching rides in passing vehicles."
    ),
    instruction=(
        "Checkpoints, station crews and posts: search every passenger travelling with a child. "
        "Public: do not approach; report a sighting at once through the tip form."
    ),
)
TEXT_KO = InfoText(
    language="ko-KP",
    headline="아동 유괴: 송천군에서 소년 납치, 용의자 북쪽으로 이동",
    description=(
        "3월 31일 평안남도 송천군에서 남녀 두 명이 소년을 데려갔다. 용의자들은 국경 쪽 북쪽으로 "
        "도로로 이동하며 지나가는 차량을 얻어 탈 수 있다."
    ),
    instruction=(
        "초소, 역 근무자: 아이를 동반한 모든 여행자를 검색하십시오. 목격 시 즉시 제보하십시오."
    ),
)


def area_from(network: Network, *, start: tuple[float, float], seconds: float) -> AreaSpec:
    """The alert area: where the suspects can be by road or rail ``seconds`` after the abduction
    (an isochrone of the network, at most 100 vertices, as CAP wants it)."""
    ring = isochrone_polygon(
        network, lat=start[0], lon=start[1], seconds=seconds, modes=[Mode.ROAD, Mode.RAIL]
    )
    return AreaSpec(
        description="Where the suspects can be by now from Songch'on (road and rail)",
        polygons=[[(round(la, 4), round(lo, 4)) for la, lo in ring]],
    )


def content_for(
    ranked: list[dict[str, Any]], network: Network, *, elapsed_s: float
) -> AlertContent:
    """An alert body addressed to the recommended posts, its area the reachable region."""
    return AlertContent(
        texts=[TEXT_EN, TEXT_KO],
        area=area_from(network, start=SONGCHON, seconds=elapsed_s),
        target_post_ids=[r["post_id"] for r in ranked],
        expires_in_hours=48,
        contact="Ministry of Social Security, Songch'on County",
    )
