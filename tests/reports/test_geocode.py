"""Offline geocoding: romanisation variants, Hangul, fuzzy spelling, coordinates, reverse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bolo.reports.geocode import (
    Gazetteer,
    Place,
    Source,
    default_gazetteer,
    haversine_m,
    parse_coordinates,
)
from bolo.reports.locate import HowLocated, locate
from bolo.reports.romanise import fold, hangul_key, hangul_to_rr

KILJU = (40.96417, 129.32778)
SONGCHON = (39.20679, 126.20391)
HAMHUNG = (39.91833, 127.53639)


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("Kilju", KILJU),
        ("Gilju", KILJU),
        ("Kilchu", KILJU),
        ("KILJU-UP", KILJU),
        ("Kilju County", KILJU),
        ("길주", KILJU),
        ("길주군", KILJU),
        ("Kiljoo", KILJU),
        ("Songchon", SONGCHON),
        ("Songch'on", SONGCHON),
        ("Sŏngch’ŏn", SONGCHON),
        ("Seongcheon", SONGCHON),
        ("성천", SONGCHON),
        ("Songchon-up", SONGCHON),
        ("Hamhung", HAMHUNG),
        ("Hamheung", HAMHUNG),
        ("Hamhŭng", HAMHUNG),
        ("함흥", HAMHUNG),
        ("Hamhung city", HAMHUNG),
    ],
)
def test_transliterations_find_the_same_place(query: str, where: tuple[float, float]) -> None:
    match = default_gazetteer().geocode(query)
    assert match is not None, query
    assert haversine_m(match.place.lat, match.place.lon, *where) < 100.0


def test_other_spellings_of_other_towns() -> None:
    g = default_gazetteer()
    pairs = [
        ("Chongjin", "Cheongjin"),
        ("Tanchon", "Dancheon"),
        ("Kimchaek", "Gimchaek"),
        ("Hoeryong", "Hoeryeong"),
        ("Pyongyang", "Pyeongyang"),
        ("Rajin", "Najin"),
    ]
    for mr, rr in pairs:
        a, b = g.geocode(mr), g.geocode(rr)
        assert a is not None and b is not None, (mr, rr)
        assert haversine_m(a.place.lat, a.place.lon, b.place.lat, b.place.lon) < 1000.0


def test_fuzzy_match_is_marked_and_nonsense_finds_nothing() -> None:
    g = default_gazetteer()
    match = g.geocode("Hyeasn")
    assert match is not None and match.how == "fuzzy" and match.place.name == "Hyesan"
    assert g.geocode("Springfield Elementary") is None
    assert g.geocode("") is None


def test_fold_merges_romanisation_pairs_but_keeps_towns_apart() -> None:
    assert fold("Kilju") == fold("Gilju") == fold("Kilchu")
    assert fold("Songch'ŏn") == fold("Seongcheon") == fold("Songchon")
    assert fold("Hamhŭng") == fold("Hamheung")
    assert len({fold(n) for n in ["Kilju", "Hyesan", "Hamhung", "Songchon", "Sinpo"]}) == 5


def test_hangul_romanisation_and_suffixes() -> None:
    assert hangul_to_rr("길주") == "gilju"
    assert hangul_to_rr("성천") == "seongcheon"
    assert hangul_key("나진시") == "나진" and hangul_key("길주 군") == "길주"


def test_added_network_places_are_found_and_reverse_geocoding_describes() -> None:
    g = Gazetteer()
    g.add(Place("Kilju", *KILJU, Source.CORRIDOR, 1500.0, "길주"))
    added = g.add_network_places({0: "Hwadae station"}, [40.838], [129.497])
    assert added == 1
    match = g.geocode("Hwadae")
    assert match is not None and match.place.source is Source.NETWORK
    near = g.reverse(40.99, 129.36)
    assert near is not None and near.place.name == "Kilju"
    assert near.describe().endswith("NE of Kilju") and 3000 < near.distance_m < 5000
    assert g.reverse(*KILJU) is not None and g.reverse(*KILJU).describe() == "Kilju"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40.9642, 129.3278", (40.9642, 129.3278)),
        ("40.9642 N 129.3278 E", (40.9642, 129.3278)),
        ("33.9 S, 18.4 W", (-33.9, -18.4)),
        ("95, 10", None),
        ("Kilju", None),
        ("40.9", None),
    ],
)
def test_coordinates_in_the_place_field(text: str, expected: tuple[float, float] | None) -> None:
    assert parse_coordinates(text) == expected


@settings(max_examples=40, deadline=None)
@given(st.floats(-89.9, 89.9), st.floats(-179.9, 179.9))
def test_written_coordinates_round_trip(lat: float, lon: float) -> None:
    parsed = parse_coordinates(f"{lat:.6f}, {lon:.6f}")
    assert parsed is not None
    assert abs(parsed[0] - lat) < 1e-5 and abs(parsed[1] - lon) < 1e-5


def test_locate_prefers_coordinates_then_place_then_photo() -> None:
    exact = locate(place="Kilju", lat=41.0, lon=129.0, photo_lat=40.0, photo_lon=128.0)
    assert (exact.lat, exact.how) == (41.0, HowLocated.COORDINATES)
    named = locate(place="Gilju", lat=None, lon=None, photo_lat=40.0, photo_lon=128.0)
    assert named.how is HowLocated.PLACE and named.resolved.startswith("Kilju")
    photo = locate(place="nowhere-at-all-xyz", lat=None, lon=None, photo_lat=40.0, photo_lon=128.0)
    assert photo.how is HowLocated.PHOTO and photo.radius_m == 50.0
    assert locate(place=None, lat=None, lon=None).how is HowLocated.NONE


def test_a_case_network_adds_its_named_places(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    import bolo.network
    from bolo.network.errors import NetworkNotFound
    from bolo.network.graph import Network
    from bolo.reports import geocode

    def fake_load(name: str) -> Network:
        if name != "andorra":
            raise NetworkNotFound(name)
        empty = np.zeros(0)
        return Network(
            name=name,
            node_lat=np.array([42.5345]),
            node_lon=np.array([1.5800]),
            indptr=np.zeros(2, dtype=np.int64),
            indices=empty.astype(np.int64),
            arc_seconds=empty,
            arc_metres=empty,
            arc_mode=empty.astype(np.uint8),
            node_names={0: "Encamp"},
        )

    monkeypatch.setattr(bolo.network, "load", fake_load)
    monkeypatch.setattr(geocode, "_BY_NETWORK", {})
    andorra = geocode.gazetteer_for_network("andorra")
    match = andorra.geocode("encamp")
    assert match is not None and match.place.source is Source.NETWORK
    assert andorra.geocode("Gilju") is not None  # the bundled places stay
    assert geocode.gazetteer_for_network("atlantis") is default_gazetteer()
    assert default_gazetteer().geocode("Encamp") is None
