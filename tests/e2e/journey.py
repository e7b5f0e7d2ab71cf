"""The steps of the whole browser journey, one method each, sharing the four people's tabs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages import DESKTOP, PHONE, Offline, accessibility_problems, shoot, sign_in
from tests.e2e.seed import OFFICER_POST, Cast

HEADLINE = "Child abduction: boy taken from Songchon, heading north"
KO_HEADLINE = "아동 유괴: 송천에서 소년 납치"
PASSWORD_LABEL = "Your password (confirms it is you)"
SUBMIT_DRAFT = "Save and ask a second person to approve"


def open_case(page: Page) -> str:
    """Open a case through the console form; return the case page's URL."""
    page.get_by_role("link", name="Open a case").click()
    page.get_by_label("Name", exact=True).fill("Kim Min-jun")
    page.get_by_label("Age").fill("7")
    page.get_by_label("Sex").fill("male")
    page.get_by_label("Description (clothes, height, marks)").fill(
        "Blue padded jacket, red cap, about 120 cm, scar on the left cheek"
    )
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
    expect(page.locator("#map")).to_have_attribute(
        "data-drawn", re.compile(r"^[1-9]\d*$"), timeout=30_000
    )
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("GeoNames")
    expect(page.locator(".leaflet-overlay-pane canvas").first).to_be_attached()


def pick_post(page: Page, post_id: str) -> None:
    """Find a post with the picker's search (the server filters) and tick it."""
    page.get_by_label("Name or id contains").fill(post_id)
    found = page.locator("#pick-results label", has_text=post_id).first
    found.locator("input").check()


