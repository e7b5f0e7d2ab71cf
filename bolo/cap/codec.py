"""Encode a CAP model to CAP 1.2 XML, and decode CAP 1.0-1.2 XML to the model (hardened).

`decode(encode(alert)) == alert` for every alert whose texts are valid XML characters.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bolo.cap.errors import CapRefused
from bolo.cap.model import (
    CAP12_NS,
    Alert,
    Area,
    Info,
    Reference,
    Resource,
    ValuePair,
)
from bolo.cap.reader import alert_from_element
from bolo.cap.times import format_time
from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml

__all__ = ["CapRefused", "decode", "encode", "format_number", "join_quoted"]

_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"


def format_number(value: float) -> str:
    """Write a number in plain decimal (never `1e-05`) that reads back to the same float."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def join_quoted(items: list[str]) -> str:
    """Join a CAP space-delimited list, quoting items that contain whitespace (CAP 1.2 §3.2.1)."""
    return " ".join(
        f'"{item}"' if not item or any(c.isspace() for c in item) else item for item in items
    )


# Characters XML 1.0 cannot carry at all (§2.2); lone surrogates cannot be encoded either.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
Out = list[str]


_NOT_XML_ASCII = bytes(c for c in range(32) if c not in (9, 10, 13))


class UnencodableText(ValueError):
    """A text holds a character XML 1.0 cannot carry (``character`` names it, e.g. U+0001)."""

    def __init__(self, character: str) -> None:
        super().__init__(f"a text holds {character}, a character XML (CAP) cannot carry")
        self.character = character


def unencodable_character(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 cannot carry, as ``U+XXXX`` (C0 controls
    other than tab, LF and CR; surrogates; U+FFFE and U+FFFF), or None when every one can.
    PostgreSQL refuses the first of them (NUL) in any text too, so this is the rule for
    every text bolo keeps or sends."""
    found = _NOT_XML.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))


def _escape(text: str) -> str:
    # Large texts (base64 audio in derefUri) are ASCII: bytes.translate checks them ~10x faster
    # than the regular expression.
    if text.isascii():
        bad = len(text.encode("ascii").translate(None, _NOT_XML_ASCII)) != len(text)
    else:
        bad = _NOT_XML.search(text) is not None
    if bad:
        raise UnencodableText(unencodable_character(text) or "a control character")
    for char, reference in _ESCAPES:  # \r as a reference, so parsing gives it back
        if char in text:
            text = text.replace(char, reference)
    return text


def _add(out: Out, name: str, text: str | None) -> None:
    if text is not None:
        out.append(f"<{name}>{_escape(text)}</{name}>")


def _add_pairs(out: Out, name: str, pairs: list[ValuePair]) -> None:
    for pair in pairs:
        out.append(
            f"<{name}><valueName>{_escape(pair.name)}</valueName>"
            f"<value>{_escape(pair.value)}</value></{name}>"
        )


def _references_text(references: list[Reference]) -> str:
    return " ".join(f"{r.sender},{r.identifier},{format_time(r.sent)}" for r in references)


def _encode_resource(out: Out, resource: Resource) -> None:
    out.append("<resource>")
    _add(out, "resourceDesc", resource.description)
    _add(out, "mimeType", resource.mime_type)
    _add(out, "size", None if resource.size is None else str(resource.size))
    _add(out, "uri", resource.uri)
    _add(out, "derefUri", resource.deref_uri)
    _add(out, "digest", resource.digest)
    out.append("</resource>")


def _encode_area(out: Out, area: Area) -> None:
    out.append("<area>")
    _add(out, "areaDesc", area.description)
    for polygon in area.polygons:
        points = " ".join(f"{format_number(lat)},{format_number(lon)}" for lat, lon in polygon)
        out.append(f"<polygon>{points}</polygon>")
    for circle in area.circles:
        out.append(
            f"<circle>{format_number(circle.lat)},{format_number(circle.lon)} "
            f"{format_number(circle.radius_km)}</circle>"
        )
    _add_pairs(out, "geocode", area.geocodes)
    _add(out, "altitude", None if area.altitude is None else format_number(area.altitude))
    _add(out, "ceiling", None if area.ceiling is None else format_number(area.ceiling))
    out.append("</area>")


def _encode_info(out: Out, info: Info) -> None:
    out.append("<info>")
    _add(out, "language", info.language)
    out.extend(f"<category>{category.value}</category>" for category in info.categories)
    _add(out, "event", info.event)
    out.extend(f"<responseType>{r.value}</responseType>" for r in info.response_types)
    out.append(
        f"<urgency>{info.urgency.value}</urgency><severity>{info.severity.value}"
        f"</severity><certainty>{info.certainty.value}</certainty>"
    )
    _add(out, "audience", info.audience)
    _add_pairs(out, "eventCode", info.event_codes)
    for name in ("effective", "onset", "expires"):
        moment = getattr(info, name)
        if moment is not None:
            out.append(f"<{name}>{format_time(moment)}</{name}>")
    _add(out, "senderName", info.sender_name)
    _add(out, "headline", info.headline)
    _add(out, "description", info.description)
    _add(out, "instruction", info.instruction)
    _add(out, "web", info.web)
    _add(out, "contact", info.contact)
    _add_pairs(out, "parameter", info.parameters)
    for resource in info.resources:
        _encode_resource(out, resource)
    for area in info.areas:
        _encode_area(out, area)
    out.append("</info>")


def encode(alert: Alert) -> bytes:
    """Encode `alert` as CAP 1.2: UTF-8 XML with a declaration, schema element order.

    Raises UnencodableText (a ValueError) when a text holds characters XML cannot carry (e.g.
    control characters), ValueError when a time is naive.
    """
    out: Out = [_DECLARATION, f'<alert xmlns="{CAP12_NS}">']
    _add(out, "identifier", alert.identifier)
    _add(out, "sender", alert.sender)
    out.append(
        f"<sent>{format_time(alert.sent)}</sent><status>{alert.status.value}</status>"
        f"<msgType>{alert.msg_type.value}</msgType>"
    )
    _add(out, "source", alert.source)
    out.append(f"<scope>{alert.scope.value}</scope>")
    _add(out, "restriction", alert.restriction)
    _add(out, "addresses", alert.addresses)
    for code in alert.codes:
        _add(out, "code", code)
    _add(out, "note", alert.note)
    if alert.references:
        _add(out, "references", _references_text(alert.references))
    if alert.incidents:
        _add(out, "incidents", join_quoted(alert.incidents))
    for info in alert.infos:
        _encode_info(out, info)
    out.append("</alert>")
    return "".join(out).encode("utf-8")


def decode(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> Alert:
    """Decode a CAP 1.0, 1.1 or 1.2 message (hardened; see `xmlsafe.parse_xml`).

    Raises `CapRefused` with the reason for anything refused: unsafe or malformed XML, a root that
    is not a CAP alert, a missing required element, an unknown enumeration value or a bad time.
    Schema and rule checks beyond what building the model needs are `validate`'s job.
    """
    return alert_from_element(parse_xml(data, max_bytes=max_bytes, max_depth=max_depth))
