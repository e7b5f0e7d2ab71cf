"""The console's "Other agencies" page reads an imported message in the reader's language (the
``info`` whose CAP language has the reader's primary tag, else the first), and its map draws
the areas of every ``info`` block, each shape once."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from bolo.alerts.external import ExternalAlert
from bolo.cap.codec import encode
from bolo.cap.model import Area, Circle
from bolo.store.db import session_scope
from tests.cap.factories import make_alert
from tests.web.conftest import ClientFor

KO_AREA = Area(description="서울 북부", circles=[Circle(lat=37.6, lon=127.0, radius_km=5.0)])


def _store() -> None:
    alert = make_alert(identifier="NB-1", sender="amber@neighbour.example")
    english = alert.infos[0]
    english.expires = datetime.now(UTC) + timedelta(hours=6)
    korean = copy.deepcopy(english)
    korean.language = "ko-KR"
    korean.headline = "앰버 경보: 아동 유괴"
    # The same polygon in Korean words, and a circle only the Korean block has.
    korean.areas = [copy.deepcopy(english.areas[0]), KO_AREA]
    korean.areas[0].description = "송촌 회랑"
    alert.infos = [english, korean]
    with session_scope() as db:
        db.add(
            ExternalAlert(
                sender=alert.sender,
                identifier=alert.identifier,
                sent=alert.sent,
                msg_type=str(alert.msg_type),
                status=str(alert.status),
                headline=english.headline,
                event=english.event,
                expires=english.expires,
                xml=encode(alert).decode("utf-8"),
            )
        )


def test_the_page_and_map_read_the_readers_language(client_for: ClientFor) -> None:
    _store()
    console = client_for("coordinator")
    korean_page = console.get("/console/external", headers={"Accept-Language": "ko"}).text
    assert "앰버 경보: 아동 유괴" in korean_page
    assert "AMBER alert: child abducted" not in korean_page
    english_page = console.get("/console/external?lang=en").text
    assert "AMBER alert: child abducted" in english_page and "앰버" not in english_page
    # A language the message lacks: its first info.
    assert "AMBER alert: child abducted" in console.get("/console/external?lang=fr").text

    shapes = console.get("/console/external/map.json?lang=ko").json()["features"]
    kinds = sorted(f["geometry"]["type"] for f in shapes)
    assert kinds == ["Point", "Polygon"]  # the shared polygon once, the Korean circle too
    assert {f["properties"]["area"] for f in shapes} == {"송촌 회랑", "서울 북부"}
    assert {f["properties"]["headline"] for f in shapes} == {"앰버 경보: 아동 유괴"}
    english = console.get("/console/external/map.json?lang=en").json()["features"]
    assert {f["properties"]["area"] for f in english} == {"Songchon corridor", "서울 북부"}
