"""Pages in the reader's language (Korean complete) and times in BOLO_TIMEZONE."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo import i18n
from bolo.api import create_app
from bolo.auth.model import User
from bolo.clock import now
from bolo.posts.model import Post
from bolo.settings import reset_settings
from bolo.store.db import session_scope
from tests.security.factories import World
from tests.web.conftest import ClientFor


class _Visible(HTMLParser):
    """The text a person reads, without the parts that are CAP content (another ``lang``)."""

    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang, self.stack, self.text = page_lang, [page_lang], []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "link", "input", "img", "br"):
            return
        lang = dict(attrs).get("lang") or self.stack[-1]
        self.stack.append("skip" if tag in ("style", "script", "textarea") else lang)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "link", "input", "img", "br") and len(self.stack) > 1:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack[-1].split("-")[0] == self.page_lang:
            self.text.append(data)


def english_left(html: str, lang: str = "ko") -> list[str]:
    """Interface messages (the catalog's ids) still in English on a page in ``lang``: a text
    node (or attribute people read) that is one of them. Texts people wrote (a cancel reason)
    may contain the same words; they are not interface text."""
    parser = _Visible(lang)
    parser.feed(html)
    nodes = {" ".join(t.split()).rstrip(":") for t in parser.text}
    ids = {m for m in _message_ids() if len(m) > 3 and i18n.translate(m, lang) != m}
    return sorted(m for m in ids if "%" not in m and "<" not in m and m.rstrip(":") in nodes)


def _message_ids() -> list[str]:
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / "ko" / "LC_MESSAGES" / "bolo.po").open("rb") as fh:
        return [m.id for m in read_po(fh) if isinstance(m.id, str) and m.id]


@pytest.fixture()
def public(sqlite_engine: Engine) -> TestClient:
    return TestClient(create_app(timers=False), headers={"Accept": "text/html"})


def test_public_alert_page_follows_accept_language(public: TestClient, world: World) -> None:
    page = public.get(f"/alerts/{world.alert_id}", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert page.status_code == 200 and '<html lang="ko">' in page.text
    assert "아동 유괴 경보 - 진행 중" in page.text and "목격 제보하기" in page.text
    assert english_left(page.text) == []
    assert f"/tips/new?case={world.case_id}&amp;lang=ko" in page.text
    english = public.get(f"/alerts/{world.alert_id}?lang=en", headers={"Accept-Language": "ko"})
    assert "ACTIVE CHILD ABDUCTION ALERT" in english.text and '<html lang="en">' in english.text


def test_public_list_and_missing_page_in_korean(public: TestClient, world: World) -> None:
    listing = public.get("/alerts?lang=ko")
    assert "진행 중인 경보" in listing.text and english_left(listing.text) == []
    missing = public.get("/alerts/nothing-here", headers={"Accept-Language": "ko"})
    assert missing.status_code == 404 and "경보를 찾을 수 없습니다" in missing.text
    assert english_left(missing.text) == []


def test_tip_form_receipt_and_problems_in_korean(public: TestClient, world: World) -> None:
    form = public.get(f"/tips/new?case={world.case_id}&lang=ko")
    assert "무엇을 보셨습니까?" in form.text and english_left(form.text) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    seen = (now() + timedelta(hours=9) - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M")
    fields = {
        "csrf_token": token.group(1),
        "case_id": world.case_id,
        "what": "아이를 봤어요",
        "lat": "39.3",
        "lon": "126.3",
        "seen_at": seen,
        "tz": "+09:00",
    }
    bad = public.post("/tips/new?lang=ko", data={**fields, "what": ""})
    assert bad.status_code == 422 and "무엇을 보셨습니까?" in bad.text
    assert english_left(bad.text) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', bad.text)
    assert token is not None
    done = public.post("/tips/new?lang=ko", data={**fields, "csrf_token": token.group(1)})
    assert done.status_code == 201, re.findall(r"<li>.*</li>", done.text)
    assert "제보가 접수되었습니다" in done.text
    assert english_left(done.text) == []


def test_sign_in_and_error_pages_in_korean(public: TestClient) -> None:
    login = public.get("/login", headers={"Accept-Language": "ko"})
    assert "로그인" in login.text and english_left(login.text) == []
    refused = public.get("/console", headers={"Accept-Language": "ko"}, follow_redirects=False)
    assert refused.status_code in (303, 401)


def test_ack_page_in_korean(public: TestClient, world: World) -> None:
    page = public.get("/api/v1/dispatch/ack/some-delivery?t=x", headers={"Accept-Language": "ko"})
    assert page.status_code == 200 and "수신 확인" in page.text
    assert english_left(page.text) == []


@pytest.mark.parametrize("whose", ["officer", "post"])
def test_post_page_in_the_officers_or_the_posts_language(
    sqlite_engine: Engine, world: World, client_for: ClientFor, whose: str
) -> None:
    with session_scope(sqlite_engine) as db:
        officer = db.get(User, world.users["post_officer"].id)
        assert officer is not None and officer.post_id is not None
        if whose == "officer":
            officer.language = "ko"
        else:
            post = db.get(Post, officer.post_id)
            assert post is not None
            post.language = "ko-KR"
    page = client_for("post_officer").get("/post")
    assert page.status_code == 200, page.text
    assert "찾을 대상" in page.text and english_left(page.text) == []


def test_times_are_shown_and_taken_in_bolo_timezone(
    monkeypatch: pytest.MonkeyPatch, public: TestClient, world: World
) -> None:
    from datetime import UTC, datetime

    from bolo.i18n import zones
    from bolo.web.forms import local_time

    monkeypatch.setenv("BOLO_TIMEZONE", "Asia/Seoul")
    reset_settings()
    assert zones.show(datetime(2026, 4, 1, 14, 0, tzinfo=UTC)) == "2026-04-01 23:00 +09:00"
    assert local_time("2026-04-01T23:00") == "2026-04-01T14:00:00+00:00"
    assert local_time("2026-04-01T23:00+00:00") == "2026-04-01T23:00:00+00:00"
    page = public.get(f"/alerts/{world.alert_id}")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \+09:00", page.text)
    monkeypatch.setenv("BOLO_TIMEZONE", "Mars/Olympus")
    reset_settings()
    with pytest.raises(zones.UnknownZone, match="IANA"):
        zones.zone()


def test_a_user_sets_their_language(client_for: ClientFor) -> None:
    coordinator = client_for("coordinator")
    assert coordinator.post("/account/language", data={"language": "ko"}).status_code == 303
    console = coordinator.get("/console", headers={"Accept-Language": "en"})
    assert '<html lang="ko">' in console.text
    refused = coordinator.post("/account/language", data={"language": "xx"})
    assert refused.status_code == 422
    assert coordinator.post("/account/language", data={"language": ""}).status_code == 303
    assert '<html lang="en">' in coordinator.get("/console", headers={"Accept-Language": "en"}).text


def test_the_maps_reachable_areas_are_labelled_in_the_readers_language(
    client_for: ClientFor, world: World
) -> None:
    coordinator = client_for("coordinator")
    url = f"/console/cases/{world.case_id}/map.json"
    layers = {
        lang: coordinator.get(url, headers={"Accept-Language": lang}).json()["isochrones"]
        for lang in ("en", "ko", "en")  # English again: the cached layer keeps each language
    }
    english = [f["properties"]["label"] for f in layers["en"]["features"]]
    korean = [f["properties"]["label"] for f in layers["ko"]["features"]]
    assert english and all(label.startswith("reachable within ") for label in english)
    assert len(korean) == len(english)
    assert all("시간" in label and "reachable" not in label for label in korean)
