"""Public pages: the active alerts and one alert (photo, plain text, what to do, tip form link,
CAP and Atom links), in every language its CAP message carries (Korean and English)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bolo.alerts import public_reads, service
from bolo.alerts.external import public_external_alerts
from bolo.alerts.model import Alert, CapStatus, has_ended, is_cancelled
from bolo.auth.deps import DB
from bolo.cap import model as cap
from bolo.cap.codec import decode
from bolo.web.templating import page, page_language
from bolo.web.words import (
    LANGUAGE_NAMES,
    MSG_TYPES,
    STATE_NAMES,
    info_for,
    interface_languages,
)

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class PublicAlert:
    """What the public pages show of one alert: its newest issued CAP message."""

    alert: Alert
    message: cap.Alert

    @property
    def cancelled(self) -> bool:
        """True once the alert was cancelled (``is_cancelled``)."""
        return is_cancelled(self.alert.state, self.message.msg_type)

    @property
    def ended(self) -> bool:
        """True when the alert no longer asks anything of the public now (``has_ended``)."""
        return has_ended(self.alert.shown_state, self.message.msg_type)

    def info(self, lang: str | None) -> cap.Info:
        """The info block in language ``lang`` ("ko" finds "ko-KR"), else the first."""
        return info_for(self.message.infos, lang)

    def languages(self) -> list[tuple[str, str]]:
        """(code, name) of each language the message carries."""
        codes = [i.language.split("-")[0].lower() for i in self.message.infos]
        return [(c, LANGUAGE_NAMES.get(c, c)) for c in dict.fromkeys(codes)]


def public_alert(db: DB, alert: Alert) -> PublicAlert | None:
    """What the public may see of ``alert``: its newest issued CAP message (None: nothing)."""
    version = service.latest_issued(db, alert_id=alert.id)
    if version is None or not version.cap_xml:
        # Not issued yet, or its CAP message was purged with its case: nothing to show.
        return None
    return PublicAlert(alert, decode(version.cap_xml.encode("utf-8")))


# How many ended alerts the list shows below the ones in force.
ENDED_SHOWN = 20


def listed_alerts(db: DB) -> list[PublicAlert]:
    """The public alerts the list shows: those in force, then the ENDED_SHOWN newest ended
    ones (each newest first); three queries reading those alerts only, whatever the number
    of alerts ever issued, and only the shown CAP texts decoded."""
    issues = public_reads.public_issues(
        db, include_ended=True, ended_limit=ENDED_SHOWN, stored_only=True
    )
    shown = [i for i in issues if not i.ended] + [i for i in issues if i.ended][:ENDED_SHOWN]
    texts = public_reads.messages(db, [i.version.id for i in shown])
    return [PublicAlert(i.alert, decode(texts[i.version.id].encode("utf-8"))) for i in shown]


@router.get("/alerts", response_class=HTMLResponse)
def alert_list(request: Request, db: DB, lang: str | None = None) -> Response:
    """Active public alerts, newest first, with the ones ended in the last days below."""
    shown = listed_alerts(db)
    chosen = page_language(request)
    return page(
        request,
        "public/alerts.html",
        {
            "active": [p for p in shown if not p.ended],
            "ended": [p for p in shown if p.ended],
            "external": public_external_alerts(),
            "lang": chosen,
            "state_names": STATE_NAMES,
            "interface_languages": interface_languages(),
        },
        lang=chosen,
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_detail(alert_id: str, request: Request, db: DB, lang: str | None = None) -> Response:
    """One public alert in the chosen language (``?lang=ko`` or ``?lang=en``)."""
    alert = db.get(Alert, alert_id)
    shown = public_alert(db, alert) if alert and alert.cap_status == CapStatus.ACTUAL else None
    chosen = page_language(request)
    if shown is None:
        # 410 once the message was purged with its case: it will not come back.
        gone = bool(alert and alert.cap_status == CapStatus.ACTUAL and service.is_purged(db, alert))
        return page(
            request,
            "public/missing.html",
            {"interface_languages": interface_languages(), "gone": gone},
            410 if gone else 404,
            lang=chosen,
        )
    info = shown.info(chosen)
    photos = [r for r in info.resources if r.uri and (r.mime_type or "").startswith("image/")]
    return page(
        request,
        "public/alert.html",
        {
            "p": shown,
            "info": info,
            "photos": photos,
            "lang": info.language.split("-")[0],
            "msg_type": MSG_TYPES.get(str(shown.message.msg_type), str(shown.message.msg_type)),
            "poster": not shown.ended,
            "interface_languages": interface_languages(),
        },
        lang=chosen,
    )
