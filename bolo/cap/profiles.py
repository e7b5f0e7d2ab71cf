"""CAP profiles: the extra rules of IPAWS (CAP 1.2 IPAWS USA Profile v1.0) and Google Public Alerts.

Each profile returns (errors, warnings) for a decoded message.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from lxml import etree

from bolo.cap.model import DSIG_NS, Alert, Info, MsgType, Status, Urgency

Findings = tuple[list[str], list[str]]

IPAWS_CODE = "IPAWSv1.0"
CMAM_TEXT_MAX = 90
CMAM_LONG_TEXT_MAX = 360


class Profile(StrEnum):
    """The profiles `validate` knows."""

    IPAWS = "ipaws"
    GOOGLE = "google"


def _same_sets(alert: Alert) -> list[str]:
    """All info blocks must carry the same categories and event codes (IPAWS and Google)."""
    errors = []
    first = alert.infos[0] if alert.infos else None
    for number, info in enumerate(alert.infos[1:], 2):
        assert first is not None
        if set(info.categories) != set(first.categories):
            errors.append(f"info[{number}]: categories differ from info[1]'s")
        codes = {(p.name, p.value) for p in info.event_codes}
        if codes != {(p.name, p.value) for p in first.event_codes}:
            errors.append(f"info[{number}]: eventCodes differ from info[1]'s")
    return errors


def _parameter_lengths(info: Info, where: str) -> list[str]:
    errors = []
    for parameter in info.parameters:
        limit = {"CMAMtext": CMAM_TEXT_MAX, "CMAMlongtext": CMAM_LONG_TEXT_MAX}.get(parameter.name)
        if limit is not None and len(parameter.value) > limit:
            errors.append(f"{where}: {parameter.name} is {len(parameter.value)} characters, "
                          f"over {limit}")
    return errors


def _ipaws_info(info: Info, where: str) -> Findings:
    errors: list[str] = []
    warnings: list[str] = []
    if info.expires is None:
        errors.append(f"{where}: IPAWS requires expires")
    same = [p for p in info.event_codes if p.name == "SAME"]
    if len(same) != 1 or len(same[0].value) != 3:
        errors.append(f"{where}: IPAWS requires exactly one SAME eventCode of three letters, "
                      f"found {len(same)}")
    if not info.areas:
        errors.append(f"{where}: IPAWS requires at least one area")
    errors += _parameter_lengths(info, where)
    for name in ("description", "instruction"):
        if not (getattr(info, name) or "").strip():
            warnings.append(f"{where}: {name} is recommended by IPAWS")
    for name in ("effective", "onset"):
        if getattr(info, name) is not None:
            warnings.append(f"{where}: IPAWS ignores {name}; alerts are effective on issue")
    for number, area in enumerate(info.areas, 1):
        if not any(g.name == "SAME" and len(g.value) == 6 for g in area.geocodes):
            warnings.append(f"{where}/area[{number}]: IPAWS recommends a 6-digit SAME geocode")
    return errors, warnings


def ipaws_findings(alert: Alert, root: etree._Element) -> Findings:
    """IPAWS profile v1.0: version code, expires, one three-letter SAME event code, an area,
    CMAMtext <= 90 characters, matching categories and event codes (references: base rules)."""
    errors: list[str] = []
    warnings: list[str] = []
    if IPAWS_CODE not in alert.codes:
        errors.append(f"IPAWS requires <code>{IPAWS_CODE}</code>")
    if not alert.infos and alert.msg_type in (MsgType.ALERT, MsgType.UPDATE):
        errors.append("IPAWS requires at least one info")
    errors += _same_sets(alert)
    for number, info in enumerate(alert.infos, 1):
        info_errors, info_warnings = _ipaws_info(info, f"info[{number}]")
        errors += info_errors
        warnings += info_warnings
    if root.find("{" + DSIG_NS + "}Signature") is None:
        warnings.append("IPAWS messages are signed; this one carries no ds:Signature")
    return errors, warnings


def _google_info(alert: Alert, info: Info, where: str) -> Findings:
    errors: list[str] = []
    warnings: list[str] = []
    for name in ("description", "web"):
        if not (getattr(info, name) or "").strip():
            errors.append(f"{where}: Google Public Alerts requires {name}")
    if info.expires is None:
        errors.append(f"{where}: Google Public Alerts requires expires")
    elif (info.effective or alert.sent) > info.expires:
        errors.append(f"{where}: effective (or sent) comes after expires")
    if not info.areas:
        errors.append(f"{where}: Google Public Alerts requires at least one area")
    for number, area in enumerate(info.areas, 1):
        if not (area.polygons or area.circles or area.geocodes):
            errors.append(f"{where}/area[{number}]: needs a polygon, circle or geocode")
    for name, label in (("sender_name", "senderName"), ("instruction", "instruction"),
                        ("contact", "contact")):
        if not (getattr(info, name) or "").strip():
            warnings.append(f"{where}: {label} is recommended")
    if not info.response_types:
        warnings.append(f"{where}: responseType is recommended")
    if info.description is not None and info.description == info.headline:
        warnings.append(f"{where}: headline and description should differ")
    if info.urgency is Urgency.UNKNOWN:
        warnings.append(f"{where}: Unknown urgency is discouraged")
    if info.areas and not any(a.polygons or a.circles for a in info.areas):
        warnings.append(f"{where}: a polygon or circle is encouraged beside geocodes")
    return errors, warnings


def google_findings(alert: Alert, root: etree._Element) -> Findings:
    """Google Public Alerts: info, description, web, expires and area required; matching sets."""
    errors: list[str] = []
    warnings: list[str] = []
    if not alert.infos:
        errors.append("Google Public Alerts requires at least one info")
    errors += _same_sets(alert)
    if alert.status is Status.TEST:
        warnings.append("status Test alerts are not shown by Google Public Alerts")
    events: dict[str, str] = {}
    for number, info in enumerate(alert.infos, 1):
        info_errors, info_warnings = _google_info(alert, info, f"info[{number}]")
        errors += info_errors
        warnings += info_warnings
        if events.setdefault(info.language, info.event) != info.event:
            warnings.append(f"info[{number}]: event differs from another info in {info.language}")
    return errors, warnings


PROFILES: dict[Profile, Callable[[Alert, etree._Element], Findings]] = {
    Profile.IPAWS: ipaws_findings,
    Profile.GOOGLE: google_findings,
}
