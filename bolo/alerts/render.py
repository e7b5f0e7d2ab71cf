"""Turn a case and a version's content into a CAP 1.2 message (via the pure bolo.cap codec)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from bolo import i18n
from bolo.alerts.schemas import AlertContent, AreaSpec
from bolo.cap import model as cap
from bolo.cap.codec import UnencodableText, encode
from bolo.cap.profiles import Profile, conform
from bolo.cap.signing import sign_own_alert
from bolo.clock import now
from bolo.errors import InvalidInput
from bolo.settings import get_settings

log = structlog.get_logger(__name__)

EVENT = "Child Abduction Emergency"
SAME_CODE = cap.ValuePair(name="SAME", value="CAE")
# How long a Cancel stays current for consumers (IPAWS and Google need an expires in every info).
CANCEL_VALID = timedelta(hours=1)


def _area(spec: AreaSpec) -> cap.Area:
    return cap.Area(
        description=spec.description,
        polygons=[[(float(la), float(lo)) for la, lo in ring] for ring in spec.polygons],
        circles=[cap.Circle(lat=c.lat, lon=c.lon, radius_km=c.radius_km) for c in spec.circles],
    )


def _photos(children: Sequence[dict[str, Any]], language: str) -> list[cap.Resource]:
    # The description is in the info block's language (bolo's catalogs; English otherwise).
    resources = []
    with i18n.use(language):
        for child in children:
            url = child.get("photo_url")
            if url:
                name = child.get("name") or i18n.gettext("the child")
                resources.append(
                    cap.Resource(
                        description=i18n.gettext("Photo of %(name)s") % {"name": name},
                        mime_type="image/jpeg",
                        uri=str(url),
                    )
                )
    return resources


def _envelope(
    *,
    identifier: str,
    sender: str,
    sent: datetime,
    status: str,
    msg_type: str,
    note: str | None,
    references: Sequence[tuple[str, str, datetime]],
    incident: str,
    infos: list[cap.Info],
) -> cap.Alert:
    """The public CAP message around ``infos``, referencing (sender, identifier, sent) triplets."""
    return cap.Alert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=cap.Status(status),
        msg_type=cap.MsgType(msg_type),
        scope=cap.Scope.PUBLIC,
        note=note,
        references=[cap.Reference(sender=s, identifier=i, sent=t) for s, i, t in references],
        incidents=[incident],
        infos=infos,
    )


@dataclass(frozen=True)
class _Call:
    """What a message asks of its audience: CAP's responseType, urgency, severity, certainty."""

    response: cap.ResponseType
    urgency: cap.Urgency
    severity: cap.Severity
    certainty: cap.Certainty


# An alert asks everyone to watch for the child; a Cancel gives the all clear.
LOOK_OUT = _Call(
    cap.ResponseType.MONITOR, cap.Urgency.IMMEDIATE, cap.Severity.SEVERE, cap.Certainty.LIKELY
)
ALL_CLEAR = _Call(
    cap.ResponseType.ALL_CLEAR, cap.Urgency.PAST, cap.Severity.MINOR, cap.Certainty.OBSERVED
)


def _info(
    *,
    call: _Call,
    language: str,
    sent: datetime,
    expires: datetime,
    sender_name: str,
    words: tuple[str, str, str | None],
    content: AlertContent,
    contact: str | None = None,
    resources: list[cap.Resource] | None = None,
) -> cap.Info:
    """One ``info`` block of a bolo message: the event, ``call``, the validity from ``sent`` to
    ``expires``, the (headline, description, instruction) ``words`` in ``language``, and the
    content's web page and area."""
    headline, description, instruction = words
    return cap.Info(
        language=language,
        categories=[cap.Category.RESCUE],
        event=EVENT,
        response_types=[call.response],
        urgency=call.urgency,
        severity=call.severity,
        certainty=call.certainty,
        event_codes=[SAME_CODE],
        effective=sent,
        expires=expires,
        sender_name=sender_name,
        headline=headline,
        description=description,
        instruction=instruction,
        web=content.web,
        contact=contact,
        resources=resources or [],
        areas=[_area(content.area)],
    )


