"""Encode a CAP model to CAP 1.2 XML, and decode CAP 1.0-1.2 XML to the model (hardened).

`decode(encode(alert)) == alert` for every alert whose texts are valid XML characters.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

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

_P = "{" + CAP12_NS + "}"


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
    return " ".join(f'"{item}"' if not item or any(c.isspace() for c in item) else item
                    for item in items)


def _add(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, _P + name).text = text


def _add_pairs(parent: etree._Element, name: str, pairs: list[ValuePair]) -> None:
    for pair in pairs:
        element = etree.SubElement(parent, _P + name)
        etree.SubElement(element, _P + "valueName").text = pair.name
        etree.SubElement(element, _P + "value").text = pair.value


def _references_text(references: list[Reference]) -> str:
    return " ".join(f"{r.sender},{r.identifier},{format_time(r.sent)}" for r in references)


def _encode_resource(parent: etree._Element, resource: Resource) -> None:
    element = etree.SubElement(parent, _P + "resource")
    _add(element, "resourceDesc", resource.description)
    _add(element, "mimeType", resource.mime_type)
    _add(element, "size", None if resource.size is None else str(resource.size))
    _add(element, "uri", resource.uri)
    _add(element, "derefUri", resource.deref_uri)
    _add(element, "digest", resource.digest)


def _encode_area(parent: etree._Element, area: Area) -> None:
    element = etree.SubElement(parent, _P + "area")
    _add(element, "areaDesc", area.description)
    for polygon in area.polygons:
        points = " ".join(f"{format_number(lat)},{format_number(lon)}" for lat, lon in polygon)
        _add(element, "polygon", points)
    for circle in area.circles:
        _add(element, "circle", f"{format_number(circle.lat)},{format_number(circle.lon)} "
                                f"{format_number(circle.radius_km)}")
    _add_pairs(element, "geocode", area.geocodes)
    _add(element, "altitude", None if area.altitude is None else format_number(area.altitude))
    _add(element, "ceiling", None if area.ceiling is None else format_number(area.ceiling))


def _encode_info(parent: etree._Element, info: Info) -> None:
    element = etree.SubElement(parent, _P + "info")
    _add(element, "language", info.language)
    for category in info.categories:
        _add(element, "category", category.value)
    _add(element, "event", info.event)
    for response in info.response_types:
        _add(element, "responseType", response.value)
    _add(element, "urgency", info.urgency.value)
    _add(element, "severity", info.severity.value)
    _add(element, "certainty", info.certainty.value)
    _add(element, "audience", info.audience)
    _add_pairs(element, "eventCode", info.event_codes)
    for name in ("effective", "onset", "expires"):
        moment = getattr(info, name)
        _add(element, name, None if moment is None else format_time(moment))
    _add(element, "senderName", info.sender_name)
    _add(element, "headline", info.headline)
    _add(element, "description", info.description)
    _add(element, "instruction", info.instruction)
    _add(element, "web", info.web)
    _add(element, "contact", info.contact)
    _add_pairs(element, "parameter", info.parameters)
    for resource in info.resources:
        _encode_resource(element, resource)
    for area in info.areas:
        _encode_area(element, area)


def encode_element(alert: Alert) -> etree._Element:
    """Build the CAP 1.2 `alert` element, children in the schema's order."""
    root = etree.Element(_P + "alert", nsmap={None: CAP12_NS})  # type: ignore[dict-item]
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", alert.sender)
    _add(root, "sent", format_time(alert.sent))
    _add(root, "status", alert.status.value)
    _add(root, "msgType", alert.msg_type.value)
    _add(root, "source", alert.source)
    _add(root, "scope", alert.scope.value)
    _add(root, "restriction", alert.restriction)
    _add(root, "addresses", alert.addresses)
    for code in alert.codes:
        _add(root, "code", code)
    _add(root, "note", alert.note)
    if alert.references:
        _add(root, "references", _references_text(alert.references))
    if alert.incidents:
        _add(root, "incidents", join_quoted(alert.incidents))
    for info in alert.infos:
        _encode_info(root, info)
    return root


def encode(alert: Alert) -> bytes:
    """Encode `alert` as CAP 1.2: UTF-8 XML with a declaration, schema element order.

    Raises ValueError when a text holds characters XML cannot carry (e.g. control characters)
    or a time is naive.
    """
    return etree.tostring(encode_element(alert), xml_declaration=True, encoding="UTF-8")


def decode(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> Alert:
    """Decode a CAP 1.0, 1.1 or 1.2 message (hardened; see `xmlsafe.parse_xml`).

    Raises `CapRefused` with the reason for anything refused: unsafe or malformed XML, a root that
    is not a CAP alert, a missing required element, an unknown enumeration value or a bad time.
    Schema and rule checks beyond what building the model needs are `validate`'s job.
    """
    return alert_from_element(parse_xml(data, max_bytes=max_bytes, max_depth=max_depth))

