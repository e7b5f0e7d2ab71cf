"""The whole journey in a real browser: open a case -> draft an alert -> a second user approves
-> a post acknowledges on its page -> the public sees the alert -> a tip is submitted -> it
appears in triage -> Cancel -> the public page shows it cancelled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import DESKTOP, PHONE, Offline, accessibility_problems, shoot, sign_in
from tests.e2e.seed import OFFICER_POST, Cast

pytestmark = pytest.mark.e2e
HEADLINE = "Child abduction: boy taken from Songchon, heading north"
KO_HEADLINE = "아동 유괴: 송천에서 소년 납치"


def open_case(page: Page) -> str:
    """Open a case through the console form; return the case page's path."""
    page.get_by_role("link", name="Open a case").click()
    page.get_by_label("Name", exact=True).fill("Kim Min-jun")
    page.get_by_label("Age").fill("7")
    page.get_by_label("Sex").fill("male")
    page.get_by_label("Description (clothes, height, marks)").fill(
        "Blue padded jacket, red cap, about 120 cm, scar on the left cheek")
    page.get_by_label("Photo URL").fill("/static/img/photo-placeholder.svg")
    page.get_by_label("Suspect 1", exact=True).fill("Woman, about 40")
    page.get_by_label("Vehicle").fill("Grey military truck")
    page.get_by_label("Place").fill("Songch'on, South P'yongan")
    page.get_by_label("Latitude (degrees)").fill("39.2068")
    page.get_by_label("Longitude (degrees)").fill("126.2039")
    page.get_by_label("Heading hint (degrees, 0 = north; empty = none)").fill("0")
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url(re.compile(r"/console/cases/[0-9a-f-]{36}$"))
    return page.url


def check_map(page: Page) -> None:
    """The map drew the search picture and every layer without the internet."""
    expect(page.locator("#map")).to_have_attribute("data-drawn", re.compile(r"^[1-9]\d*$"),
                                                   timeout=30_000)
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("GeoNames")
    expect(page.locator(".leaflet-overlay-pane canvas").first).to_be_attached()