def render_alert(
    *,
    identifier: str,
    sender: str,
    sender_name: str,
    sent: datetime,
    expires: datetime,
    status: str,
    msg_type: str,
    content: AlertContent,
    children: Sequence[dict[str, Any]],
    references: Sequence[tuple[str, str, datetime]],
    incident: str,
    note: str | None = None,
) -> cap.Alert:
    """The CAP model of an Alert or Update version: one ``info`` per language."""
    infos = [
        _info(
            call=LOOK_OUT,
            language=text.language,
            sent=sent,
            expires=expires,
            sender_name=sender_name,
            words=(text.headline, text.description, text.instruction),
            content=content,
            contact=content.contact,
            resources=_photos(children, text.language),
        )
        for text in content.texts
    ]
    return _envelope(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=status,
        msg_type=msg_type,
        note=note,
        references=references,
        incident=incident,
        infos=infos,
    )


def _cancel_words(headline: str, reason: str, language: str) -> tuple[str, str, str]:
    """A Cancel's (headline, description, instruction) in ``language`` (bolo's catalogs;
    English otherwise)."""
    with i18n.use(language):
        title = i18n.gettext("CANCELLED: %(headline)s") % {"headline": headline}
        description = i18n.gettext("This child abduction alert is cancelled. %(reason)s") % {
            "reason": reason
        }
        instruction = i18n.gettext("No further action is needed. Thank you for your help.")
    return title[:140], description.strip(), instruction


def render_cancel(
    *,
    identifier: str,
    sender: str,
    sender_name: str,
    sent: datetime,
    status: str,
    last: AlertContent,
    references: Sequence[tuple[str, str, datetime]],
    incident: str,
    reason: str,
) -> cap.Alert:
    """The CAP model of a Cancel: all clear, referencing every earlier message; each ``info``
    block's own words in its language (bolo's catalogs; English otherwise)."""
    infos = [
        _info(
            call=ALL_CLEAR,
            language=text.language,
            sent=sent,
            expires=sent + CANCEL_VALID,
            sender_name=sender_name,
            words=_cancel_words(text.headline, reason, text.language),
            content=last,
        )
        for text in last.texts
    ]
    return _envelope(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=status,
        msg_type=cap.MsgType.CANCEL,
        note=reason,
        references=references,
        incident=incident,
        infos=infos,
    )


def to_xml(message: cap.Alert) -> str:
    """The UTF-8 CAP XML text of a message, made to conform to the configured profile
    (`BOLO_CAP_PROFILE`: ipaws or google) and signed (enveloped XML-DSig) when a key is configured.

    Signing happens here, before the SHA-256 is taken, so a second person approves exactly the
    bytes that go out, signature included. InvalidInput (422) when a text of the message (the
    alert's, a cancel reason, a child's name from the case) holds a character CAP cannot carry.
    """
    settings = get_settings()
    profile = Profile(settings.cap_profile) if settings.cap_profile else None
    web = settings.public_base_url.rstrip("/") + "/alerts"
    try:
        xml = encode(conform(message, profile, web=web))
    except UnencodableText as exc:
        raise InvalidInput(
            f"{exc}: remove it from the alert's texts or the case's names and descriptions"
        ) from None
    if settings.cap_signing_key is None or settings.cap_signing_cert is None:
        return xml.decode("utf-8")
    signed, warnings = sign_own_alert(
        xml,
        key_pem=settings.cap_signing_key.read_bytes(),
        cert_pem=settings.cap_signing_cert.read_bytes(),
        now=now(),
    )
    for warning in warnings:
        log.warning("cap.signing", warning=warning)
    return signed.decode("utf-8")
