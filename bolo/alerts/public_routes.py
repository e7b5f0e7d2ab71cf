"""Public CAP endpoints: an alert's current CAP message and the Atom and RSS feeds.

The feeds carry the newest issued message of each public Actual alert: while it is in force, and
for `FEED_KEEP` after it came down (its Cancel issued, or its expiry passed), so that an aggregator
or a subscribing bolo that polls during that day sees the Cancel and applies it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from bolo import i18n
from bolo.alerts import public_reads, service
from bolo.alerts.model import Alert, AlertState, AlertVersion, CapStatus, MsgType
from bolo.auth.deps import DB
from bolo.cap.feeds import FeedEntry, atom_feed, rss_feed
from bolo.clock import now
from bolo.errors import NotFound
from bolo.settings import get_settings

router = APIRouter(tags=["public"])
CAP_XML = "application/cap+xml"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # `updated` of a feed that has never had an entry
# How long an ended alert's last message stays in the feeds. A day covers a subscriber that was
# down overnight or polls hourly; longer would only make the feed an archive.
FEED_KEEP = timedelta(hours=24)
# ``?lang=`` of the feeds: the reader's language (``feed_language``), declared so it is accepted.
Lang = Annotated[str | None, Query(max_length=35, description="The reader's language (ko, en).")]
# The feed's alerts, each with when it ended (None while in force).
Found = list[tuple[public_reads.PublicIssue, datetime | None]]


def feed_language(request: Request) -> str:
    """The reader's language of a feed: ``?lang=``, then ``Accept-Language``."""
    return i18n.choose(
        request.query_params.get("lang"), accept_language=request.headers.get("accept-language")
    )


def feed_words(request: Request) -> tuple[str, str]:
    """The feeds' title and description in the reader's language (``feed_language``): they say
    the feed keeps ended alerts for FEED_KEEP."""
    hours = {"hours": round(FEED_KEEP.total_seconds() / 3600)}
    with i18n.use(feed_language(request)):
        return (
            i18n.gettext(
                "bolo: child abduction alerts in force or ended in the last %(hours)s hours"
            )
            % hours,
            i18n.gettext(
                "Child abduction alerts in force, and those ended in the last %(hours)s hours,"
                " each with its CAP 1.2 message"
            )
            % hours,
        )


def _translated(response: Response) -> Response:
    # The title and description follow Accept-Language: caches keep one copy per language.
    response.headers["Vary"] = "Accept-Language"
    return response


def _public_alert(db: DB, alert_id: str) -> Alert:
    alert = db.get(Alert, alert_id)
    if alert is None or alert.cap_status != CapStatus.ACTUAL:
        raise NotFound(f"no public alert {alert_id}")
    return alert


def conditional(
    request: Request, body: str, media_type: str, last_modified: datetime | None
) -> Response:
    """`body` with a strong ETag (its SHA-256) and Last-Modified, or 304 Not Modified when the
    request's If-None-Match names that ETag (or, without If-None-Match, its If-Modified-Since is
    not older than `last_modified`; RFC 9110 §13.1)."""
    etag = '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 says
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= when


@router.get("/alerts/{alert_id}.cap", response_class=Response)
def alert_cap(alert_id: str, db: DB, request: Request) -> Response:
    """The newest issued CAP message of a public alert (a Cancel once it is cancelled), with
    ETag and Last-Modified (its sending time); 304 when the client has it already; 410 Gone
    once its case was purged."""
    alert = _public_alert(db, alert_id)
    service.require_unpurged(db, alert)
    version = service.latest_issued(db, alert_id=alert.id)
    if version is None or not version.cap_xml:
        raise NotFound(f"alert {alert_id} has not been issued")
    return conditional(request, version.cap_xml, CAP_XML, version.issued_at or version.sent)


def _ended_at(issue: public_reads.PublicIssue) -> datetime | None:
    """When the alert came down: its Cancel's sending time, or its expiry once passed; None
    while it is in force."""
    if issue.alert.state == AlertState.CANCELLED or issue.version.msg_type == MsgType.CANCEL:
        return issue.version.issued_at or issue.version.sent
    if issue.state == AlertState.EXPIRED:
        return issue.alert.expires_at
    return None


def _feed_alerts(db: DB) -> Found:
    """The issued public Actual alerts in force and those ended less than FEED_KEEP ago,
    newest first, each with its newest issued version and when it ended (None while in force);
    two queries reading those alerts only, whatever the number ever issued."""
    since = now() - FEED_KEEP
    found = public_reads.public_issues(db, include_ended=True, ended_since=since)
    return [(i, _ended_at(i)) for i in found]


