"""The whole journey in a real browser: open a case -> draft an alert -> a second user approves
-> a post acknowledges on its page -> the public sees the alert -> a tip is submitted -> it
appears in triage -> Cancel -> the public page shows it cancelled."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.journey import Journey, open_case
from tests.e2e.pages import DESKTOP, Offline, accessibility_problems, shoot, sign_in
from tests.e2e.seed import Cast

pytestmark = pytest.mark.e2e


def test_whole_journey(browser: Browser, server: str, cast: Cast, tmp_path: Path) -> None:
    with Journey.run(browser, server, cast, tmp_path) as journey:
        journey.coordinator_opens_a_case_and_drafts()
        journey.second_user_approves()
        journey.post_acknowledges_while_the_board_watches()
        journey.update_is_drafted_and_approved()
        journey.public_sees_the_alert()
        receipt = journey.public_sends_a_tip()
        journey.tip_is_in_triage(receipt)
        journey.cancel_reaches_the_public()
        journey.timeline_holds_everything(receipt)
        journey.nothing_came_from_the_internet_and_pages_are_accessible()


def test_exercise_is_visibly_different_and_never_public(
    browser: Browser, server: str, cast: Cast
) -> None:
    """An Exercise alert: a striped blue "NOT LIVE" screen, no public page, no public listing."""
    ctx = Offline(browser, server, viewport=DESKTOP)
    try:
        page = ctx.page()
        sign_in(page, cast.coordinator)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        open_case(page)
        page.get_by_role("link", name="Draft an alert").click()
        page.get_by_role("radio", name=re.compile("Exercise: posts only")).check()
        assert accessibility_problems(page) == [], "drafting page"
        page.get_by_label("Headline", exact=True).fill("EXERCISE: drill at Songchon")
        page.get_by_role("button", name="Save and ask a second person to approve").click()
        expect(page.locator("#reach-banner")).to_have_text(
            re.compile(r"^EXERCISE - NOT LIVE - \d+ posts, no public$")
        )
        expect(page.locator("body")).to_have_class(re.compile("is-exercise"))
        approve = page.locator("#approve")
        expect(approve).to_have_text(re.compile(r"Approve EXERCISE \(not live\)"))
        page.get_by_label("Your password (confirms it is you)").fill(cast.coordinator.password)
        shoot(page, "console-approval-exercise")
        page.keyboard.press("Enter")  # keyboard only: Enter in the password field approves
        expect(page.locator("h1 .state")).to_have_text("active")
        alert_id = page.url.rsplit("/", 1)[1]
        assert httpx.get(f"{server}/alerts/{alert_id}").status_code == 404
        assert "drill at Songchon" not in httpx.get(f"{server}/alerts").text
        assert ctx.outside == []
    finally:
        ctx.close()
