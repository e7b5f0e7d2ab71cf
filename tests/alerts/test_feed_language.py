"""The public feeds declare the language they were rendered in (the reader's: ``?lang=``, then
``Accept-Language``): Atom as the feed's ``xml:lang``, RSS as the channel's ``<language>``."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Engine

from bolo.api import create_app
from bolo.cap.feeds import XML_LANG
from tests.alerts.factories import issue_public_alert


def test_the_feeds_declare_the_language_they_are_in(sqlite_engine: Engine) -> None:
    issue_public_alert(sqlite_engine)
    client = TestClient(create_app(timers=False))
    for lang, headers, query in (
        ("ko", {"Accept-Language": "ko-KR,ko;q=0.9"}, ""),
        ("en", {}, "?lang=en"),
    ):
        atom = etree.fromstring(client.get(f"/feed/cap.atom{query}", headers=headers).content)
        assert atom.get(XML_LANG) == lang
        rss = etree.fromstring(client.get(f"/feed/cap.rss{query}", headers=headers).content)
        assert rss.findtext("channel/language") == lang
