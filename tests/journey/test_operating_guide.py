"""docs/operating.md, run as a stranger would: every ```bash block in order, against a real
`bolo serve` on a fresh data folder (no demo code), with the Andorra extract, posts from a CSV
whose webhooks reach `bolo post-receiver` (it verifies every signature), a password sign-in to
the console in Chromium, and the checks of what each step must have left behind."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.pages import Offline, sign_in
from tests.e2e.seed import Login
from tests.journey.guide import BashSession, Block, apply_overrides, bash_blocks

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operating.md"
EXTRACT = ROOT / "tests" / "fixtures" / "vh_andorra-latest.osm.pbf"

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment() -> dict[str, str]:
    """The shell of a person who activated the venv: bolo on PATH, no BOLO_ setting of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLO_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


class Guide:
    """The guide's blocks and the shell they run in."""

    def __init__(self, folder: Path) -> None:
        self.port, self.receiver_port = _free_port(), _free_port()
        overrides = {
            "EXTRACT": str(EXTRACT),
            "PORT": str(self.port),
            "RECEIVER_PORT": str(self.receiver_port),
            "EXERCISE": str(folder / "exercise"),
        }
        self.blocks = [
            Block(b.heading, apply_overrides(b.text, overrides))
            for b in bash_blocks(GUIDE.read_text())
        ]
        self.folder = folder / "exercise"  # where the guide's blocks write their files
        self.shell = BashSession(folder, _environment())
        self.base = f"http://127.0.0.1:{self.port}"

    def run_through(self, heading_start: str) -> None:
        """Run blocks up to and including the first whose heading starts with this text."""
        while self.blocks:
            block = self.blocks.pop(0)
            self.shell.run(block)
            if block.heading.startswith(heading_start):
                return
        raise AssertionError(f"no block under a heading starting {heading_start!r}")

    def value(self, name: str) -> str:
        """A shell variable the guide set."""
        out = self.shell.run(Block("(test)", f'printf "%s\\n" "${name}"'))
        return out.strip().splitlines()[-1]

    def received(self) -> list[dict[str, object]]:
        """Every webhook the receiver accepted (signature verified), as JSON objects."""
        text = (self.folder / "received.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture()
def guide(tmp_path: Path) -> Iterator[Guide]:
    running = Guide(tmp_path)
    try:
        yield running
    finally:
        running.shell.close()


def test_the_operating_guide_runs_end_to_end(guide: Guide, browser: Browser) -> None:
    assert len(guide.blocks) >= 10, "the guide lost its steps"
    guide.run_through("7.")
    assert httpx.get(f"{guide.base}/readyz").status_code == 200

    guide.run_through("9.")
    picture = json.loads((guide.folder / "picture.json").read_text())
    imported = {
        line.split(",")[0] for line in (guide.folder / "posts.csv").read_text().splitlines()[1:]
    }
    ranked = [p["post_id"] for p in picture["posts"]]
    assert ranked and set(ranked) <= imported, "the picture ranks the organisation's posts"
    officer_post = guide.value("OFFICER_POST")
    targets = json.loads(guide.value("TARGETS"))
    assert set(targets) == {*ranked, officer_post}, "the ranked posts and the officer's own"

    guide.run_through("10.")
    _acknowledge_on_the_post_page(guide, browser)
    guide.run_through("11.")
    version = guide.value("VERSION")
    first = [m for m in guide.received() if m["version_id"] == version]
    assert {m["post_id"] for m in first} == set(targets), "serve alone delivered to every target"
    case_id = guide.value("CASE")
    token = guide.value("COORDINATOR_TOKEN")
    board = httpx.get(
        f"{guide.base}/api/v1/dispatch/versions/{version}/deliveries",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    acknowledged = {d["post_id"]: d["acknowledged_by"] for d in board}
    assert acknowledged.pop(officer_post) == "marta", "marta acknowledged on the post page"
    assert set(acknowledged.values()) == {"Duty officer"}, "the others through their ack link"
    assert set(acknowledged) == set(targets) - {officer_post}

    guide.run_through("12.")
    update = guide.value("UPDATE")
    updates = {m["post_id"] for m in guide.received() if m["version_id"] == update}
    assert updates == set(targets), "the Update reached every post addressed"

    guide.run_through("13.")
    _console_sign_in(guide, browser, case_id)

    guide.run_through("14.")
    cancels = {m["post_id"] for m in guide.received() if m["type"] == "alert.cancel"}
    assert cancels == set(targets), "the Cancel reached every post that got any version"
    alert = guide.value("ALERT")
    assert httpx.get(f"{guide.base}/alerts").status_code == 200
    assert httpx.get(f"{guide.base}/alerts/{alert}").status_code in (404, 410)
    assert httpx.get(f"{guide.base}/feed/cap.atom").status_code == 200

    guide.run_through("15.")
    assert not guide.blocks, "every block of the guide ran"
    assert _stops(guide.base), "the server stopped on the pid its step saved"


def _stops(base: str) -> bool:
    """Whether the server at ``base`` stops answering within 20 seconds."""
    for _ in range(40):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
        except httpx.TransportError:
            return True
        time.sleep(0.5)
    return False


def _acknowledge_on_the_post_page(guide: Guide, browser: Browser) -> None:
    """marta signs in with the password set from the CLI and acknowledges on the post page, as
    step 11 tells her to."""
    version, post = guide.value("VERSION"), guide.value("OFFICER_POST")
    for _ in range(120):  # the alert reaches her post's system first
        if any(m["version_id"] == version and m["post_id"] == post for m in guide.received()):
            break
        time.sleep(0.5)
    marta = Login("marta", guide.value("OFFICER_PASSWORD"))
    context = Offline(browser, guide.base)
    try:
        page = context.page()
        sign_in(page, marta, then="/post")
        expect(page.locator("body")).to_contain_text("Escaldes")
        page.get_by_role("button", name="Acknowledge: we are looking").click()
        expect(page.get_by_text("Acknowledged by marta.")).to_be_visible()
    finally:
        context.close()


def _console_sign_in(guide: Guide, browser: Browser, case_id: str) -> None:
    """The coordinator signs in with the password set from the CLI and sees the case, with the
    post's search report, without a 500."""
    ana = Login("ana", guide.value("COORDINATOR_PASSWORD"))
    context = Offline(browser, guide.base)
    try:
        page = context.page()
        sign_in(page, ana)
        response = page.goto(f"/console/cases/{case_id}")
        assert response is not None and response.status == 200
        expect(page.get_by_text("Laia").first).to_be_visible()
    finally:
        context.close()
