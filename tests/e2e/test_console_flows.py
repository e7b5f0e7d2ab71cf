"""The console's later work in a real browser: the post picker, the activation gate, an
approver's rejection the author reads and fixes, a hint added later, resolve and close, and the
posts pages; each page checked by axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.journey import PASSWORD_LABEL, SUBMIT_DRAFT, open_case, pick_post
from tests.e2e.pages import DESKTOP, Offline, accessibility_problems, shoot, sign_in
from tests.e2e.seed import OFFICER_POST, Cast

pytestmark = pytest.mark.e2e
REASON = "Say which road the truck took in the headline."


def _draft_with_the_gate(page: Page) -> str:
    """Draft a live alert: the picker adds the officer's post, the gate refuses until the
    coordinator states her judgements; returns the alert id."""
    page.get_by_role("link", name="Draft an alert").click()
    pick_post(page, OFFICER_POST)
    expect(page.locator("#pick-map")).to_have_attribute("data-posts", "1")
    # The map shows only the post found; it lies at the last-known place, the map's centre.
    chosen = page.locator(f"#chosen-list input[value='{OFFICER_POST}']")
    box = page.locator("#pick-map").bounding_box()
    assert box is not None
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(*centre)
    expect(chosen).not_to_be_checked()
    page.wait_for_timeout(100)  # Leaflet's canvas handles one pointer event per 32 ms
    page.mouse.click(*centre)
    expect(chosen).to_be_checked()
    page.get_by_label("Kind").select_option("station")
    expect(page.locator("#pick-count")).to_contain_text("matching posts listed")
    expect(page.locator("#activation")).to_contain_text("Met: a child under 18")
    shoot(page, "console-draft", full_page=True)
    problems = accessibility_problems(page)
    page.get_by_role("button", name=SUBMIT_DRAFT).click()
    expect(page.locator(".error")).to_contain_text("confirm that an abduction is believed")
    assert page.locator(f"#chosen-list input[value='{OFFICER_POST}']").is_checked()
    page.get_by_label("I believe the child was abducted").check()
    page.get_by_label("I believe the child is at risk of serious harm").check()
    page.get_by_role("button", name=SUBMIT_DRAFT).click()
    page.wait_for_url(re.compile(r"/console/alerts/[0-9a-f-]{36}$"))
    assert problems == [], "drafting page with the picker"
    return page.url.rsplit("/", 1)[1]


def test_reject_edit_approve_cancel_resolve_close(
    browser: Browser, server: str, cast: Cast
) -> None:
    alice_ctx, bob_ctx = (Offline(browser, server, viewport=DESKTOP) for _ in range(2))
    try:
        alice, bob = alice_ctx.page(), bob_ctx.page()
        sign_in(alice, cast.coordinator)
        case_url = open_case(alice)
        alice.get_by_label("Heading (degrees, 0 = north, 90 = east)").fill("45")
        alice.get_by_label("Source").fill("a driver at the fuel station")
        alice.get_by_role("button", name="Add the hint").click()
        expect(alice.locator("#timeline")).to_contain_text("a driver at the fuel station")
        alert_id = _draft_with_the_gate(alice)

        sign_in(bob, cast.approver, then=f"/console/alerts/{alert_id}")
        expect(bob.locator("#activation-met")).to_be_visible()
        bob.get_by_text("Reject: send it back to its author").click()
        bob.get_by_label("What must change (the author reads this)").fill(REASON)
        bob.get_by_role("button", name="Reject and send back").click()
        expect(bob.locator("#approve")).to_have_count(0)

        alice.goto("/console")
        alice.get_by_role("link", name=re.compile("Actual Alert for case")).click()
        expect(alice.locator("#rejection")).to_contain_text(REASON)
        shoot(alice, "console-rejected")
        assert accessibility_problems(alice) == [], "alert page with a rejection"
        alice.get_by_role("link", name="Edit the draft and submit it again").click()
        expect(alice.locator("#rejection")).to_contain_text(REASON)
        alice.get_by_label("Headline", exact=True).fill(
            "Boy taken from Songchon, truck heading north-east"
        )
        alice.get_by_role("button", name=SUBMIT_DRAFT).click()
        alice.wait_for_url(f"**/console/alerts/{alert_id}")

        bob.reload()
        expect(bob.get_by_text("Sent back earlier")).to_be_visible()
        expect(bob.locator("#content-h + article h3")).to_contain_text("north-east")
        bob.get_by_label(PASSWORD_LABEL).fill(cast.approver.password)
        bob.locator("#approve").click()
        expect(bob.locator("h1 .state")).to_have_text("active")

        alice.goto(case_url)
        alice.get_by_label("Outcome").select_option("found_safe")
        alice.get_by_role("button", name="Resolve").click()
        expect(alice.locator("#case-errors")).to_contain_text("cancel it first")
        alice.goto(f"/console/alerts/{alert_id}")
        alice.get_by_label("Reason (shown to the public)").fill("The boy was found safe.")
        alice.get_by_role("button", name="Cancel alert").click()
        expect(alice.locator("h1 .state")).to_have_text("cancelled")
        alice.goto(case_url)
        alice.get_by_label("Outcome").select_option("found_safe")
        alice.get_by_role("button", name="Resolve").click()
        expect(alice.locator("#outcome")).to_contain_text("found safe")
        alice.get_by_role("button", name="Close the case").click()
        expect(alice.locator("h1 .state")).to_have_text("closed")
        assert alice_ctx.outside == [] and bob_ctx.outside == []
    finally:
        alice_ctx.close()
        bob_ctx.close()


def test_posts_pages(browser: Browser, server: str, cast: Cast) -> None:
    ctx = Offline(browser, server, viewport=DESKTOP)
    try:
        page = ctx.page()
        sign_in(page, cast.coordinator, then="/console/posts")
        page.get_by_label("Kind").select_option("station")
        page.get_by_label("Name or id contains").fill(OFFICER_POST)
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#posts-count")).to_contain_text(re.compile(r"^1 post matches"))
        shoot(page, "console-posts")
        assert accessibility_problems(page) == [], "posts page"
        page.locator("table.list a").first.click()
        expect(page.locator("#channels")).to_contain_text("webhook")
        expect(page.locator("#channels")).to_contain_text("http://127.0.0.1:9")
        expect(page.locator("#channels")).not_to_contain_text("bolo-e2e-hook")
        assert accessibility_problems(page) == [], "post page"
        assert ctx.outside == []
    finally:
        ctx.close()
