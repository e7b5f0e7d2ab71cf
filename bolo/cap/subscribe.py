"""Following another agency's CAP feed: conditional polls, backoff, and each new message
validated, signature-checked against a pinned signer, and imported (Update and Cancel applied
by their references through an `ImportStore`). Pure: the HTTP fetch and the store are passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from cryptography import x509
from lxml import etree

from bolo.cap.edxl import unwrap
from bolo.cap.errors import CapRefused, SignatureError
from bolo.cap.feeds import CAP_MIME
from bolo.cap.fetch import Fetched, FetchError
from bolo.cap.imports import ImportStore, import_message
from bolo.cap.model import Alert
from bolo.cap.reader import VERSIONS
from bolo.cap.signing import verify
from bolo.cap.validate import validate
from bolo.cap.xmlsafe import parse_xml

_A = "{http://www.w3.org/2005/Atom}"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
MAX_ITEMS = 200  # entries looked at per poll: a feed is a window, not an archive
MAX_FEED_BYTES = 8 * 1_048_576  # a national feed with its CAP inline runs to a few MiB
MAX_BACKOFF_S = 1800.0

# fetch(url, etag, last_modified) -> Fetched; raises FetchError.
Fetcher = Callable[[str, str | None, str | None], Fetched]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed: `key` (its id, or its link or content when it has none, and its
    updated time: a changed entry is new again) and either the `url` of its CAP message or the
    message `embedded` in it."""

    key: str
    url: str | None = None
    embedded: bytes | None = None


def _cap_children(parent: etree._Element) -> list[etree._Element]:
    return [
        c
        for c in parent.iter()
        if isinstance(c.tag, str)
        and c.tag.endswith("}alert")
        and c.tag[1:].partition("}")[0] in VERSIONS
    ]


def _base(element: etree._Element, base: str) -> str:
    """`base` as the element sees it: each xml:base from the root down applied in turn."""
    chain = [e.get(_XML_BASE) for e in reversed(list(element.iterancestors()))]
    for step in [*chain, element.get(_XML_BASE)]:
        if step:
            base = _join(base, step)
    return base


