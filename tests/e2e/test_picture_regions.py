"""The search picture's 90% and 50% regions on the console case map: both drawn as layers the
coordinator can switch off, named in the legend; a purged case still draws its picture; a
region without cells is drawn as nothing, with a sentence saying why. The case map opens on the
picture; the drafting form's map shows the same regions around the last-known place."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import create_engine

from tests.e2e.conftest import Running
from tests.e2e.journey import open_case
from tests.e2e.pages import DESKTOP, Offline, sign_in

pytestmark = pytest.mark.e2e
WIDE, NARROW = "Suspects 90% likely within", "Suspects 50% likely within"


def _drawn(page: Page) -> None:
    expect(page.locator("#map")).to_have_attribute(
        "data-drawn", re.compile(r"^[1-9]\d*$"), timeout=30_000
    )
    assert page.locator("#map").get_attribute("data-error") is None


@contextmanager
def _new_case(browser: Browser, running: Running) -> Iterator[tuple[Page, str]]:
    """The coordinator's tab on a case she just opened (and its URL); no request may leave
    the bolo server."""
    ctx = Offline(browser, running.base, viewport=DESKTOP)
    try:
        page = ctx.page()
        sign_in(page, running.cast.coordinator)
        yield page, open_case(page)
        assert ctx.outside == []
    finally:
        ctx.close()


def _overlay(page: Page, name: str) -> Any:
    return page.locator(".leaflet-control-layers-overlays label", has_text=name).locator("input")


def test_both_regions_are_drawn_and_can_be_switched_off(browser: Browser, running: Running) -> None:
    with _new_case(browser, running) as (page, _):
        _drawn(page)
        regions = page.locator("#map")
        expect(regions).to_have_attribute("data-regions", "0.9 0.5")
        expect(_overlay(page, WIDE)).to_be_checked()
        expect(_overlay(page, NARROW)).to_be_checked()
        legend = page.locator(".map-card .legend").first
        expect(legend).to_contain_text(WIDE)
        expect(legend).to_contain_text(NARROW)
        expect(page.locator("#regions-note")).to_be_hidden()
        _overlay(page, NARROW).uncheck()
        expect(regions).to_have_attribute("data-regions", "0.9")
        _overlay(page, WIDE).uncheck()
        expect(regions).to_have_attribute("data-regions", "")
        _overlay(page, NARROW).check()
        expect(regions).to_have_attribute("data-regions", "0.5")


def _purge(running: Running, case_id: str) -> None:
    """What the retention purge does to one closed case, on the server's database."""
    from bolo.ops.retention import purge_case_data
    from bolo.store.db import session_scope

    engine = create_engine(f"sqlite:///{running.data_dir / 'bolo.db'}")
    try:
        with session_scope(engine) as db:
            purge_case_data(db, case_id=case_id)
    finally:
        engine.dispose()


def test_purged_case_page_says_its_picture_went_with_it(browser: Browser, running: Running) -> None:
    # The picture and map would show where the child was last known: the purge takes them.
    with _new_case(browser, running) as (page, case_url):
        page.get_by_label("Outcome").select_option("found_safe")
        page.get_by_role("button", name="Resolve").click()
        page.get_by_role("button", name="Close the case").click()
        expect(page.locator("h1 .state")).to_have_text("closed")
        _purge(running, case_url.rsplit("/", 1)[1])
        answer = page.goto(case_url)
        assert answer is not None and answer.status == 200
        expect(page.locator("h1 .state")).to_have_text("purged")
        expect(page.locator("#picture-purged")).to_contain_text("deleted with the case")
        expect(page.locator("#map")).to_have_count(0)
        assert page.request.get(f"{case_url}/map.json").status == 410


def test_a_region_without_cells_is_drawn_as_nothing_and_said(
    browser: Browser, running: Running
) -> None:
    with _new_case(browser, running) as (page, case_url):
        _drawn(page)
        layers = page.evaluate(
            "url => fetch(url, {credentials: 'same-origin'}).then(r => r.json())",
            case_url + "/map.json",
        )
        for region in layers["regions"]["features"]:
            region["geometry"] = {"type": "MultiPolygon", "coordinates": []}
            region["properties"].update(cells=0, probability=0.0, area_km2=0.0)

        def answer(route: Route) -> None:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(layers))

        page.route("**/map.json", answer)
        page.goto(case_url)
        _drawn(page)
        expect(page.locator("#map")).to_have_attribute("data-regions", "")
        expect(page.locator("#regions-note")).to_be_visible()
        expect(page.locator("#regions-note")).to_contain_text("No 90% or 50% region is drawn")
        assert page.locator(".leaflet-control-layers-overlays label", has_text=WIDE).count() == 0


def _view(page: Page, element: str) -> tuple[float, float, float, float]:
    """The map's view (south, west, north, east; degrees) once it has one."""
    expect(page.locator(element)).to_have_attribute("data-view", re.compile(r"^-?\d"))
    south, west, north, east = (
        float(v) for v in page.locator(element).get_attribute("data-view").split(",")
    )  # type: ignore[union-attr]
    return south, west, north, east


def _picture_box(layers: dict[str, Any]) -> tuple[float, float, float, float]:
    """South, west, north, east of the regions and the last-known place."""
    points = [(layers["last_known"]["lat"], layers["last_known"]["lon"])]
    for region in layers["regions"]["features"]:
        for polygon in region["geometry"]["coordinates"]:
            points += [(lat, lon) for ring in polygon for lon, lat in ring]
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)


def _layers(page: Page, case_url: str) -> dict[str, Any]:
    layers: dict[str, Any] = page.evaluate(
        "url => fetch(url, {credentials: 'same-origin'}).then(r => r.json())",
        case_url + "/map.json",
    )
    return layers


def _holds(view: tuple[float, ...], box: tuple[float, ...]) -> bool:
    return view[0] <= box[0] and view[1] <= box[1] and view[2] >= box[2] and view[3] >= box[3]


def test_the_case_map_opens_on_the_picture(browser: Browser, running: Running) -> None:
    with _new_case(browser, running) as (page, case_url):
        _drawn(page)
        view = _view(page, "#map")
        box = _picture_box(_layers(page, case_url))
        assert _holds(view, box), (view, box)
        # Zoomed to it: the view is not much more than the picture (with room around it and
        # beside the layer control), unless the picture is smaller than the closest zoom.
        width, height = view[3] - view[1], view[2] - view[0]
        assert width < 4 * max(box[3] - box[1], 0.05) and height < 4 * max(box[2] - box[0], 0.05)


def test_the_drafting_map_shows_the_regions_around_the_last_known_place(
    browser: Browser, running: Running
) -> None:
    with _new_case(browser, running) as (page, case_url):
        page.get_by_role("link", name="Draft an alert").click()
        pick = page.locator("#pick-map")
        expect(pick).to_have_attribute("data-regions", "0.9 0.5", timeout=30_000)
        assert pick.get_attribute("data-error") is None
        legend = page.locator("#pick-legend")
        expect(legend).to_contain_text(WIDE)
        expect(legend).to_contain_text(NARROW)
        layers = _layers(page, case_url)
        view, box = _view(page, "#pick-map"), _picture_box(layers)
        assert _holds(view, box), (view, box)
        middle = ((view[0] + view[2]) / 2, (view[1] + view[3]) / 2)
        here = (layers["last_known"]["lat"], layers["last_known"]["lon"])
        assert abs(middle[0] - here[0]) < 0.01 and abs(middle[1] - here[1]) < 0.01
