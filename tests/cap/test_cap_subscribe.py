"""The pure part of following a feed: which messages a feed offers, and the backoff."""

from __future__ import annotations

import pytest

from bolo.cap.codec import decode, encode
from bolo.cap.errors import CapRefused
from bolo.cap.fetch import Fetched, FetchError
from bolo.cap.imports import ImportPlan, Key
from bolo.cap.model import Alert
from bolo.cap.subscribe import Subscription, feed_items
from tests.cap.factories import make_alert

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x/</link>
<description>d</description>
<item><guid>a1</guid><pubDate>Mon, 07 Dec 2026 06:00:00 GMT</pubDate><link>https://x/a1.html</link>
<enclosure url="/cap/a1.xml" type="application/cap+xml" length="1"/></item>
<item><guid>a2</guid><link>https://x/a2.cap</link></item>
</channel></rss>"""


def test_rss_items_prefer_cap_enclosures_and_resolve_relative_links() -> None:
    items = feed_items(RSS, base_url="https://x/feed.rss")
    assert [i.url for i in items] == ["https://x/cap/a1.xml", "https://x/a2.cap"]
    assert items[0].key == "a1@Mon, 07 Dec 2026 06:00:00 GMT"


def test_a_single_cap_message_is_its_own_feed_and_anything_else_is_refused() -> None:
    xml = encode(make_alert())
    assert [i.embedded for i in feed_items(xml, base_url="https://x/")] == [xml]
    with pytest.raises(CapRefused, match="not an Atom or RSS feed"):
        feed_items(b"<html/>", base_url="https://x/")


class _Store:
    def known(self, keys: object) -> set[Key]:
        return set()

    def apply(self, plan: ImportPlan, alert: Alert, xml: bytes) -> None:
        return None


def test_backoff_doubles_after_each_failure_and_resets_after_a_success() -> None:
    subscription = Subscription(url="https://x/feed", interval_s=60)
    calls: list[tuple[str | None, str | None]] = []

    def failing(url: str, etag: str | None, modified: str | None) -> Fetched:
        raise FetchError("down")

    for expected in (120, 240, 480, 960, 1800, 1800):
        with pytest.raises(FetchError):
            subscription.poll(failing, _Store())
        assert subscription.next_delay() == expected

    def unchanged(url: str, etag: str | None, modified: str | None) -> Fetched:
        calls.append((etag, modified))
        return Fetched(304, b"")

    subscription.etag, subscription.last_modified = '"v1"', "Mon, 07 Dec 2026 06:00:00 GMT"
    assert subscription.poll(unchanged, _Store()) is None
    assert subscription.next_delay() == 60
    assert calls == [('"v1"', "Mon, 07 Dec 2026 06:00:00 GMT")]


def test_cap_written_as_escaped_text_in_atom_content_or_rss_description_is_offered() -> None:
    alert = make_alert()
    text = encode(alert).decode("utf-8")
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>'
        "<updated>2026-12-07T10:00:00Z</updated><entry><id>e1</id><title>x</title>"
        f'<updated>2026-12-07T10:00:00Z</updated><content type="text">{escaped}</content>'
        "</entry></feed>"
    ).encode()
    rss = (
        '<rss version="2.0"><channel><title>t</title><link>https://x/</link><description>d'
        f"</description><item><guid>g1</guid><description><![CDATA[{text}]]></description>"
        "</item></channel></rss>"
    ).encode()
    for feed in (atom, rss):
        items = feed_items(feed, base_url="https://x/")
        assert [decode(i.embedded or b"") for i in items] == [alert]
    plain = atom.replace(escaped.encode(), b"a plain summary &lt;b&gt;")
    assert feed_items(plain, base_url="https://x/") == []