def draft_alert(page: Page) -> str:
    """Draft a live alert with the recommended posts (plus the officer's post); submit it."""
    page.get_by_role("link", name="Draft an alert").click()
    ticked = page.locator("table.posts-pick input[type=checkbox]:checked")
    assert ticked.count() >= 5, "the search picture's recommended posts are preselected"
    officer = page.locator(f"input[name=post][value='{OFFICER_POST}']").first
    if not officer.is_checked():
        page.get_by_text("Other posts").click()
        officer.check()
    page.get_by_label("Headline", exact=True).fill(HEADLINE)
    page.get_by_label("제목 (headline)").fill(KO_HEADLINE)
    page.get_by_label("설명 (description)").fill("남녀 두 명이 소년을 데려갔다. 북쪽으로 이동 중.")
    page.get_by_label("행동 요령 (what to do)").fill("목격 시 즉시 제보하십시오.")
    page.get_by_role("button", name="Save and ask a second person to approve").click()
    page.wait_for_url(re.compile(r"/console/alerts/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def test_whole_journey(browser: Browser, server: str, cast: Cast, tmp_path: Path) -> None:
    alice_ctx = Offline(browser, server, viewport=DESKTOP)
    bob_ctx = Offline(browser, server, viewport=DESKTOP)
    officer_ctx = Offline(browser, server, viewport=PHONE, is_mobile=True, has_touch=True)
    public_ctx = Offline(browser, server, viewport=PHONE, locale="ko-KR")
    a11y: dict[str, list[str]] = {}
    try:
        alice = alice_ctx.page()
        sign_in(alice, cast.coordinator)
        case_url = open_case(alice)
        check_map(alice)
        a11y["case page"] = accessibility_problems(alice)
        alert_id = draft_alert(alice)
        banner = alice.locator("#reach-banner")
        expect(banner).to_have_text(re.compile(r"^LIVE - \d+ posts \+ public$"))
        # The author cannot approve a live alert: there is no approve button for her.
        expect(alice.locator("#approve")).to_have_count(0)
        expect(alice.get_by_text("A live alert needs a second person")).to_be_visible()

        bob = bob_ctx.page()
        sign_in(bob, cast.approver)
        bob.get_by_role("link", name=re.compile("Actual alert for case")).click()
        approve = bob.locator("#approve")
        expect(approve).to_have_text(re.compile(r"Approve and send LIVE to \d+ posts \+ public"))
        expect(bob.locator("body")).to_have_class(re.compile("is-live"))
        a11y["approval"] = accessibility_problems(bob)
        bob.get_by_label("Your password (confirms it is you)").fill(cast.approver.password)
        shoot(bob, "console-approval")
        approve.click()
        expect(bob.locator("h1 .state")).to_have_text("active")

        # Alice watches the delivery board; it must update by itself when the post acknowledges.
        alice.goto("/console/deliveries")
        expect(alice.locator("#live-status")).to_have_text("live")
        waiting = alice.locator("tr.waiting", has_text=OFFICER_POST)
        expect(waiting).to_have_count(1)

        officer = officer_ctx.page()
        sign_in(officer, cast.officer, then="/post")
        card = officer.locator("article.alert-card").first
        expect(card.get_by_role("heading", name=HEADLINE)).to_be_visible()
        expect(card.get_by_text("Blue padded jacket")).to_be_visible()
        shoot(officer, "post-page", full_page=True)
        a11y["post page"] = accessibility_problems(officer)
        card.get_by_role("button", name="Acknowledge: we are looking").click()
        expect(officer.get_by_text("Acknowledged by songchon-officer")).to_be_visible()
        card = officer.locator("article.alert-card").first
        card.get_by_text("Report a search").click()
        card.get_by_label("What did you search?").fill("every bus leaving Songchon, all children")
        card.get_by_role("button", name="Send search report").click()
        expect(officer.get_by_text("Search reported")).to_be_visible()

        expect(alice.locator("tr.acked", has_text=OFFICER_POST)).to_have_count(1, timeout=10_000)

        # An Update from the new search picture (the search counts as evidence), approved by Bob.
        alice.goto(f"/console/alerts/{alert_id}")
        alice.get_by_role("link", name="Draft an update from the current search picture").click()
        expect(alice.get_by_label("Headline", exact=True)).to_have_value(HEADLINE)
        alice.get_by_role("button", name="Save and ask a second person to approve").click()
        expect(alice.locator("#approve")).to_have_count(0)
        bob.goto(f"/console/alerts/{alert_id}")
        expect(bob.get_by_role("heading", name="Approval: Update version 2")).to_be_visible()
        bob.get_by_label("Your password (confirms it is you)").fill(cast.approver.password)
        bob.locator("#approve").click()
        expect(bob.locator("h1 .state")).to_have_text("active")

        public = public_ctx.page()
        public.goto("/alerts")
        public.get_by_role("link", name=HEADLINE).click()
        expect(public.locator("#status-banner")).to_contain_text("ACTIVE")
        public.get_by_role("link", name="한국어").click()
        expect(public.get_by_role("heading", level=1)).to_have_text(KO_HEADLINE)
        expect(public.locator("html")).to_have_attribute("lang", "ko-KP")
        shoot(public, "public-alert-ko", full_page=True)
        a11y["public alert (ko)"] = accessibility_problems(public)
        public.get_by_role("link", name="English").click()
        shoot(public, "public-alert", full_page=True)
        cap = httpx.get(f"{server}/alerts/{alert_id}.cap")
        assert cap.status_code == 200 and "<msgType>Update</msgType>" in cap.text
        assert alert_id in httpx.get(f"{server}/feed/cap.atom").text

        public.locator(".todo").get_by_role("link", name="Report a sighting").click()
        public.get_by_label(re.compile("What did you see")).fill(
            "A woman with a small boy in a blue padded jacket and a red cap boarded a grey truck")
        public.get_by_label(re.compile("Where")).fill("Kaechon")
        seen = datetime.now(UTC) - timedelta(minutes=20)
        public.get_by_label("When?").fill(seen.strftime("%Y-%m-%dT%H:%M"))
        public.get_by_label("time zone").select_option("+00:00")
        public.get_by_role("button", name="Send").click()
        receipt = public.locator(".receipt").inner_text().strip()
        assert re.fullmatch(r"T-[A-Z2-9]{4}-[A-Z2-9]{4}", receipt)

        alice.goto("/console/triage")
        expect(alice.locator("tr.report", has_text=receipt)).to_have_count(1)
        shoot(alice, "console-triage")
        a11y["triage"] = accessibility_problems(alice)
        alice.goto(case_url)
        check_map(alice)
        shoot(alice, "console-case")

        alice.goto(f"/console/alerts/{alert_id}")
        alice.get_by_label("Reason (shown to the public)").fill("The boy was found safe.")
        alice.get_by_role("button", name="Cancel alert").click()
        expect(alice.locator("h1 .state")).to_have_text("cancelled")

        public.goto(f"/alerts/{alert_id}")
        expect(public.locator("#status-banner")).to_contain_text("CANCELLED")
        expect(public.get_by_text("The boy was found safe.")).to_be_visible()
        expect(public.get_by_role("link", name="Report a sighting")).to_have_count(1)  # nav only

        alice.goto(case_url)
        expect(alice.locator("#timeline")).to_contain_text("acknowledged")
        expect(alice.locator("#timeline")).to_contain_text(receipt)
        search_row = re.compile(r"search T-[A-Z2-9-]{9} at")
        expect(alice.locator("#timeline")).to_contain_text(search_row)
        alice.goto("/console/deliveries")
        a11y["deliveries"] = accessibility_problems(alice)
        for ctx in (alice_ctx, bob_ctx, officer_ctx, public_ctx):
            assert ctx.outside == [], f"pages asked the internet for {ctx.outside}"
        assert {k: v for k, v in a11y.items() if v} == {}, "accessibility (axe-core) problems"
    except Exception:
        for n, ctx in enumerate((alice_ctx, bob_ctx, officer_ctx, public_ctx)):
            ctx.keep_evidence(tmp_path / f"context-{n}")
        print(f"browser evidence (HTML and screenshots) in {tmp_path}")
        raise
    finally:
        for ctx in (alice_ctx, bob_ctx, officer_ctx, public_ctx):
            ctx.close()


def test_exercise_is_visibly_different_and_never_public(browser: Browser, server: str,
                                                         cast: Cast) -> None:
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
            re.compile(r"^EXERCISE - NOT LIVE - \d+ posts, no public$"))
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
