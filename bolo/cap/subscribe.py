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
MAX_ITEMS = 200  # entries looked at per poll: a feed is a window, not an archive
MAX_BACKOFF_S = 1800.0

# fetch(url, etag, last_modified) -> Fetched; raises FetchError.
Fetcher = Callable[[str, str | None, str | None], Fetched]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed: `key` (its id and updated time: a changed entry is new again) and
    either the `url` of its CAP message or the message `embedded` in it."""

    key: str
    url: str | None = None
    embedded: bytes | None = None


def _cap_children(parent: etree._Element) -> list[etree._Element]:
    return [c for c in parent.iter() if isinstance(c.tag, str)
            and c.tag.endswith("}alert") and c.tag[1:].partition("}")[0] in VERSIONS]


def _atom_items(root: etree._Element, base: str) -> list[FeedItem]:
    items = []
    for entry in root.iter(_A + "entry"):
        key = f"{entry.findtext(_A + 'id') or ''}@{entry.findtext(_A + 'updated') or ''}"
        content = entry.find(_A + "content")
        for alert in [] if content is None else _cap_children(content):
            items.append(FeedItem(key=key, embedded=etree.tostring(alert, encoding="UTF-8")))
        for link in entry.iter(_A + "link"):
            if link.get("type") == CAP_MIME and link.get("href"):
                items.append(FeedItem(key=key, url=urljoin(base, link.get("href", ""))))
    return items


def _rss_items(root: etree._Element, base: str) -> list[FeedItem]:
    items = []
    for item in root.iter("item"):
        key = f"{item.findtext('guid') or item.findtext('link') or ''}@" \
              f"{item.findtext('pubDate') or ''}"
        enclosures = [e.get("url", "") for e in item.iter("enclosure")
                      if e.get("type") == CAP_MIME and e.get("url")]
        link = (item.findtext("link") or "").strip()
        for url in enclosures or ([link] if link else []):
            items.append(FeedItem(key=key, url=urljoin(base, url)))
    return items


def feed_items(xml: bytes, *, base_url: str) -> list[FeedItem]:
    """The CAP messages an Atom or RSS 2.0 feed offers (links resolved against `base_url`), or
    the document itself when it is a single CAP alert. `CapRefused` for anything else."""
    root = parse_xml(xml)
    if root.tag == _A + "feed":
        return _atom_items(root, base_url)[:MAX_ITEMS]
    if root.tag == "rss":
        return _rss_items(root, base_url)[:MAX_ITEMS]
    if _cap_children(root)[:1] == [root]:
        return [FeedItem(key=hashlib.sha256(xml).hexdigest(), embedded=xml)]
    raise CapRefused(f"not an Atom or RSS feed, nor a CAP alert: root is {root.tag!r}",
                     "not-cap")


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
        return {"url": self.url, "etag": self.etag, "last_modified": self.last_modified,
                "seen": sorted(self.seen)}

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
        return float(min(self.interval_s * 2.0 ** self.failures, ceiling))

    def poll(self, fetcher: Fetcher, store: ImportStore) -> list[Outcome] | None:
        """Poll once. None when the feed is unchanged (304); else what became of each message
        not handled before, imported oldest first so an Update follows its Alert. A failed
        fetch of the feed raises FetchError (and counts towards the backoff); a message that
        could not be fetched is retried at the next poll."""
        try:
            answer = fetcher(self.url, self.etag, self.last_modified)
        except FetchError:
            self.failures += 1
            raise
        self.failures = 0
        if answer.status == 304:
            return None
        self.etag, self.last_modified = answer.etag, answer.last_modified
        try:
            items = feed_items(answer.body, base_url=self.url)
        except CapRefused as exc:
            return [Outcome(self.url, "refused", reason=exc.reason)]
        outcomes, ready = self._gather(items, fetcher)
        self.seen &= {f"{i.key}|{i.url or ''}" for i in items}  # forget what left the feed
        ready.sort(key=lambda entry: entry[1].sent)
        for source, alert, xml in ready:
            plan = import_message(alert, xml, store=store)
            outcomes.append(Outcome(source, str(plan.decision), alert.sender, alert.identifier))
        return outcomes

    def _gather(self, items: list[FeedItem], fetcher: Fetcher
                ) -> tuple[list[Outcome], list[tuple[str, Alert, bytes]]]:
        outcomes: list[Outcome] = []
        ready: list[tuple[str, Alert, bytes]] = []
        for item in items:
            mark = f"{item.key}|{item.url or ''}"
            if mark in self.seen:
                continue
            source = item.url or item.key
            try:
                xml = item.embedded if item.embedded is not None else \
                    fetcher(item.url or "", None, None).body
            except FetchError as exc:
                outcomes.append(Outcome(source, "unreachable", reason=str(exc)))
                continue
            self.seen.add(mark)
            try:
                ready.append((source, accept(xml, signer=self.signer), xml))
            except CapRefused as exc:
                outcomes.append(Outcome(source, "refused", reason=exc.reason))
        return outcomes, ready