def _join(base: str, href: str) -> str:
    """`href` resolved against `base`; `href` itself when it cannot be read as a URL (fetching
    it then fails with a message naming it)."""
    try:
        return urljoin(base, href.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return href.strip()


def _inline(parent: etree._Element | None) -> list[bytes]:
    """The CAP messages inside `parent`: its CAP alert elements, else its text when that is one
    CAP message written as escaped text (Atom content of type text or html, an RSS description
    in CDATA), to be parsed (hardened) and validated as any other."""
    if parent is None:
        return []
    alerts = _cap_children(parent)
    if alerts:
        return [etree.tostring(alert, encoding="UTF-8") for alert in alerts]
    text = (parent.text or "").strip()
    if text.startswith("<") and "alert" in text and any(ns in text for ns in VERSIONS):
        return [text.encode("utf-8")]
    return []


def _items(key: str, embedded: list[bytes], urls: list[str]) -> list[FeedItem]:
    """One entry's items; without an id the key is the message itself or its URL, so two
    entries without ids never hide each other."""
    found = []
    for xml in embedded:
        own = key if not key.startswith("@") else hashlib.sha256(xml).hexdigest() + key
        found.append(FeedItem(key=own, embedded=xml))
    for url in dict.fromkeys(u for u in urls if u):
        found.append(FeedItem(key=key if not key.startswith("@") else url + key, url=url))
    return found


def _atom_links(entry: etree._Element, base: str) -> list[str]:
    """The entry's CAP links; without one, its alternate links that may be XML (a feed that
    types its CAP links as application/xml or not at all)."""
    links = entry.findall(_A + "link")
    typed = [link for link in links if link.get("type") == CAP_MIME]
    loose = [
        link
        for link in links
        if link.get("rel", "alternate") == "alternate" and ("xml" in link.get("type", "xml"))
    ]
    return [
        _join(_base(link, base), link.get("href", ""))
        for link in typed or loose
        if link.get("href")
    ]


def _atom_items(root: etree._Element, base: str) -> list[FeedItem]:
    items = []
    for entry in root.iter(_A + "entry"):
        key = f"{(entry.findtext(_A + 'id') or '').strip()}@{entry.findtext(_A + 'updated') or ''}"
        embedded = _inline(entry.find(_A + "content"))
        items += _items(key, embedded, [] if embedded else _atom_links(entry, base))
    return items


def _rss_items(root: etree._Element, base: str) -> list[FeedItem]:
    items = []
    for item in root.iter("item"):
        key = (
            f"{(item.findtext('guid') or item.findtext('link') or '').strip()}@"
            f"{item.findtext('pubDate') or ''}"
        )
        embedded = _inline(item) or _inline(item.find("description"))
        enclosures = [
            e.get("url", "")
            for e in item.iter("enclosure")
            if e.get("type") == CAP_MIME and e.get("url")
        ]
        link = (item.findtext("link") or "").strip()
        urls = [] if embedded else enclosures or ([link] if link else [])
        items += _items(key, embedded, [_join(_base(item, base), u) for u in urls])
    return items


def feed_items(xml: bytes, *, base_url: str, limit: int | None = MAX_ITEMS) -> list[FeedItem]:
    """The CAP messages an Atom or RSS 2.0 feed offers (CAP 1.0-1.2, inline or linked; links
    resolved against xml:base and `base_url`), the first `limit` of them (None: all), or the
    document itself when it is a single CAP alert. `CapRefused` for anything else (HTML, a
    feed over MAX_FEED_BYTES, garbage)."""
    root = parse_xml(xml, max_bytes=MAX_FEED_BYTES)
    if root.tag == _A + "feed":
        return _atom_items(root, base_url)[:limit]
    if root.tag == "rss":
        return _rss_items(root, base_url)[:limit]
    if _cap_children(root)[:1] == [root]:
        return [FeedItem(key=hashlib.sha256(xml).hexdigest(), embedded=xml)]
    raise CapRefused(f"not an Atom or RSS feed, nor a CAP alert: root is {root.tag!r}", "not-cap")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: `decision` (new, update, cancel, duplicate, ignore,
    refused), the message's (sender, identifier) and the reason when refused."""

    source: str
    decision: str
    sender: str = ""
    identifier: str = ""
    reason: str = ""


def accept(xml: bytes, *, signer: x509.Certificate | None) -> Alert:
    """The alert in `xml` when it may be imported: valid CAP (warnings allowed) and, when a
    `signer` is pinned, signed by it (the alert is then read from what was signed). Raises
    CapRefused naming the reason otherwise."""
    result = validate(xml)
    if not result.ok or result.alert is None:
        raise CapRefused("invalid: " + "; ".join(result.errors[:3]))
    if signer is None:
        return result.alert
    try:
        return verify(xml, cert=signer).alert
    except SignatureError as exc:
        raise CapRefused(f"signature: {exc.reason}", "signature") from exc


@dataclass
class Subscription:
    """One followed feed: its validators for conditional GET, the entries already handled,
    and the backoff after failures (seconds)."""

    url: str
    signer: x509.Certificate | None = None
    interval_s: float = 60.0
    etag: str | None = None
    last_modified: str | None = None
    seen: set[str] = field(default_factory=set)
    failures: int = 0

    def state(self) -> dict[str, Any]:
        """What a later run needs to poll conditionally and skip handled entries (JSON-able)."""
        return {
            "url": self.url,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "seen": sorted(self.seen),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take up a saved `state` of the same feed (another feed's state is ignored)."""
        if state.get("url") != self.url:
            return
        self.etag, self.last_modified = state.get("etag"), state.get("last_modified")
        self.seen = {str(s) for s in state.get("seen", [])}

    def next_delay(self) -> float:
        """Seconds until the next poll: the interval, doubled for each failure in a row (at
        most 30 minutes)."""
        ceiling = max(MAX_BACKOFF_S, self.interval_s)
        return float(min(self.interval_s * 2.0**self.failures, ceiling))

    def poll(self, fetcher: Fetcher, store: ImportStore) -> list[Outcome] | None:
        """Poll once. None when the feed is unchanged (304); else what became of each message
        not handled before, imported oldest first so an Update follows its Alert. A failed
        fetch of the feed raises FetchError; a feed that is not a feed (HTML, garbage, too
        large) is one `refused` outcome. Both count towards the backoff, and the next poll
        fetches the feed whole again. A message that could not be fetched is retried at the
        next poll. Only the first MAX_ITEMS entries are looked at (one `skipped` outcome
        says how many more there were)."""
        try:
            answer = fetcher(self.url, self.etag, self.last_modified)
        except FetchError:
            self.failures += 1
            raise
        if answer.status == 304:
            self.failures = 0
            return None
        try:
            items = feed_items(answer.body, base_url=answer.url or self.url, limit=None)
        except CapRefused as exc:
            self.failures += 1
            return [Outcome(self.url, "refused", reason=f"not a CAP feed: {exc.reason}")]
        self.failures = 0
        self.etag, self.last_modified = answer.etag, answer.last_modified
        outcomes = (
            []
            if len(items) <= MAX_ITEMS
            else [
                Outcome(
                    self.url,
                    "skipped",
                    reason=f"{len(items) - MAX_ITEMS} entries beyond the first "
                    f"{MAX_ITEMS} are not looked at",
                )
            ]
        )
        items = items[:MAX_ITEMS]
        gathered, ready = self._gather(items, fetcher)
        outcomes += gathered
        self.seen &= {f"{i.key}|{i.url or ''}" for i in items}  # forget what left the feed
        ready.sort(key=lambda entry: entry[1].sent)
        for source, alert, xml in ready:
            try:
                decision = str(import_message(alert, xml, store=store).decision)
            except CapRefused as exc:  # the store cannot keep it; the others still go in
                outcomes.append(
                    Outcome(source, "refused", alert.sender, alert.identifier, exc.reason)
                )
                continue
            outcomes.append(Outcome(source, decision, alert.sender, alert.identifier))
        return outcomes

    def _gather(
        self, items: list[FeedItem], fetcher: Fetcher
    ) -> tuple[list[Outcome], list[tuple[str, Alert, bytes]]]:
        outcomes: list[Outcome] = []
        ready: list[tuple[str, Alert, bytes]] = []
        for item in items:
            mark = f"{item.key}|{item.url or ''}"
            if mark in self.seen:
                continue
            source = item.url or item.key
            try:
                xml = (
                    item.embedded
                    if item.embedded is not None
                    else fetcher(item.url or "", None, None).body
                )
            except FetchError as exc:
                outcomes.append(Outcome(source, "unreachable", reason=str(exc)))
                continue
            self.seen.add(mark)
            try:
                xml = unwrap(xml)  # store the CAP alert itself
                ready.append((source, accept(xml, signer=self.signer), xml))
            except CapRefused as exc:
                outcomes.append(Outcome(source, "refused", reason=exc.reason))
        return outcomes, ready
