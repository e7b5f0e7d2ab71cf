"""Build the CAP model from a parsed `alert` element (CAP 1.0, 1.1 or 1.2)."""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from lxml import etree

from bolo.cap.errors import CapRefused
from bolo.cap.model import (
    CAP10_NS,
    CAP11_NS,
    CAP12_NS,
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Reference,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
)
from bolo.cap.times import parse_time

VERSIONS = {CAP12_NS: "1.2", CAP11_NS: "1.1", CAP10_NS: "1.0"}
E = TypeVar("E", bound=StrEnum)
Children = dict[str, list[etree._Element]]
Texts = dict[str, str]
# Whitespace around the comma of a lat,lon pair: not CAP's form, but unambiguous to read.
COMMA_SPACE = re.compile(r"\s*,\s*")


def cap_version(root: etree._Element) -> str:
    """The CAP version ("1.0", "1.1", "1.2") of an `alert` root; `CapRefused` if it is not one."""
    tag = root.tag
    if isinstance(tag, str) and tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        if local == "alert" and namespace in VERSIONS:
            return VERSIONS[namespace]
    raise CapRefused(f"not a CAP alert: root element is {tag!r}", "not-cap")


_NAMES = str.split(
    "identifier sender sent status msgType password source scope restriction addresses code note "
    "references incidents info language category event responseType urgency severity certainty "
    "audience eventCode effective onset expires senderName headline description instruction web "
    "contact parameter resource area valueName value resourceDesc mimeType size uri derefUri "
    "digest areaDesc polygon circle geocode altitude ceiling"
)
# Full tag -> local name for every CAP element of every version: one dict lookup per child.
_LOCAL = {"{" + ns + "}": {"{" + ns + "}" + name: name for name in _NAMES} for ns in VERSIONS}


def _scan(element: etree._Element, prefix: str) -> tuple[Texts, Children]:
    """One pass over the CAP children: the first text of each name, and every element by name."""
    first: Texts = {}
    every: Children = {}
    local = _LOCAL[prefix]
    for child in element:
        name = local.get(child.tag)
        if name is None:
            continue
        if name in every:
            every[name].append(child)
        else:
            every[name] = [child]
            first[name] = child.text or ""
    return first, every


def _text(element: etree._Element) -> str:
    return element.text or ""


def _required(texts: Texts, name: str) -> str:
    text = texts.get(name)
    if text is None:
        raise CapRefused(f"missing required element {name}")
    return text


def _enum(cls: type[E], text: str, what: str) -> E:
    value = text.strip()
    if cls is Certainty and value == "Very Likely":  # CAP 1.0, deprecated in 1.1
        value = "Likely"
    member = cls._value2member_map_.get(value)  # a dict lookup; cls(value) is far slower
    if member is None:
        raise CapRefused(f"unknown {what} {value!r}")
    return member  # type: ignore[return-value]


