"""Korean in a real browser (Accept-Language ko-KR): the console's case page, the post page,
the public alert page, the tip form and the poster, each in Korean, screenshotted for the docs
(BOLO_E2E_SCREENSHOTS=docs/screenshots)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.journey import KO_HEADLINE, PASSWORD_LABEL, draft_alert, open_case
from tests.e2e.pages import DESKTOP, PHONE, Offline, shoot, sign_in
from tests.e2e.seed import Cast, Login
from tests.web.test_languages import english_left

pytestmark = pytest.mark.e2e
KOREAN = {"locale": "ko-KR", "extra_http_headers": {"Accept-Language": "ko-KR,ko;q=0.9"}}


def _sign_in_korean(page: Page, who: Login, then: str) -> None:
    page.goto(f"/login?next={then}")
    page.get_by_label("사용자 이름").fill(who.username)
    page.get_by_label("비밀번호").fill(who.password)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"**{then}")


def _live_alert(browser: Browser, server: str, cast: Cast) -> tuple[str, str]:
    """A live alert drafted by the coordinator and approved by the approver (in English)."""
    ctx = Offline(browser, server, viewport=DESKTOP)
    try:
        alice, bob = ctx.page(), ctx.page()
        sign_in(alice, cast.coordinator)
        case_url = open_case(alice)
        alert_id = draft_alert(alice)
        sign_in(bob, cast.approver)
        bob.goto(f"/console/alerts/{alert_id}")
        bob.get_by_label(PASSWORD_LABEL).fill(cast.approver.password)
        bob.locator("#approve").click()
        expect(bob.locator("h1 .state")).to_have_text("active")
        return case_url, alert_id
    finally:
        ctx.close()


def _korean(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    left = english_left(page.content())
    assert left == [], f"{page.url}: {left}"


@pytest.fixture(scope="module")
def live(browser: Browser, server: str, cast: Cast) -> Iterator[tuple[str, str]]:
    """(case page URL, alert id) of a live alert, cancelled afterwards (the server is shared
    with the other browser tests)."""
    case_url, alert_id = _live_alert(browser, server, cast)
    yield case_url, alert_id
    ctx = Offline(browser, server, viewport=DESKTOP)
    try:
        alice = ctx.page()
        sign_in(alice, cast.coordinator, then=f"/console/alerts/{alert_id}")
        alice.get_by_label("Reason (shown to the public)").fill("Korean screens done.")
        alice.get_by_role("button", name="Cancel alert").click()
        expect(alice.locator("h1 .state")).to_have_text("cancelled")
    finally:
        ctx.close()


def test_korean_public_pages_post_page_and_poster(
    browser: Browser, server: str, cast: Cast, live: tuple[str, str]
) -> None:
    alert_id = live[1]
    desk = Offline(browser, server, viewport=DESKTOP, **KOREAN)
    phone = Offline(browser, server, viewport=PHONE, **KOREAN)
    try:
        officer = phone.page()
        _sign_in_korean(officer, cast.officer, "/post")
        expect(officer.get_by_role("heading", name=KO_HEADLINE, exact=True).first).to_be_visible()
        _korean(officer)
        shoot(officer, "ko-post-page", full_page=True)

        public = phone.page()
        public.goto(f"/alerts/{alert_id}")
        expect(public.get_by_role("heading", name=KO_HEADLINE, exact=True).first).to_be_visible()
        _korean(public)
        shoot(public, "ko-public-alert", full_page=True)
        public.get_by_role("link", name="목격 제보하기").first.click()
        expect(public.get_by_label("무엇을 보셨습니까?")).to_be_visible()
        _korean(public)
        public.wait_for_load_state("networkidle")  # the clickable map
        shoot(public, "ko-tip-form", full_page=True)

        poster = desk.page()
        poster.goto(f"/alerts/{alert_id}/poster")
        expect(poster.get_by_role("heading", name=KO_HEADLINE, exact=True).first).to_be_visible()
        _korean(poster)
        poster.emulate_media(media="print")
        shoot(poster, "ko-poster", full_page=True)
        assert desk.outside == [] and phone.outside == []
    finally:
        desk.close()
        phone.close()


def test_korean_console_case_page(
    browser: Browser, server: str, cast: Cast, live: tuple[str, str]
) -> None:
    desk = Offline(browser, server, viewport=DESKTOP, **KOREAN)
    try:
        coordinator = desk.page()
        _sign_in_korean(coordinator, cast.coordinator, "/console")
        coordinator.goto(live[0])
        expect(coordinator.locator("#map")).to_have_attribute(
            "data-drawn", re.compile(r"^[1-9]\d*$"), timeout=30_000
        )
        shoot(coordinator, "ko-console-case")
        _korean(coordinator)
        assert desk.outside == []
    finally:
        desk.close()


def test_korean_drafting_form_reasons_and_map(
    browser: Browser, server: str, cast: Cast, live: tuple[str, str]
) -> None:
    """The drafting form in Korean: every ranked post's reason in Korean (the evidence that
    moved it too), and the map's 90% and 50% regions with a Korean legend."""
    desk = Offline(browser, server, viewport=DESKTOP, **KOREAN)
    try:
        coordinator = desk.page()
        _sign_in_korean(coordinator, cast.coordinator, "/console")
        coordinator.goto(live[0] + "/alerts/new")
        pick = coordinator.locator("#pick-map")
        expect(pick).to_have_attribute("data-regions", "0.9 0.5", timeout=30_000)
        legend = coordinator.locator("#pick-legend")
        expect(legend).to_contain_text("용의자가 90% 확률로 있는 구역")
        expect(legend).to_contain_text("용의자가 50% 확률로 있는 구역")
        reasons = coordinator.locator(".rank-reason").all_inner_texts()
        assert reasons and all(text.startswith(f"{k}위: ") for k, text in enumerate(reasons, 1))
        assert not any(re.search("[A-Za-z]{3,}", text) for text in reasons), reasons
        shoot(coordinator, "ko-console-draft", full_page=True)
        assert desk.outside == []
    finally:
        desk.close()
