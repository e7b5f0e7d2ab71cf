"""CAP rules beyond the XML schema, as the specification states them and real validators enforce.

Each check adds `Finding`s to a `Findings` collector; the severity of each rule is declared once,
in `bolo.cap.findings.RULES`, beside the part of the CAP 1.2 text it comes from.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime

from lxml import etree

from bolo.cap.findings import Findings
from bolo.cap.geometry import area_findings
from bolo.cap.model import Alert, Info, MsgType, Scope
from bolo.cap.times import CAP12_TIME

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
HEADLINE_MAX = 160  # CAP 1.2 §3.2.2: "160 characters MAY be a useful target limit"
_SPACED_COMMA = re.compile(r"\s,|,\s")
_CAMEL = {"sender_name": "senderName"}


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def identity_findings(alert: Alert, out: Findings) -> None:
    """identifier and sender: non-empty, no whitespace, comma, `<` or `&` inside (whitespace
    around them, as pretty-printed XML leaves it, is a warning)."""
    for name, value in (("identifier", alert.identifier), ("sender", alert.sender)):
        path = f"/alert/{name}"
        core = value.strip()
        if not core:
            out.add("identifier-chars", path, f"{name} is empty")
        elif _FORBIDDEN_ID.search(core):
            out.add(
                "identifier-chars", path, f"{name} {core!r} contains a space, comma, '<' or '&'"
            )
        elif core != value:
            out.add("identifier-padding", path, f"whitespace around {name} {core!r}")


def reference_findings(
    alert: Alert, raw_references: str | None, version: str, out: Findings
) -> None:
    """references: required (non-empty) for Update, Cancel, Ack and Error; empty on an Alert is a
    warning; referenced times in the 1.2 form; never the message itself."""
    path = "/alert/references"
    empty = raw_references is not None and not raw_references.strip()
    if alert.msg_type in MUST_REFERENCE and not alert.references:
        what = "references is empty" if empty else "no references"
        if raw_references and raw_references.strip():  # CAP 1.0: identifiers alone
            what = f"references {raw_references.strip()!r} name no sent time (CAP 1.0 form)"
        out.add(
            "references-missing",
            path,
            f"{what}: msgType {alert.msg_type} must reference "
            "the message(s) it concerns as sender,identifier,sent",
        )
    elif empty:
        out.add("references-empty", path, "references is present but empty")
    if version == "1.2" and raw_references:
        for item in raw_references.split():
            sent = item.rsplit(",", 1)[-1]
            if not CAP12_TIME.match(sent):
                out.add(
                    "references-time", path, f"sent time {sent!r} is not YYYY-MM-DDThh:mm:ss+hh:mm"
                )
    seen: set[tuple[str, str, datetime]] = set()
    for reference in alert.references:
        if (reference.sender, reference.identifier) == (alert.sender, alert.identifier):
            out.add("references-self", path, "references names the message itself")
        if reference.key in seen:
            out.add("references-repeated", path, f"lists {reference.identifier} twice")
        seen.add(reference.key)


def scope_findings(alert: Alert, out: Findings) -> None:
    """restriction only with scope Restricted; addresses required with Private (optional with
    Public and Restricted); present-but-empty optional alert elements."""
    if not _blank(alert.restriction) and alert.scope is not Scope.RESTRICTED:
        out.add(
            "restriction-scope",
            "/alert/restriction",
            f"restriction given but scope is {alert.scope}, not Restricted",
        )
    if alert.scope is Scope.RESTRICTED and _blank(alert.restriction):
        out.add(
            "restriction-missing",
            "/alert/restriction",
            "scope Restricted without a restriction saying who may see it",
        )
    if alert.scope is Scope.PRIVATE and _blank(alert.addresses):
        out.add("addresses-private", "/alert/addresses", "scope Private requires addresses")
    for name in ("restriction", "addresses", "note", "source"):
        value = getattr(alert, name)
        if (
            value is not None
            and not value.strip()
            and not (name == "addresses" and alert.scope is Scope.PRIVATE)
        ):
            out.add("empty-element", f"/alert/{name}", f"{name} is present but empty")


def _text_findings(info: Info, path: str, out: Findings) -> None:
    for name in ("headline", "description", "instruction", "event", "sender_name", "contact"):
        value = getattr(info, name)
        if value and ("<" in value or "&" in value) and _HTML.search(value):
            out.add(
                "html", f"{path}/{_CAMEL.get(name, name)}", "HTML markup (CAP text is plain text)"
            )
    if info.headline is not None and len(info.headline) > HEADLINE_MAX:
        out.add(
            "headline-length",
            f"{path}/headline",
            f"{len(info.headline)} characters, over {HEADLINE_MAX}",
        )


def _time_findings(alert: Alert, info: Info, path: str, out: Findings) -> None:
    if info.expires is None:
        return
    for name, moment in (
        ("sent", alert.sent),
        ("effective", info.effective),
        ("onset", info.onset),
    ):
        if moment is not None and info.expires < moment:
            out.add("expires-order", f"{path}/expires", f"expires is before {name}")


def _resource_findings(info: Info, path: str, out: Findings) -> None:
    for number, resource in enumerate(info.resources, 1):
        where = f"{path}/resource[{number}]"
        if resource.size is not None and resource.size < 0:
            out.add("resource-size", f"{where}/size", f"size {resource.size} is negative")
        if resource.digest is not None and not _SHA1.match(resource.digest.strip()):
            out.add("resource-digest", f"{where}/digest", "not a SHA-1 hex digest")
        if resource.deref_uri is not None and not _is_base64(resource.deref_uri):
            out.add("resource-deref", f"{where}/derefUri", "not base-64 encoded data")


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode("".join(text.split()), validate=True)
    except ValueError:
        return False
    return True


def info_findings(alert: Alert, info: Info, path: str, out: Findings) -> None:
    """Rules of one info block: area geometry, resources, texts and times."""
    _text_findings(info, path, out)
    _time_findings(alert, info, path, out)
    for number, area in enumerate(info.areas, 1):
        where = f"{path}/area[{number}]"
        area_findings(area, where, out)
        if any(not g.name.strip() or not g.value.strip() for g in area.geocodes):
            out.add("geocode-empty", f"{where}/geocode", "geocode with empty valueName or value")
    _resource_findings(info, path, out)
    if info.web is not None and not _ABSOLUTE_URI.match(info.web.strip()):
        out.add("web-uri", f"{path}/web", "web is not an absolute URI")


def spacing_findings(root: etree._Element, out: Findings) -> None:
    """Warn where a polygon or circle writes `lat, lon` with spaces (the reader accepts it)."""
    prefix = root.tag.partition("}")[0] + "}"
    for i, info in enumerate(root.iterchildren(prefix + "info"), 1):
        for a, area in enumerate(info.iterchildren(prefix + "area"), 1):
            for kind in ("polygon", "circle"):
                for n, element in enumerate(area.iterchildren(prefix + kind), 1):
                    if _SPACED_COMMA.search(element.text or ""):
                        out.add(
                            "coordinate-spacing",
                            f"/alert/info[{i}]/area[{a}]/{kind}[{n}]",
                            "whitespace around the comma of a lat,lon pair",
                        )


def alert_findings(alert: Alert, raw_references: str | None, version: str) -> Findings:
    """All rules beyond the schema for one decoded message; `raw_references` is the text of its
    `references` element as written (None when absent)."""
    out = Findings()
    identity_findings(alert, out)
    reference_findings(alert, raw_references, version, out)
    scope_findings(alert, out)
    if version != "1.2":
        out.add(
            "old-version",
            "/alert",
            f"CAP {version} message: accepted for import; bolo writes CAP 1.2",
        )
    for number, info in enumerate(alert.infos, 1):
        info_findings(alert, info, f"/alert/info[{number}]", out)
    return out
