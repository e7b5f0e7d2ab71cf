"""The areas a coordinator sees (the console's "reachable within N h") and sends (the drafted
CAP area) follow the network: on a Y of roads, the valley between the branches that no road
reaches is outside both, where the convex hull of the reached roads takes it in. The drafted
CAP validates; a chosen post outside the reachable area gets a circle; without a network the
draft falls back to the hull, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from shapely.geometry import MultiPoint, Point, shape
from sqlalchemy import Engine, select

from bolo.alerts.model import AlertVersion
from bolo.alerts.schemas import AreaSpec
from bolo.cap.validate import validate
from bolo.cases.model import Case
from bolo.network import Mode, Network, PostKind
from bolo.posts.model import Post
from bolo.posts.schemas import PostIn
from bolo.posts.service import upsert_post
from bolo.store.db import session_scope
from bolo.web import alertarea, mapdata
from tests.search.factories import fork_network
from tests.security.factories import World
from tests.web.conftest import ClientFor
from tests.web.test_console_work import FORM, _alert_id

AT = datetime(2026, 12, 7, 12, tzinfo=UTC)
# 60 s an arc, 20 nodes an arm: the whole Y is reached within an hour from the stem's foot.
FORK = fork_network()
FORK_LAT = 40.0 + 0.01 * 19
VALLEY = (FORK_LAT + 0.1, 10.0)  # between the branches, ~7 km from either: no road near


def _case(hours: float, lat: float = 40.0, lon: float = 10.0, network: str = "fork") -> Case:
    return Case(
        id="c",
        network=network,
        hints=[],
        last_known_lat=lat,
        last_known_lon=lon,
        last_seen_earliest=AT - timedelta(hours=hours),
        last_seen_latest=AT,
    )


def _post(pid: str, lat: float, lon: float) -> Post:
    return Post(id=pid, kind=PostKind.CHECKPOINT, name=pid, lat=lat, lon=lon, mode=Mode.ROAD)


def _ends(network: Network) -> list[Point]:
    """The Y's three ends (stem foot, west and east exits)."""
    return [Point(float(network.node_lon[i]), float(network.node_lat[i])) for i in (0, 39, 59)]


def test_the_valley_is_inside_the_hull_of_the_reached_roads() -> None:
    hull = MultiPoint(
        [(lon, lat) for lat, lon in zip(FORK.node_lat, FORK.node_lon, strict=True)]
    ).convex_hull
    assert hull.contains(Point(VALLEY[1], VALLEY[0]))  # what the areas below must not do


def test_console_layers_follow_the_network() -> None:
    layers = mapdata.isochrones(_case(2.0), FORK, at=AT)["features"]
    assert [f["properties"]["hours"] for f in layers] == [2.0, 1.0]
    for feature in layers:
        area = shape(feature["geometry"])
        assert area.is_valid
        assert not area.covers(Point(VALLEY[1], VALLEY[0])), feature["properties"]
        assert all(area.covers(end) for end in _ends(FORK))
        assert (
            feature["properties"]["label"]
            == f"reachable within {feature['properties']['hours']:g} h"
        )


def test_console_layers_off_the_network_are_empty_not_an_error() -> None:
    assert mapdata.isochrones(_case(2.0, lat=45.0, lon=20.0), FORK, at=AT)["features"] == []


def test_drafted_area_follows_the_network_and_circles_posts_outside_it() -> None:
    inside = _post("on-the-east-branch", float(FORK.node_lat[45]), float(FORK.node_lon[45]))
    far = _post("far", 40.6, 10.5)
    area = alertarea.alert_area(_case(2.0), [inside, far], FORK, at=AT)
    spec = AreaSpec.model_validate({"description": "the Y", **area})
    rings = [[(lo, la) for la, lo in ring] for ring in spec.polygons]
    assert len(rings) == 1
    polygon = shape({"type": "Polygon", "coordinates": rings})
    assert polygon.is_valid and len(rings[0]) <= 100
    assert not polygon.covers(Point(VALLEY[1], VALLEY[0]))
    assert all(polygon.covers(end) for end in _ends(FORK))
    assert [(c.lat, c.lon, c.radius_km) for c in spec.circles] == [
        (40.6, 10.5, alertarea.POST_RADIUS_KM)
    ]


