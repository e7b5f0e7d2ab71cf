"""Feeds of active alerts: Atom (the CAP feed) and RSS 2.0 beside it, plus the feed rules.

Atom rules checked by `feed_errors` (as Google's CAP feed validator does): the feed has a
non-empty id, title and updated; entry ids are non-empty and unique; each entry has a title,
an updated time and a link of type application/cap+xml (or embeds the alert in
its content). RSS: channel title, link and description; unique guids; each item links its CAP
message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from lxml import etree

from bolo.cap.errors import CapRefused
from bolo.cap.model import CAP10_NS, CAP11_NS, CAP12_NS
from bolo.cap.xmlsafe import parse_xml

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CAP_MIME = "application/cap+xml"
_A = "{" + ATOM_NS + "}"
_CAP_ALERT_TAGS = frozenset("{" + ns + "}alert" for ns in (CAP12_NS, CAP11_NS, CAP10_NS))


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedEntry:
    """One active alert in a feed; `updated` is timezone-aware, URLs are absolute."""

    id: str
    title: str
    updated: datetime
    summary: str
    cap_url: str
    html_url: str


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("feed times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(
    entries: list[FeedEntry],
    *,
    feed_id: str,
    title: str,
    self_url: str,
    updated: datetime | None = None,
    author: str = "bolo",
    language: str | None = None,
) -> bytes:
    """An Atom 1.0 feed of `entries` (UTF-8 XML). `updated` defaults to the newest entry's
    time, or now when there is none. Each entry links its CAP message (application/cap+xml)
    and its HTML page. `language` (a language tag, "ko") is declared as the feed's `xml:lang`."""
    newest = max((e.updated for e in entries), default=None)
    feed = etree.Element(_A + "feed", nsmap={None: ATOM_NS})  # type: ignore[dict-item]
    if language:
        feed.set(XML_LANG, language)
    _sub(feed, _A + "id", feed_id)
    _sub(feed, _A + "title", title)
    _sub(feed, _A + "updated", _rfc3339(updated or newest or datetime.now(UTC)))
    _sub(_sub(feed, _A + "author"), _A + "name", author)
    _sub(feed, _A + "link", rel="self", href=self_url, type="application/atom+xml")
    for entry in entries:
        item = _sub(feed, _A + "entry")
        _sub(item, _A + "id", entry.id)
        _sub(item, _A + "title", entry.title)
        _sub(item, _A + "updated", _rfc3339(entry.updated))
        _sub(item, _A + "summary", entry.summary)
        _sub(item, _A + "link", rel="alternate", type=CAP_MIME, href=entry.cap_url)
        _sub(item, _A + "link", rel="related", type="text/html", href=entry.html_url)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8")


def rss_feed(
    entries: list[FeedEntry],
    *,
    title: str,
    link: str,
    description: str,
    self_url: str,
    updated: datetime | None = None,
    language: str | None = None,
) -> bytes:
    """An RSS 2.0 feed of `entries`: each item's link is its CAP message, its guid the entry id,
    and an atom:link points at its HTML page. `language` (a language tag, "ko") is declared as
    the channel's `<language>`."""
    newest = max((e.updated for e in entries), default=None)
    rss = etree.Element("rss", {"version": "2.0"}, nsmap={"atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", link)
    _sub(channel, "description", description)
    if language:
        _sub(channel, "language", language)
    _sub(channel, "lastBuildDate", format_datetime(updated or newest or datetime.now(UTC)))
    _sub(channel, _A + "link", rel="self", href=self_url, type="application/rss+xml")
    for entry in entries:
        item = _sub(channel, "item")
        _sub(item, "title", entry.title)
        _sub(item, "link", entry.cap_url)
        _sub(item, "description", entry.summary)
        _sub(item, "guid", entry.id, isPermaLink="false")
        _sub(item, "pubDate", format_datetime(entry.updated))
        _sub(item, _A + "link", rel="alternate", type="text/html", href=entry.html_url)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8")


def _blank(element: etree._Element | None) -> bool:
    return element is None or not (element.text or "").strip()


def _embedded(entry: etree._Element) -> list[etree._Element]:
    content = entry.find(_A + "content")
    if content is None:
        return []
    return [child for child in content if child.tag in _CAP_ALERT_TAGS]


def _atom_errors(feed: etree._Element) -> list[str]:
    errors = [
        f"feed has no {name}" for name in ("id", "title", "updated") if _blank(feed.find(_A + name))
    ]
    seen: set[str] = set()
    for number, entry in enumerate(feed.findall(_A + "entry"), 1):
        where = f"entry[{number}]"
        errors += [
            f"{where} has no {name}"
            for name in ("id", "title", "updated")
            if _blank(entry.find(_A + name))
        ]
        entry_id = (entry.findtext(_A + "id") or "").strip()
        if entry_id and entry_id in seen:
            errors.append(f"{where}: duplicate id {entry_id}")
        seen.add(entry_id)
        links = entry.findall(_A + "link")
        linked = any(link.get("type") == CAP_MIME and link.get("href") for link in links)
        if not linked and not _embedded(entry):
            errors.append(f"{where} has no link of type {CAP_MIME} (nor an embedded alert)")
    return errors


def _rss_errors(rss: etree._Element) -> list[str]:
    channel = rss.find("channel")
    if channel is None:
        return ["rss has no channel"]
    errors = [
        f"channel has no {name}"
        for name in ("title", "link", "description")
        if _blank(channel.find(name))
    ]
    seen: set[str] = set()
    for number, item in enumerate(channel.findall("item"), 1):
        guid = (item.findtext("guid") or "").strip()
        if not guid:
            errors.append(f"item[{number}] has no guid")
        elif guid in seen:
            errors.append(f"item[{number}]: duplicate guid {guid}")
        seen.add(guid)
        if _blank(item.find("link")):
            errors.append(f"item[{number}] has no link to its CAP message")
    return errors


def feed_errors(xml: bytes) -> list[str]:
    """The feed rules broken by an Atom or RSS 2.0 feed (empty when it passes)."""
    try:
        root = parse_xml(xml)
    except CapRefused as exc:
        return [exc.reason]
    if root.tag == _A + "feed":
        return _atom_errors(root)
    if root.tag == "rss" and root.get("version") == "2.0":
        return _rss_errors(root)
    return [f"not an Atom feed or RSS 2.0: root is {root.tag!r}"]


def atom_cap_links(xml: bytes) -> list[str]:
    """The application/cap+xml links of an Atom feed's entries, in order (for import)."""
    root = parse_xml(xml)
    return [
        link.get("href", "")
        for link in root.iter(_A + "link")
        if link.get("type") == CAP_MIME and link.get("href")
    ]


def atom_embedded_alerts(xml: bytes) -> list[bytes]:
    """The CAP alerts embedded in the content of an Atom feed's entries, as standalone XML."""
    root = parse_xml(xml)
    return [
        etree.tostring(alert, encoding="UTF-8")
        for entry in root.iter(_A + "entry")
        for alert in _embedded(entry)
    ]
