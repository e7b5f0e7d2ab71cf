"""Names on the case map are text: a post, place or attribution holding markup never becomes
HTML in a tooltip or the attribution control (Leaflet puts strings into innerHTML)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.journey import open_case
from tests.e2e.pages import DESKTOP, Offline, sign_in
from tests.e2e.seed import Cast

pytestmark = pytest.mark.e2e
MARKUP = '<img src="/static/nope.png" onerror="window.__injected = 1">'
CENTRE = (40.0, 127.0)
ASIDE = (40.1, 127.1)


def _layers(post_at: tuple[float, float], last_known_at: tuple[float, float]) -> dict[str, Any]:
    """Map layers with markup in every name, in a square around CENTRE (the map opens on it)."""
    lat, lon = CENTRE
    d = 0.02  # small: the Mercator centre of the square is CENTRE to well under a pixel
    square = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    post = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [post_at[1], post_at[0]]},
        "properties": {
            "id": "p1",
            "name": MARKUP,
            "kind": "checkpoint",
            "targeted": False,
            "acknowledged": False,
        },
    }
    return {
        "outline": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Polygon", "coordinates": [square]},
                }
            ],
        },
        "network": empty,
        "heat": empty,
        "isochrones": empty,
        "reports": empty,
        "posts": {"type": "FeatureCollection", "features": [post]},
        "last_known": {"lat": last_known_at[0], "lon": last_known_at[1], "place": MARKUP},
        "attribution": MARKUP,
        "at": "2026-01-01T00:00:00+00:00",
    }


def _hover_centre(page: Page, layers: dict[str, Any], case_url: str) -> None:
    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(layers))

    page.unroute("**/map.json")
    page.route("**/map.json", answer)
    page.goto(case_url)
    expect(page.locator("#map")).to_have_attribute("data-drawn", "0")
    page.wait_for_timeout(300)  # the fitted view settles
    box = page.locator("#map").bounding_box()
    assert box is not None
    # CENTRE on the screen, from the map's view (south, west, north, east; a small view, so
    # linear to well under a pixel).
    view = page.locator("#map").get_attribute("data-view")
    assert view is not None
    south, west, north, east = (float(v) for v in view.split(","))
    x = box["x"] + box["width"] * (CENTRE[1] - west) / (east - west)
    y = box["y"] + box["height"] * (north - CENTRE[0]) / (north - south)
    # Leaflet's canvas handles one hover per 32 ms: pause between the moves.
    for dx in (60, 1, 0):
        page.mouse.move(x + dx, y + dx)
        page.wait_for_timeout(100)


def test_map_names_are_text_not_html(browser: Browser, server: str, cast: Cast) -> None:
    ctx = Offline(browser, server, viewport=DESKTOP)
    try:
        page = ctx.page()
        sign_in(page, cast.coordinator)
        case_url = open_case(page)
        _hover_centre(page, _layers(CENTRE, ASIDE), case_url)
        tooltip = page.locator(".leaflet-tooltip")
        expect(tooltip).to_have_text(f"{MARKUP} (checkpoint)")
        expect(page.locator(".leaflet-control-attribution")).to_contain_text(MARKUP)
        _hover_centre(page, _layers(ASIDE, CENTRE), case_url)
        expect(tooltip).to_have_text(f"Last known: {MARKUP}")
        assert page.locator("#map img").count() == 0
        assert page.evaluate("window.__injected === undefined")
    finally:
        ctx.close()
