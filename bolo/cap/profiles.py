"""CAP profiles: the extra rules of IPAWS (CAP 1.2 IPAWS USA Profile v1.0) and Google Public Alerts.

Each profile adds its findings (rules `ipaws-*`, `google-*`, `profile-same-sets` of
`bolo.cap.findings.RULES`) for a decoded message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum

from lxml import etree

from bolo.cap.findings import Findings
from bolo.cap.model import DSIG_NS, Alert, Info, MsgType, Status, Urgency

IPAWS_CODE = "IPAWSv1.0"
CMAM_TEXT_MAX = 90
CMAM_LONG_TEXT_MAX = 360


class Profile(StrEnum):
    """The profiles `validate` knows."""

    IPAWS = "ipaws"
    GOOGLE = "google"


def _same_sets(alert: Alert, out: Findings) -> None:
    """All info blocks must carry the same categories and event codes (IPAWS and Google)."""
    first = alert.infos[0] if alert.infos else None
    for number, info in enumerate(alert.infos[1:], 2):
        assert first is not None
        if set(info.categories) != set(first.categories):
            out.add(
                "profile-same-sets",
                f"/alert/info[{number}]/category",
                "categories differ from info[1]'s",
            )
        codes = {(p.name, p.value) for p in info.event_codes}
        if codes != {(p.name, p.value) for p in first.event_codes}:
            out.add(
                "profile-same-sets",
                f"/alert/info[{number}]/eventCode",
                "eventCodes differ from info[1]'s",
            )


def _parameter_lengths(info: Info, path: str, out: Findings) -> None:
    for parameter in info.parameters:
        limit = {"CMAMtext": CMAM_TEXT_MAX, "CMAMlongtext": CMAM_LONG_TEXT_MAX}.get(parameter.name)
        if limit is not None and len(parameter.value) > limit:
            out.add(
                "ipaws-cmam",
                f"{path}/parameter",
                f"{parameter.name} is {len(parameter.value)} characters, over {limit}",
            )


def _ipaws_info(info: Info, path: str, out: Findings) -> None:
    if info.expires is None:
        out.add("ipaws-expires", f"{path}/expires", "IPAWS requires expires")
    same = [p for p in info.event_codes if p.name == "SAME"]
    if len(same) != 1 or len(same[0].value) != 3:
        out.add(
            "ipaws-same",
            f"{path}/eventCode",
            f"IPAWS requires exactly one SAME eventCode of three letters, found {len(same)}",
        )
    if not info.areas:
        out.add("ipaws-area", f"{path}/area", "IPAWS requires at least one area")
    _parameter_lengths(info, path, out)
    for name in ("description", "instruction"):
        if not (getattr(info, name) or "").strip():
            out.add("ipaws-recommended", f"{path}/{name}", f"{name} is recommended by IPAWS")
    for name in ("effective", "onset"):
        if getattr(info, name) is not None:
            out.add(
                "ipaws-ignored",
                f"{path}/{name}",
                f"IPAWS ignores {name}; alerts are effective on issue",
            )
    for number, area in enumerate(info.areas, 1):
        if not any(g.name == "SAME" and len(g.value) == 6 for g in area.geocodes):
            out.add(
                "ipaws-geocode", f"{path}/area[{number}]", "IPAWS recommends a 6-digit SAME geocode"
            )


def ipaws_findings(alert: Alert, root: etree._Element, out: Findings) -> None:
    """IPAWS profile v1.0: version code, expires, one three-letter SAME event code, an area,
    CMAMtext <= 90 characters, matching categories and event codes (references: base rules)."""
    if IPAWS_CODE not in alert.codes:
        out.add("ipaws-code", "/alert/code", f"IPAWS requires <code>{IPAWS_CODE}</code>")
    if not alert.infos and alert.msg_type in (MsgType.ALERT, MsgType.UPDATE):
        out.add("ipaws-info", "/alert/info", "IPAWS requires at least one info")
    _same_sets(alert, out)
    for number, info in enumerate(alert.infos, 1):
        _ipaws_info(info, f"/alert/info[{number}]", out)
    if root.find("{" + DSIG_NS + "}Signature") is None:
        out.add(
            "ipaws-unsigned",
            "/alert",
            "IPAWS messages are signed; this one carries no ds:Signature",
        )


def _google_info(alert: Alert, info: Info, path: str, out: Findings) -> None:
    for name in ("description", "web"):
        if not (getattr(info, name) or "").strip():
            out.add("google-required", f"{path}/{name}", f"Google Public Alerts requires {name}")
    if info.expires is None:
        out.add("google-required", f"{path}/expires", "Google Public Alerts requires expires")
    elif (info.effective or alert.sent) > info.expires:
        out.add("google-expires", f"{path}/expires", "effective (or sent) comes after expires")
    if not info.areas:
        out.add("google-required", f"{path}/area", "Google Public Alerts requires an area")
    for number, area in enumerate(info.areas, 1):
        if not (any(area.polygons) or area.circles or area.geocodes):
            out.add(
                "google-geometry", f"{path}/area[{number}]", "needs a polygon, circle or geocode"
            )
    for name, label in (
        ("sender_name", "senderName"),
        ("instruction", "instruction"),
        ("contact", "contact"),
    ):
        if not (getattr(info, name) or "").strip():
            out.add("google-recommended", f"{path}/{label}", f"{label} is recommended")
    if not info.response_types:
        out.add("google-recommended", f"{path}/responseType", "responseType is recommended")
    if info.description is not None and info.description == info.headline:
        out.add("google-recommended", f"{path}/headline", "headline and description should differ")
    if info.urgency is Urgency.UNKNOWN:
        out.add("google-recommended", f"{path}/urgency", "Unknown urgency is discouraged")
    if info.areas and not any(any(a.polygons) or a.circles for a in info.areas):
        out.add(
            "google-recommended",
            f"{path}/area",
            "a polygon or circle is encouraged beside geocodes",
        )


def google_findings(alert: Alert, root: etree._Element, out: Findings) -> None:
    """Google Public Alerts: info, description, web, expires and area required; matching sets."""
    if not alert.infos:
        out.add("google-required", "/alert/info", "Google Public Alerts requires an info")
    _same_sets(alert, out)
    if alert.status is Status.TEST:
        out.add(
            "google-test",
            "/alert/status",
            "status Test alerts are not shown by Google Public Alerts",
        )
    events: dict[str, str] = {}
    for number, info in enumerate(alert.infos, 1):
        path = f"/alert/info[{number}]"
        _google_info(alert, info, path, out)
        if events.setdefault(info.language, info.event) != info.event:
            out.add(
                "google-recommended",
                f"{path}/event",
                f"event differs from another info in {info.language}",
            )


PROFILES: dict[Profile, Callable[[Alert, etree._Element, Findings], None]] = {
    Profile.IPAWS: ipaws_findings,
    Profile.GOOGLE: google_findings,
}


def conform(alert: Alert, profile: Profile | None, *, web: str) -> Alert:
    """`alert` made to carry what `profile` asks of a sender (a copy; the input is unchanged).

    IPAWS: the `IPAWSv1.0` code, and no `effective`/`onset` (IPAWS ignores them: alerts are
    effective on issue). Google: a `web` link in every info (`web` when the info has none).
    Everything else a profile requires (expires, event codes, areas) is the caller's content.
    """
    if profile is None:
        return alert
    infos = list(alert.infos)
    codes = list(alert.codes)
    if profile is Profile.IPAWS:
        if IPAWS_CODE not in codes:
            codes.insert(0, IPAWS_CODE)
        infos = [replace(i, effective=None, onset=None) for i in infos]
    elif profile is Profile.GOOGLE:
        infos = [i if (i.web or "").strip() else replace(i, web=web) for i in infos]
    return replace(alert, codes=codes, infos=infos)
