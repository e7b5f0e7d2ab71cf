"""Helpers for the browser journey: contexts that refuse the internet, sign-in, screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Route

from tests.e2e.seed import Login

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1360, "height": 900}


class Offline:
    """A browser context in which every request outside the bolo server is refused and noted."""

    def __init__(self, browser: Browser, base: str, **options: Any) -> None:
        self.base = base
        self.outside: list[str] = []
        self.context: BrowserContext = browser.new_context(base_url=base, **options)
        self.context.route("**/*", self._guard)
        self.context.set_default_timeout(15_000)

    def _guard(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def page(self) -> Page:
        """A new tab."""
        return self.context.new_page()

    def keep_evidence(self, folder: Path) -> None:
        """Save every open tab's HTML and a screenshot into ``folder`` (after a failure)."""
        folder.mkdir(parents=True, exist_ok=True)
        for n, tab in enumerate(self.context.pages):
            (folder / f"tab-{n}.html").write_text(f"<!-- {tab.url} -->\n" + tab.content())
            tab.screenshot(path=str(folder / f"tab-{n}.png"))

    def close(self) -> None:
        """Close the context."""
        self.context.close()


def sign_in(page: Page, who: Login, then: str = "/console") -> None:
    """Sign in through the login form and land on ``then``."""
    page.goto(f"/login?next={then}")
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{then}")


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Save a screenshot when BOLO_E2E_SCREENSHOTS names a folder (docs/screenshots in docs)."""
    folder = os.environ.get("BOLO_E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        f"{', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
