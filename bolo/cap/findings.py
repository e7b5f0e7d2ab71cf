"""What validation finds: each rule has one severity, declared once in `RULES` with its source.

An error means the message cannot be used (it breaks the schema or a MUST of the CAP 1.2 text, its
times or references cannot be read, or it is hostile); a warning is a habit of real feeds that a
consumer can live with (empty optional elements, odd but readable values, SHOULDs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    """How bad a finding is."""

    ERROR = "error"
    WARNING = "warning"


E, W = Level.ERROR, Level.WARNING

# rule id -> (severity, where the rule comes from). "§" means a section of OASIS CAP 1.2.
RULES: dict[str, tuple[Level, str]] = {
    # Reading the document (hostile input is refused here, before any rule runs).
    "unreadable": (E, "the file or stream could not be read"),
    "too-large": (E, "bolo hardening: 1 MiB by default"),
    "too-deep": (E, "bolo hardening: 32 nested elements"),
    "dtd": (E, "bolo hardening: no DTD, entity, XInclude or external load (XXE, billion laughs)"),
    "not-well-formed": (E, "XML 1.0"),
    "not-cap": (E, "§3.1: the alert element in a CAP namespace"),
    "schema": (E, "§3.4: the CAP XML schema of the message's version"),
    "decode": (E, "§3.2.1-3.2.4: REQUIRED elements, enumerated values, §3.3.2 times"),
    "old-version": (W, "CAP 1.0/1.1: read for import; bolo writes 1.2"),
    # §3.2.1 alert
    "identifier-chars": (E, "§3.2.1 identifier, sender: MUST NOT include spaces, commas or < &"),
    "identifier-padding": (W, "§3.2.1: whitespace around identifier or sender (read trimmed)"),
    "references-missing": (
        E,
        "§3.2.1 msgType: Update, Cancel, Ack and Error reference earlier "
        "messages; an empty list leaves nothing to apply them to",
    ),
    "references-empty": (W, "§3.2.1 references is optional: empty on an Alert says nothing"),
    "references-time": (W, "§3.3.2: a referenced sent time not in the 1.2 form (still readable)"),
    "references-self": (E, "§3.2.1 references: earlier messages, never the message itself"),
    "references-repeated": (W, "§3.2.1 references: a message listed twice"),
    "restriction-scope": (E, "§3.2.1 restriction: used when scope is Restricted"),
    "restriction-missing": (W, "§3.2.1 restriction: expected with scope Restricted"),
    "addresses-private": (E, "§3.2.1 addresses: required when scope is Private"),
    "empty-element": (W, "§3.2: an optional element present but empty"),
    # §3.2.2 info
    "html": (W, "§3.3.3: character entity references (HTML) are discouraged; texts are plain"),
    "headline-length": (W, "§3.2.2 headline: 160 characters MAY be a useful target limit"),
    "expires-order": (W, "§3.2.2 expires: before sent, effective or onset"),
    "web-uri": (W, "§3.2.2 web: a full, absolute URI"),
    # §3.2.3 resource
    "resource-size": (E, "§3.2.3 size: approximate size in bytes (not negative)"),
    "resource-digest": (W, "§3.2.3 digest: a SHA-1 hash (40 hex digits)"),
    "resource-deref": (E, "§3.2.3 derefUri: base-64 encoded content"),
    # §3.2.4 area, §3.3.1 WGS 84
    "polygon-points": (E, "§3.2.4 polygon: a minimum of 4 coordinate pairs MUST be present"),
    "polygon-empty": (W, "§3.2.4 polygon is optional: empty beside another geometry of the area"),
    "polygon-closed": (E, "§3.2.4 polygon: first and last pairs MUST be the same"),
    "polygon-range": (E, "§3.3.1: WGS 84 latitude -90..90, longitude -180..180"),
    "polygon-simple": (
        E,
        "§3.2.4 polygon: a closed ring bounding an area (google/cap-library "
        "refuses self-intersecting rings)",
    ),
    "coordinate-spacing": (W, "§3.2.4: pairs are lat,lon without spaces (read leniently)"),
    "circle-range": (E, "§3.2.4 circle, §3.3.1: centre in WGS 84 range"),
    "circle-radius": (E, "§3.2.4 circle: a radius in kilometres (not negative)"),
    "circle-zero": (W, "§3.2.4 circle: radius 0 covers a point only"),
    "ceiling-altitude": (E, "§3.2.4 ceiling: MAY only be used with altitude"),
    "altitude-order": (E, "§3.2.4 altitude, ceiling: altitude is the lower limit"),
    "geocode-empty": (W, "§3.2.4 geocode: valueName and value"),
    # §3.3.4.1 digital signatures
    "signature": (
        E,
        "§3.3.4.1: an enveloped XML signature that does not verify against its own "
        "certificate (a changed message or a wrapping attack)",
    ),
    "signature-weak": (W, "§3.3.4.1 (XML-DSig): SHA-1 is obsolete; integrity checked anyway"),
    "signature-unchecked": (W, "§3.3.4.1: a signature without a certificate to check it with"),
    # Profiles (`--profile`, BOLO_CAP_PROFILE): CAP 1.2 IPAWS USA Profile v1.0 (§2, §3),
    # Google Public Alerts CAP requirements.
    "profile-same-sets": (
        E,
        "IPAWS §3.2 / Google: every info has the same categories and event codes",
    ),
    "ipaws-schema": (
        E,
        "IPAWS profile schema capv1.2-ipaws-profile-v1.0-pr02.xsd (OASIS): "
        "required code, info, eventCode, expires, area",
    ),
    "ipaws-code": (E, "IPAWS profile: <code>IPAWSv1.0</code>"),
    "ipaws-info": (E, "IPAWS profile: an Alert or Update carries info"),
    "ipaws-expires": (E, "IPAWS profile: expires in every info"),
    "ipaws-same": (E, "IPAWS profile: exactly one SAME eventCode of three letters"),
    "ipaws-area": (E, "IPAWS profile: at least one area"),
    "ipaws-cmam": (E, "IPAWS profile: CMAMtext <= 90, CMAMlongtext <= 360 characters"),
    "ipaws-recommended": (W, "IPAWS profile: description and instruction recommended"),
    "ipaws-ignored": (W, "IPAWS profile: effective and onset are ignored"),
    "ipaws-geocode": (W, "IPAWS profile: a 6-digit SAME geocode per area recommended"),
    "ipaws-unsigned": (W, "IPAWS: messages are signed"),
    "google-required": (E, "Google Public Alerts: info, description, web, expires and area"),
    "google-expires": (E, "Google Public Alerts: expires after effective (or sent)"),
    "google-geometry": (E, "Google Public Alerts: each area has a polygon, circle or geocode"),
    "google-recommended": (
        W,
        "Google Public Alerts: senderName, instruction, contact, "
        "responseType, a shape, distinct headline, known urgency",
    ),
    "google-test": (W, "Google Public Alerts: status Test is not shown"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing validation found: where (`path`, XPath-like), which `rule`, what (`message`)."""

    level: Level
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def as_dict(self) -> dict[str, str]:
        """The JSON form: path, rule, message."""
        return {"path": self.path, "rule": self.rule, "message": self.message}


@dataclass(slots=True)
class Findings:
    """A collector: `add` looks the rule's severity up in `RULES` (or takes it from `level`)."""

    items: list[Finding] = field(default_factory=list)

    def add(self, rule: str, path: str, message: str, level: Level | None = None) -> None:
        """Record one finding of `rule` at `path`."""
        self.items.append(Finding(level or RULES[rule][0], path, rule, message))

    def extend(self, other: Findings) -> None:
        """Append another collector's findings."""
        self.items += other.items
