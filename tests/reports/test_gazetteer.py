"""An imported country's place names in the geocoder, fuzzy matching with rapidfuzz, and the
public intake searching names off the event loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bolo.network.osm import import_osm
from bolo.network.osm.gazetteer import extract_places, load_places
from bolo.reports import geocode
from bolo.reports.geocode import Gazetteer, Source, default_gazetteer, gazetteer_for_network

ANDORRA = Path(__file__).resolve().parent.parent / "fixtures" / "vh_andorra-latest.osm.pbf"


def test_extract_reads_places_stations_and_landmarks_with_their_spellings(tmp_path: Path) -> None:
    count = extract_places(ANDORRA, tmp_path)
    places = load_places(tmp_path)
    assert count == len(places) > 500
    kinds = {p.kind for p in places}
    assert {"town", "village", "hamlet"} <= kinds
    assert any("=" in k or k in ("hospital", "school", "station") for k in kinds)
    capital = next(p for p in places if p.name == "Andorra la Vella")
    assert "Andorre-la-Vieille" in capital.names and capital.population > 20_000
    assert capital.radius_m == 2500.0 and capital.name_ko == "안도라라벨랴"


def test_an_imported_country_is_geocoded_by_its_names(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_osm(ANDORRA, name="andorra")
    monkeypatch.setattr(geocode, "_BY_NETWORK", {})
    andorra = gazetteer_for_network("andorra")
    for query in ("Andorre-la-Vieille", "andorra la vella", "Andorra-a-Velha", "안도라라벨랴"):
        match = andorra.geocode(query)
        assert match is not None and match.how == "exact", query
        assert match.place.source is Source.PLACE
        assert abs(match.place.lat - 42.507) < 0.02 and abs(match.place.lon - 1.52) < 0.03
    near = andorra.geocode("Andorra la Veila")
    assert near is not None and near.how == "fuzzy" and near.place.name == "Andorra la Vella"
    assert andorra.geocode("Ordino") is not None and andorra.geocode("Sant Julia de Loria")
    assert andorra.geocode("qqqq zzzz xxxx") is None
    assert default_gazetteer().geocode("Andorre-la-Vieille") is None  # other countries untouched


def test_shared_extracts_bring_their_place_names(shared_dir: Path, tmp_path: Path) -> None:
    # Before, Porto's import gave the geocoder no place name at all and Milan's 151.
    for name, at_least in (("r5_porto_portugal", 500), ("otp_milan_italy_small", 500)):
        extract_places(shared_dir / "data" / "osm" / f"{name}.osm.pbf", tmp_path / name)
        assert len(load_places(tmp_path / name)) >= at_least, name


def test_fuzzy_matching_finds_near_spellings_among_many_names() -> None:
    gazetteer = Gazetteer()
    for i in range(20_000):
        gazetteer.add(geocode.Place(f"Vila {i:05d} Nova", 41.0, -8.0, Source.PLACE, 1000.0))
    gazetteer.add(geocode.Place("Matosinhos", 41.18, -8.69, Source.PLACE, 2500.0))
    assert not gazetteer.quick("Matosinhose")
    found = gazetteer.geocode("Matosinhose")
    assert found is not None and found.how == "fuzzy" and found.place.name == "Matosinhos"
    assert gazetteer.quick("Matosinhos") and gazetteer.quick("Matosinhose")  # remembered now


def test_public_intake_searches_near_spellings_off_the_event_loop(
    client: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from bolo.clock import now

    assert isinstance(client, TestClient)
    calls: list[tuple[str, bool]] = []
    original = Gazetteer._fuzzy

    def spy(self: Gazetteer, query: str) -> geocode.Match | None:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        calls.append((threading.current_thread().name, on_loop))
        return original(self, query)

    monkeypatch.setattr(Gazetteer, "_fuzzy", spy)
    default_gazetteer()  # built: exact names are answered on the loop
    seen = (now() - timedelta(minutes=5)).isoformat()
    answer = client.post(
        "/api/v1/public/tips",
        json={"what": "a couple with a boy", "place": "Kilchoo-ju", "seen_at": seen},
    )
    assert answer.status_code == 201, answer.text
    assert calls and not any(on_loop for _name, on_loop in calls)