def draft_alert(page: Page) -> str:
    """Draft a live alert with the recommended posts (plus the officer's post); submit it;
    return the alert id."""
    page.get_by_role("link", name="Draft an alert").click()
    ticked = page.locator("table.posts-pick input[type=checkbox]:checked")
    assert ticked.count() >= 5, "the search picture's recommended posts are preselected"
    officer = page.locator(f"input[name=post][value='{OFFICER_POST}']")
    if officer.count() == 0 or not officer.first.is_checked():
        pick_post(page, OFFICER_POST)
    expect(officer.first).to_be_checked()
    page.get_by_label("I believe the child was abducted").check()
    page.get_by_label("I believe the child is at risk of serious harm").check()
    page.get_by_label("Headline", exact=True).fill(HEADLINE)
    page.get_by_label("제목 (headline)").fill(KO_HEADLINE)
    page.get_by_label("설명 (description)").fill("남녀 두 명이 소년을 데려갔다. 북쪽으로 이동 중.")
    page.get_by_label("행동 요령 (what to do)").fill("목격 시 즉시 제보하십시오.")
    page.get_by_role("button", name=SUBMIT_DRAFT).click()
    page.wait_for_url(re.compile(r"/console/alerts/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


class Journey:
    """Alice (coordinator), Bob (approver), the Songch'on post officer and a member of the
    public, each in a browser context that refuses the internet."""

    def __init__(self, browser: Browser, server: str, cast: Cast) -> None:
        self.server, self.cast = server, cast
        self.contexts = [
            Offline(browser, server, viewport=DESKTOP),
            Offline(browser, server, viewport=DESKTOP),
            Offline(browser, server, viewport=PHONE, is_mobile=True, has_touch=True),
            Offline(browser, server, viewport=PHONE, locale="ko-KR"),
        ]
        self.alice, self.bob, self.officer, self.public = (c.page() for c in self.contexts)
        self.a11y: dict[str, list[str]] = {}
        self.case_url = self.alert_id = ""

    @classmethod
    @contextmanager
    def run(cls, browser: Browser, server: str, cast: Cast, evidence: Path) -> Iterator[Journey]:
        """The journey's tabs; on a failure every tab's HTML and screenshot go to ``evidence``."""
        journey = cls(browser, server, cast)
        try:
            yield journey
        except Exception:
            for n, ctx in enumerate(journey.contexts):
                ctx.keep_evidence(evidence / f"context-{n}")
            print(f"browser evidence (HTML and screenshots) in {evidence}")
            raise
        finally:
            for ctx in journey.contexts:
                ctx.close()

    def coordinator_opens_a_case_and_drafts(self) -> None:
        """Alice opens a case, sees the map, drafts a live alert and cannot approve it."""
        sign_in(self.alice, self.cast.coordinator)
        self.case_url = open_case(self.alice)
        check_map(self.alice)
        self.a11y["case page"] = accessibility_problems(self.alice)
        self.alert_id = draft_alert(self.alice)
        expect(self.alice.locator("#reach-banner")).to_have_text(
            re.compile(r"^LIVE - \d+ posts \+ public$")
        )
        expect(self.alice.locator("#approve")).to_have_count(0)
        expect(self.alice.get_by_text("A live alert needs a second person")).to_be_visible()

    def second_user_approves(self) -> None:
        """Bob finds the alert waiting, sees LIVE everywhere, types his password, approves."""
        sign_in(self.bob, self.cast.approver)
        self.bob.get_by_role("link", name=re.compile("Actual alert for case")).click()
        approve = self.bob.locator("#approve")
        expect(approve).to_have_text(re.compile(r"Approve and send LIVE to \d+ posts \+ public"))
        expect(self.bob.locator("body")).to_have_class(re.compile("is-live"))
        self.a11y["approval"] = accessibility_problems(self.bob)
        self.bob.get_by_label(PASSWORD_LABEL).fill(self.cast.approver.password)
        shoot(self.bob, "console-approval")
        approve.click()
        expect(self.bob.locator("h1 .state")).to_have_text("active")

    def post_acknowledges_while_the_board_watches(self) -> None:
        """The officer acknowledges on the phone page and reports a search; Alice's delivery
        board turns the post to acknowledged by itself (server-sent events)."""
        self.alice.goto("/console/deliveries")
        expect(self.alice.locator("#live-status")).to_have_text("auto-refresh on")
        expect(self.alice.locator("tr.waiting", has_text=OFFICER_POST)).to_have_count(1)
        sign_in(self.officer, self.cast.officer, then="/post")
        card = self.officer.locator("article.alert-card").first
        expect(card.get_by_role("heading", name=HEADLINE)).to_be_visible()
        expect(card.get_by_text("Blue padded jacket")).to_be_visible()
        shoot(self.officer, "post-page", full_page=True)
        self.a11y["post page"] = accessibility_problems(self.officer)
        card.get_by_role("button", name="Acknowledge: we are looking").click()
        expect(self.officer.get_by_text("Acknowledged by songchon-officer")).to_be_visible()
        card = self.officer.locator("article.alert-card").first
        card.get_by_text("Report a search").click()
        card.get_by_label("What did you search?").fill("every bus leaving Songchon, all children")
        card.get_by_role("button", name="Send search report").click()
        expect(self.officer.get_by_text("Search reported")).to_be_visible()
        expect(self.alice.locator("tr.acked", has_text=OFFICER_POST)).to_have_count(
            1, timeout=10_000
        )
        self.alice.goto("/console/deliveries")
        self.a11y["deliveries"] = accessibility_problems(self.alice)

    def update_is_drafted_and_approved(self) -> None:
        """Alice drafts an Update from the new picture; Bob approves it."""
        self.alice.goto(f"/console/alerts/{self.alert_id}")
        self.alice.get_by_role(
            "link", name="Draft an update from the current search picture"
        ).click()
        expect(self.alice.get_by_label("Headline", exact=True)).to_have_value(HEADLINE)
        self.alice.get_by_role("button", name=SUBMIT_DRAFT).click()
        expect(self.alice.locator("#approve")).to_have_count(0)
        self.bob.goto(f"/console/alerts/{self.alert_id}")
        expect(self.bob.get_by_role("heading", name="Approval: Update version 2")).to_be_visible()
        self.bob.get_by_label(PASSWORD_LABEL).fill(self.cast.approver.password)
        self.bob.locator("#approve").click()
        expect(self.bob.locator("h1 .state")).to_have_text("active")

    def public_sees_the_alert(self) -> None:
        """The public list, the alert in Korean and English, its CAP (an Update) and Atom."""
        public = self.public
        public.goto("/alerts")  # the browser asks for Korean: the list is in Korean
        public.get_by_role("link", name=KO_HEADLINE).click()
        expect(public.get_by_role("heading", level=1)).to_have_text(KO_HEADLINE)
        expect(public.locator("html")).to_have_attribute("lang", re.compile("^ko"))
        shoot(public, "public-alert-ko", full_page=True)
        self.a11y["public alert (ko)"] = accessibility_problems(public)
        # The alert's own language links (the page's navigation is in Korean now).
        public.locator(f"a[href='/alerts/{self.alert_id}?lang=en']").first.click()
        expect(public.get_by_role("heading", level=1)).to_have_text(HEADLINE)
        expect(public.locator("#status-banner")).to_contain_text("ACTIVE")
        shoot(public, "public-alert", full_page=True)
        cap = httpx.get(f"{self.server}/alerts/{self.alert_id}.cap")
        assert cap.status_code == 200 and "<msgType>Update</msgType>" in cap.text
        assert self.alert_id in httpx.get(f"{self.server}/feed/cap.atom").text

    def public_sends_a_tip(self) -> str:
        """Through the alert page's link to the tip form; returns the receipt."""
        public = self.public
        public.locator(".todo").get_by_role("link", name="Report a sighting").click()
        public.get_by_label(re.compile("What did you see")).fill(
            "A woman with a small boy in a blue padded jacket and a red cap boarded a grey truck"
        )
        public.get_by_label(re.compile("Where")).fill("Kaechon")
        seen = datetime.now(UTC) - timedelta(minutes=20)
        public.get_by_label("When?").fill(seen.strftime("%Y-%m-%dT%H:%M"))
        public.get_by_label("time zone").select_option("+00:00")
        public.get_by_role("button", name="Send").click()
        receipt = public.locator(".receipt").inner_text().strip()
        assert re.fullmatch(r"T-[A-Z2-9]{4}-[A-Z2-9]{4}", receipt)
        return receipt

    def tip_is_in_triage(self, receipt: str) -> None:
        """The tip waits in Alice's triage queue; the case map shows the picture."""
        self.alice.goto("/console/triage")
        expect(self.alice.locator("tr.report", has_text=receipt)).to_have_count(1)
        shoot(self.alice, "console-triage")
        self.a11y["triage"] = accessibility_problems(self.alice)
        self.alice.goto(self.case_url)
        check_map(self.alice)
        shoot(self.alice, "console-case")

    def cancel_reaches_the_public(self) -> None:
        """Alice cancels in one step; the public page says it is cancelled, and why."""
        self.alice.goto(f"/console/alerts/{self.alert_id}")
        self.alice.get_by_label("Reason (shown to the public)").fill("The boy was found safe.")
        self.alice.get_by_role("button", name="Cancel alert").click()
        expect(self.alice.locator("h1 .state")).to_have_text("cancelled")
        self.public.goto(f"/alerts/{self.alert_id}?lang=en")
        expect(self.public.locator("#status-banner")).to_contain_text("CANCELLED")
        expect(self.public.get_by_text("The boy was found safe.")).to_be_visible()
        expect(self.public.get_by_role("link", name="Report a sighting")).to_have_count(1)

    def timeline_holds_everything(self, receipt: str) -> None:
        """The case timeline has the acknowledgement, the search report and the tip."""
        self.alice.goto(self.case_url)
        timeline = self.alice.locator("#timeline")
        expect(timeline).to_contain_text("acknowledged")
        expect(timeline).to_contain_text(receipt)
        expect(timeline).to_contain_text(re.compile(r"search T-[A-Z2-9-]{9} at"))
        expect(timeline).to_contain_text("Actual Cancel v3 issued")

    def nothing_came_from_the_internet_and_pages_are_accessible(self) -> None:
        """No page asked for anything outside bolo; axe-core found no serious problem."""
        for ctx in self.contexts:
            assert ctx.outside == [], f"pages asked the internet for {ctx.outside}"
        assert {k: v for k, v in self.a11y.items() if v} == {}, "accessibility problems"