def test_a_public_post_is_an_outlet_not_a_place_of_the_area() -> None:
    outlet = Post(id="tv", kind=PostKind.PUBLIC, name="tv", lat=40.6, lon=10.5, mode=Mode.ROAD)
    for network in (FORK, None):
        area = alertarea.alert_area(_case(2.0), [outlet], network, at=AT)
        assert area["circles"] == []
        ring = [(lo, la) for la, lo in area["polygons"][0]]
        assert not shape({"type": "Polygon", "coordinates": [ring]}).covers(Point(10.5, 40.6))


def test_a_fresh_case_gets_an_area_not_a_dot() -> None:
    area = alertarea.alert_area(_case(0.0), [], FORK, at=AT)
    ring = np.array(area["polygons"][0])
    km_lat = (ring[:, 0].max() - ring[:, 0].min()) * 111.0
    assert km_lat > 5.0  # 15 min at road speed along the stem (~1.1 km a minute)


def test_without_a_usable_network_the_draft_falls_back_to_the_hull() -> None:
    posts = [_post("a", 40.3, 10.2)]
    for case, network in ((_case(2.0), None), (_case(2.0, lat=45.0, lon=20.0), FORK)):
        area = alertarea.alert_area(case, posts, network, at=AT)
        assert area["circles"] == [] and len(area["polygons"]) == 1
        ring = area["polygons"][0]
        hull = shape({"type": "Polygon", "coordinates": [[(lo, la) for la, lo in ring]]})
        assert hull.covers(Point(10.2, 40.3)) and hull.covers(
            Point(case.last_known_lon, case.last_known_lat)
        )
    assert alertarea.case_network(_case(1.0, network="no-such-network")) is None


def test_many_posts_outside_become_at_most_twenty_circles_covering_them() -> None:
    rng = np.random.default_rng(3)
    places = [
        (float(la), float(lo))
        for la, lo in zip(rng.uniform(41, 43, 75), rng.uniform(11, 14, 75), strict=True)
    ]
    places += [(50.0, 179.9), (50.1, -179.9)]  # across the antimeridian: one small circle
    circles = alertarea.post_circles(places)
    assert len(circles) == alertarea.MAX_CIRCLES
    AreaSpec.model_validate({"description": "many", "circles": circles})
    for la, lo in places:
        assert any(
            _km(la, lo, c["lat"], c["lon"]) <= c["radius_km"] - alertarea.POST_RADIUS_KM + 1e-6
            for c in circles
        ), (la, lo)
    assert min(c["radius_km"] for c in circles) < 50.0


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    from bolo.network.build import haversine_m

    return float(haversine_m(lat1, lon1, lat2, lon2)) / 1000.0


def test_the_drafted_cap_area_validates_and_circles_a_far_post(
    client_for: ClientFor, world: World, sqlite_engine: Engine
) -> None:
    with session_scope(sqlite_engine) as db:
        upsert_post(
            db,
            data=PostIn(
                id="far-north",
                kind=PostKind.CHECKPOINT,
                name="Far north",
                lat=41.8,
                lon=129.7,
                mode=Mode.ROAD,
            ),
            actor=None,
        )
    coordinator = client_for("coordinator")
    answer = coordinator.post(
        f"/console/cases/{world.case_id}/alerts",
        data={
            **FORM,
            "post": ["cp-1", "far-north"],
            "risk_of_harm": "yes",
            "abduction_believed": "yes",
        },
    )
    assert answer.status_code == 303, answer.text[:2000]
    with session_scope(sqlite_engine) as db:
        version = db.scalars(
            select(AlertVersion).where(AlertVersion.alert_id == _alert_id(answer))
        ).one()
        area, xml = version.content["area"], version.cap_xml
    assert validate(xml.encode()).errors == []
    assert len(area["polygons"]) == 1 and xml.count("<polygon>") == 1
    assert (41.8, 129.7) in [(c["lat"], c["lon"]) for c in area["circles"]]
    assert "<circle>41.8,129.7 3" in xml
