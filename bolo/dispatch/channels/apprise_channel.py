"""Apprise URLs (e-mail, SMS, chat): Apprise is blocking, so each send runs in a thread.

Only the schemes of ``bolo.security.apprise_urls`` are sent to, and every host name Apprise
resolves while sending (the URL's host, an SMTP server, a redirect's target) is checked by
``guarded_resolution``: Apprise connects only to the public addresses that were checked.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import apprise

from bolo.dispatch.channels.base import Message, SendResult
from bolo.dispatch.policy import Outcome
from bolo.posts.channel_kinds import ChannelKind
from bolo.security.apprise_urls import apprise_scheme
from bolo.security.resolution import guarded_resolution
from bolo.security.urls import UnsafeUrl


def _notify(url: str, title: str, body: str) -> tuple[Outcome, str | None]:
    try:
        apprise_scheme(url)  # the allow-list again: the URL may predate it
    except UnsafeUrl as exc:
        return Outcome.PERMANENT, f"unsafe url: {exc}"
    sender = apprise.Apprise()
    if not sender.add(url):
        return Outcome.PERMANENT, "apprise does not accept this URL"
    # The host is checked as Apprise resolves it, not beforehand: a name may resolve
    # elsewhere than at registration (DNS rebinding), and only this resolution is used.
    with guarded_resolution() as refused:
        sent = sender.notify(body=body, title=title)
    if refused:
        return Outcome.PERMANENT, f"unsafe url: {refused[0]}"
    if sent:
        return Outcome.SENT, None
    return Outcome.RETRY, "apprise notify failed"


class AppriseChannel:
    """Sends the public text through an Apprise URL, off the event loop."""

    kind = ChannelKind.APPRISE

    async def send(self, message: Message) -> SendResult:
        """One notification: SENT once the service took it (it does not confirm receipt); an
        unparseable URL is permanent, a failed notify is retried."""
        started = time.perf_counter()
        outcome, error = await asyncio.to_thread(_notify, message.url, message.title, message.text)
        return SendResult(outcome, error=error, duration_s=time.perf_counter() - started)

    def destination(self, message: Message) -> str:
        """Rate-limit key: the service and its host (an SMS gateway counts as one sender)."""
        parts = urlsplit(message.url)
        return f"{parts.scheme}://{parts.hostname or ''}"

    async def aclose(self) -> None:
        """Nothing to release."""