def _headline(version: AlertVersion, lang: str) -> str:
    """The version's headline in ``lang`` ("ko" finds "ko-KR"), else its first language's."""
    texts = [t for t in version.content.get("texts", []) if isinstance(t, dict)]
    for text in texts:
        if str(text.get("language", "")).split("-")[0].lower() == lang:
            return str(text.get("headline", ""))
    return str(texts[0].get("headline", "")) if texts else ""


def _entry(issue: public_reads.PublicIssue, base: str, lang: str) -> FeedEntry:
    """The feed entry of an alert, its title in the reader's language ``lang`` where the
    message carries it; a cancelled or expired alert says so."""
    alert, version = issue.alert, issue.version
    with i18n.use(lang):
        headline = _headline(version, lang) or i18n.gettext("Child abduction")
        if version.msg_type == MsgType.CANCEL or alert.state == AlertState.CANCELLED:
            headline = i18n.gettext("Cancelled: %(headline)s") % {"headline": headline}
        elif issue.state == AlertState.EXPIRED:
            headline = i18n.gettext("Expired: %(headline)s") % {"headline": headline}
    return FeedEntry(
        id=f"urn:bolo:alert:{version.identifier}",
        title=headline,
        updated=version.issued_at or version.sent,
        summary=headline,
        cap_url=f"{base}/alerts/{alert.id}.cap",
        html_url=f"{base}/alerts/{alert.id}",
    )


def _entries(found: Found, lang: str) -> list[FeedEntry]:
    """The alerts in force and those that ended less than FEED_KEEP ago, each by its newest
    issued message (a Cancel once cancelled), titled in the reader's language ``lang``; purged
    messages are left out."""
    base = get_settings().public_base_url.rstrip("/")
    current = now()
    return [
        _entry(issue, base, lang)
        for issue, ended in found
        if issue.stored and (ended is None or current < ended + FEED_KEEP)
    ]


def _last_change(found: Found, departed: datetime | None) -> datetime | None:
    """When the feed last changed: the newest issue (Cancel included), the newest expiry that
    has passed, or the newest departure of an ended alert (FEED_KEEP after it ended; those
    gone already: ``departed``)."""
    current = now()
    moments: list[datetime] = [departed] if departed is not None else []
    for issue, ended in found:
        moments.append(issue.version.issued_at or issue.version.sent)
        if ended is not None:
            moments += [m for m in (ended, ended + FEED_KEEP) if m <= current]
    return max(moments, default=None)


def _feed(db: DB, lang: str) -> tuple[list[FeedEntry], datetime, datetime | None]:
    """The entries in the reader's language ``lang``, the feed's `updated` (its newest entry's
    time; the last change when it is empty) and its Last-Modified."""
    found = _feed_alerts(db)
    departed = public_reads.last_departure(db, keep=FEED_KEEP)
    entries, changed = _entries(found, lang), _last_change(found, departed)
    newest = max((e.updated for e in entries), default=None)
    return entries, newest or changed or EPOCH, changed


@router.get("/feed/cap.atom", response_class=Response)
def feed_atom(db: DB, request: Request, lang: Lang = None) -> Response:
    """Atom feed of the public alerts in force and of those ended less than FEED_KEEP ago, each
    entry linking its newest CAP message (conditional GET: ETag, Last-Modified, 304)."""
    base = get_settings().public_base_url.rstrip("/")
    language = feed_language(request)
    entries, updated, changed = _feed(db, language)
    title, _description = feed_words(request)
    body = atom_feed(
        entries,
        feed_id=f"{base}/feed/cap.atom",
        title=title,
        self_url=f"{base}/feed/cap.atom",
        updated=updated,
        language=language,
    )
    return _translated(conditional(request, body.decode("utf-8"), "application/atom+xml", changed))


@router.get("/feed/cap.rss", response_class=Response)
def feed_rss(db: DB, request: Request, lang: Lang = None) -> Response:
    """RSS 2.0 feed of the same alerts as the Atom feed (conditional GET as the Atom feed)."""
    base = get_settings().public_base_url.rstrip("/")
    language = feed_language(request)
    entries, updated, changed = _feed(db, language)
    title, description = feed_words(request)
    body = rss_feed(
        entries,
        title=title,
        link=f"{base}/alerts",
        description=description,
        self_url=f"{base}/feed/cap.rss",
        updated=updated,
        language=language,
    )
    return _translated(conditional(request, body.decode("utf-8"), "application/rss+xml", changed))