def _number(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError as exc:
        raise CapRefused(f"malformed {what}: {text.strip()!r}") from exc
    if not math.isfinite(value):
        raise CapRefused(f"malformed {what}: {text.strip()!r}")
    return value


def _pairs(children: Children, name: str, prefix: str, version: str) -> list[ValuePair]:
    pairs = []
    for element in children.get(name, ()):
        if version == "1.0":  # CAP 1.0 writes "valueName=value" as the element's text
            left, _, right = _text(element).partition("=")
            pairs.append(ValuePair(name=left.strip(), value=right.strip()))
            continue
        label: str | None = None
        value: str | None = None
        name_tag, value_tag = prefix + "valueName", prefix + "value"
        for child in element:  # a plain loop: pairs are the bulk of large messages
            if child.tag == name_tag:
                label = child.text or ""
            elif child.tag == value_tag:
                value = child.text or ""
        if label is None or value is None:
            raise CapRefused(f"{_local_name(element)} without valueName and value")
        pairs.append(ValuePair(name=label, value=value))
    return pairs


def _local_name(element: etree._Element) -> str:
    return str(element.tag).rpartition("}")[2]


def split_list(text: str) -> list[str]:
    """Split a CAP space-delimited list; items with whitespace are enclosed in double quotes."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    for char in text:
        if char == '"':
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                items.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if quoted:
        raise CapRefused(f"unbalanced quotes in list: {text!r}")
    if started:
        items.append("".join(current))
    return items


def parse_references(text: str, version: str = "1.2") -> list[Reference]:
    """Parse `references`: whitespace-separated `sender,identifier,sent` triplets."""
    references = []
    for item in text.split():
        parts = item.split(",")
        if len(parts) != 3:
            if version == "1.0":  # 1.0 referenced by identifier alone; the key cannot be built
                continue
            raise CapRefused(f"malformed references entry {item!r}: want sender,identifier,sent")
        sent = parse_time(parts[2], what="references sent time")
        references.append(Reference(sender=parts[0], identifier=parts[1], sent=sent))
    return references


def parse_polygon(text: str) -> list[tuple[float, float]]:
    """Parse a polygon: whitespace-separated `lat,lon` pairs (WGS84 degrees)."""
    tokens = text.split()
    flat = ",".join(tokens).split(",")
    if len(flat) == 2 * len(tokens) and "_" not in text:
        try:
            numbers = [float(x) for x in flat]
        except ValueError:
            numbers = []  # the careful path below names the bad point
        if numbers and all(map(math.isfinite, numbers)):
            return list(zip(numbers[0::2], numbers[1::2], strict=True))
    points = []
    for item in COMMA_SPACE.sub(",", text).split():  # "39.1, 126.2" is read as "39.1,126.2"
        parts = item.split(",")
        if len(parts) != 2:
            raise CapRefused(f"malformed polygon point {item!r}: want lat,lon")
        lat = _number(parts[0], "polygon latitude")
        points.append((lat, _number(parts[1], "polygon longitude")))
    return points


def parse_circle(text: str) -> Circle:
    """Parse a circle: `lat,lon radius` (WGS84 degrees, kilometres)."""
    parts = COMMA_SPACE.sub(",", text).split()
    centre = parts[0].split(",") if parts else []
    if len(parts) != 2 or len(centre) != 2:
        raise CapRefused(f"malformed circle {text.strip()!r}: want 'lat,lon radius_km'")
    return Circle(
        lat=_number(centre[0], "circle latitude"),
        lon=_number(centre[1], "circle longitude"),
        radius_km=_number(parts[1], "circle radius"),
    )


def _area(element: etree._Element, prefix: str, version: str) -> Area:
    texts, children = _scan(element, prefix)
    altitude = texts.get("altitude")
    ceiling = texts.get("ceiling")
    return Area(
        description=_required(texts, "areaDesc"),
        polygons=[parse_polygon(_text(e)) for e in children.get("polygon", ())],
        circles=[parse_circle(_text(e)) for e in children.get("circle", ())],
        geocodes=_pairs(children, "geocode", prefix, version),
        altitude=None if altitude is None else _number(altitude, "altitude"),
        ceiling=None if ceiling is None else _number(ceiling, "ceiling"),
    )


def _resource(element: etree._Element, prefix: str) -> Resource:
    texts = _scan(element, prefix)[0]
    size = texts.get("size")
    try:
        size_value = None if size is None else int(size.strip())
    except ValueError as exc:
        raise CapRefused(f"malformed resource size {size!r}") from exc
    return Resource(
        description=_required(texts, "resourceDesc"),
        mime_type=texts.get("mimeType") or "",  # optional in CAP 1.0
        size=size_value,
        uri=texts.get("uri"),
        deref_uri=texts.get("derefUri"),
        digest=texts.get("digest"),
    )


def _time(texts: Texts, name: str) -> datetime | None:
    text = texts.get(name)
    return None if text is None else parse_time(text, what=name)


def _info(element: etree._Element, prefix: str, version: str) -> Info:
    t, c = _scan(element, prefix)
    language = t.get("language")
    return Info(
        language=language.strip() if language is not None else "en-US",
        categories=[_enum(Category, _text(e), "category") for e in c.get("category", ())],
        event=_required(t, "event"),
        response_types=[
            _enum(ResponseType, _text(e), "responseType") for e in c.get("responseType", ())
        ],
        urgency=_enum(Urgency, _required(t, "urgency"), "urgency"),
        severity=_enum(Severity, _required(t, "severity"), "severity"),
        certainty=_enum(Certainty, _required(t, "certainty"), "certainty"),
        audience=t.get("audience"),
        event_codes=_pairs(c, "eventCode", prefix, version),
        effective=_time(t, "effective"),
        onset=_time(t, "onset"),
        expires=_time(t, "expires"),
        sender_name=t.get("senderName"),
        headline=t.get("headline"),
        description=t.get("description"),
        instruction=t.get("instruction"),
        web=t.get("web"),
        contact=t.get("contact"),
        parameters=_pairs(c, "parameter", prefix, version),
        resources=[_resource(e, prefix) for e in c.get("resource", ())],
        areas=[_area(e, prefix, version) for e in c.get("area", ())],
    )


def alert_from_element(root: etree._Element) -> Alert:
    """Build an `Alert` from a CAP 1.0/1.1/1.2 `alert` element; `CapRefused` names what is wrong.

    Free texts keep their whitespace; enumerations, times and numbers are read stripped.
    """
    return read_alert(root)[0]


def read_alert(root: etree._Element) -> tuple[Alert, str | None]:
    """`alert_from_element`, plus the text of `references` as written (None when absent), which
    the rules need and the model cannot keep (an empty element reads as no references)."""
    version = cap_version(root)
    prefix = "{" + root.tag[1:].partition("}")[0] + "}"
    t, c = _scan(root, prefix)
    references = t.get("references")
    incidents = t.get("incidents")
    alert = Alert(
        identifier=_required(t, "identifier"),
        sender=_required(t, "sender"),
        sent=parse_time(_required(t, "sent"), what="sent"),
        status=_enum(Status, _required(t, "status"), "status"),
        msg_type=_enum(MsgType, _required(t, "msgType"), "msgType"),
        scope=_enum(Scope, _required(t, "scope"), "scope"),
        source=t.get("source"),
        restriction=t.get("restriction"),
        addresses=t.get("addresses"),
        codes=[_text(e) for e in c.get("code", ())],
        note=t.get("note"),
        references=[] if references is None else parse_references(references, version),
        incidents=[] if incidents is None else split_list(incidents),
        infos=[_info(e, prefix, version) for e in c.get("info", ())],
    )
    return alert, references
