"""CAP rules beyond the XML schema, as the specification states them and real validators enforce.

Each check returns (errors, warnings): errors make a message invalid, warnings do not.
"""

from __future__ import annotations

import re
from datetime import datetime

from bolo.cap.geometry import area_errors
from bolo.cap.model import Alert, Info, MsgType, Scope
from bolo.cap.times import CAP12_TIME

Findings = tuple[list[str], list[str]]

# CAP 1.2 §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters
# (< and &)".
_FORBIDDEN_ID = re.compile(r"[\s,<&]")
_HTML = re.compile(
    r"<\s*/?\s*(?:a|b|i|u|p|br|hr|div|span|font|table|tr|td|th|ul|ol|li|h[1-6]|strong|em"
    r"|html|body|head|img|script|style|iframe)\b[^>]*>|&(?:nbsp|amp|lt|gt|quot|#\d+);",
    re.IGNORECASE,
)
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
MUST_REFERENCE = (MsgType.UPDATE, MsgType.CANCEL, MsgType.ACK, MsgType.ERROR)
HEADLINE_MAX = 140


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def identity_errors(alert: Alert) -> list[str]:
    """identifier and sender: non-empty, no whitespace, comma, `<` or `&`."""
    errors = []
    for name, value in (("identifier", alert.identifier), ("sender", alert.sender)):
        if not value:
            errors.append(f"{name} is empty")
        elif _FORBIDDEN_ID.search(value):
            errors.append(f"{name} {value!r} contains a space, comma, '<' or '&'")
    return errors


def reference_findings(alert: Alert, raw_references: str | None, version: str) -> Findings:
    """references: non-empty when present, well-formed, never the message itself; required
    for Update, Cancel, Ack and Error."""
    errors: list[str] = []
    warnings: list[str] = []
    if raw_references is not None and not raw_references.strip():
        errors.append("references is empty: it must list sender,identifier,sent triplets")
    elif alert.msg_type in MUST_REFERENCE and not alert.references:
        errors.append(f"msgType {alert.msg_type} must reference the message(s) it concerns")
    if version == "1.2" and raw_references:
        for item in raw_references.split():
            sent = item.rsplit(",", 1)[-1]
            if not CAP12_TIME.match(sent):
                errors.append(f"references sent time {sent!r} is not YYYY-MM-DDThh:mm:ss+hh:mm")
    seen: set[tuple[str, str, datetime]] = set()
    for reference in alert.references:
        if (reference.sender, reference.identifier) == (alert.sender, alert.identifier):
            errors.append("references names the message itself")
        if reference.key in seen:
            warnings.append(f"references lists {reference.identifier} twice")
        seen.add(reference.key)
    return errors, warnings


def scope_findings(alert: Alert) -> Findings:
    """restriction only with scope Restricted; addresses required with Private, not with Public."""
    errors: list[str] = []
    warnings: list[str] = []
    if not _blank(alert.restriction) and alert.scope is not Scope.RESTRICTED:
        errors.append(f"restriction given but scope is {alert.scope}, not Restricted")
    if alert.scope is Scope.RESTRICTED and _blank(alert.restriction):
        warnings.append("scope Restricted without a restriction saying who may see it")
    if alert.scope is Scope.PRIVATE and _blank(alert.addresses):
        errors.append("scope Private requires addresses")
    if alert.scope is Scope.PUBLIC and not _blank(alert.addresses):
        errors.append("addresses given but scope is Public")
    for name in ("restriction", "addresses", "note", "source"):
        value = getattr(alert, name)
        if value is not None and not value.strip():
            warnings.append(f"{name} is present but empty")
    return errors, warnings


def _text_warnings(info: Info, where: str) -> list[str]:
    warnings = []
    for name in ("headline", "description", "instruction", "event", "sender_name", "contact"):
        value = getattr(info, name)
        if value and ("<" in value or "&" in value) and _HTML.search(value):
            warnings.append(f"{where}: HTML markup in {name} (CAP text is plain text)")
    if info.headline is not None and len(info.headline) > HEADLINE_MAX:
        warnings.append(f"{where}: headline is {len(info.headline)} characters, over "
                        f"{HEADLINE_MAX}")
    return warnings


def _time_warnings(alert: Alert, info: Info, where: str) -> list[str]:
    warnings = []
    if info.expires is not None:
        if info.expires < alert.sent:
            warnings.append(f"{where}: expires is before sent")
        for name in ("effective", "onset"):
            moment = getattr(info, name)
            if moment is not None and info.expires < moment:
                warnings.append(f"{where}: expires is before {name}")
    return warnings


def info_findings(alert: Alert, info: Info, where: str) -> Findings:
    """Rules of one info block: area geometry, resources, texts and times."""
    errors: list[str] = []
    warnings = _text_warnings(info, where) + _time_warnings(alert, info, where)
    for number, area in enumerate(info.areas, 1):
        area_where = f"{where}/area[{number}]"
        errors += area_errors(area, area_where)
        warnings += [f"{area_where}/circle: radius 0 km covers no one"
                     for c in area.circles if c.radius_km == 0]
        warnings += [f"{area_where}: geocode with empty valueName or value"
                     for g in area.geocodes if not g.name.strip() or not g.value.strip()]
    for number, resource in enumerate(info.resources, 1):
        res_where = f"{where}/resource[{number}]"
        if resource.size is not None and resource.size < 0:
            errors.append(f"{res_where}: size {resource.size} is negative")
        if resource.digest is not None and not _SHA1.match(resource.digest.strip()):
            warnings.append(f"{res_where}: digest is not a SHA-1 hex digest")
    if info.web is not None and not _ABSOLUTE_URI.match(info.web.strip()):
        warnings.append(f"{where}: web is not an absolute URI")
    return errors, warnings


def alert_findings(alert: Alert, raw_references: str | None, version: str) -> Findings:
    """All rules beyond the schema for one decoded message; `raw_references` is the text of its
    `references` element as written (None when absent)."""
    errors = identity_errors(alert)
    warnings: list[str] = []
    for found_errors, found_warnings in (
        reference_findings(alert, raw_references, version),
        scope_findings(alert),
    ):
        errors += found_errors
        warnings += found_warnings
    if version != "1.2":
        warnings.append(f"CAP {version} message: accepted for import; bolo writes CAP 1.2")
    for number, info in enumerate(alert.infos, 1):
        found_errors, found_warnings = info_findings(alert, info, f"info[{number}]")
        errors += found_errors
        warnings += found_warnings
    return errors, warnings
