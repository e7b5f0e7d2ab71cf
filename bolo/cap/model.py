"""A typed model of a CAP 1.2 message (OASIS Common Alerting Protocol, version 1.2).

Names follow the specification, in snake_case; lists replace the repeatable elements. Datetimes are
timezone-aware. Coordinates are WGS84 degrees, circle radii kilometres, altitude and ceiling feet
above mean sea level (as CAP defines them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11_NS = "urn:oasis:names:tc:emergency:cap:1.1"
CAP10_NS = "http://www.incident.com/cap/1.0"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


class Status(StrEnum):
    """`alert/status`: the handling code of the message."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(StrEnum):
    """`alert/msgType`: the nature of the message."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class Scope(StrEnum):
    """`alert/scope`: who may see the message."""

    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    PRIVATE = "Private"


class Category(StrEnum):
    """`info/category`."""

    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class ResponseType(StrEnum):
    """`info/responseType`: the action recommended to the audience."""

    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class Urgency(StrEnum):
    """`info/urgency`."""

    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    """`info/severity`."""

    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    """`info/certainty` (CAP 1.2 values; 1.0's "Very Likely" is read as Likely on import)."""

    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


@dataclass(kw_only=True, slots=True)
class ValuePair:
    """A `valueName`/`value` pair (eventCode, parameter, geocode)."""

    name: str
    value: str


@dataclass(kw_only=True, slots=True)
class Reference:
    """One `sender,identifier,sent` triplet of `alert/references`."""

    sender: str
    identifier: str
    sent: datetime

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The (sender, identifier, sent) key that names one CAP message."""
        return (self.sender, self.identifier, self.sent)


@dataclass(kw_only=True, slots=True)
class Resource:
    """`info/resource`: a file that supplements the info; size in bytes."""

    description: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(kw_only=True, slots=True)
class Circle:
    """`area/circle`: centre in WGS84 degrees, radius in kilometres."""

    lat: float
    lon: float
    radius_km: float


@dataclass(kw_only=True, slots=True)
class Area:
    """`info/area`. Polygons are lists of (lat, lon) WGS84 pairs; altitude and ceiling in feet."""

    description: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    circles: list[Circle] = field(default_factory=list)
    geocodes: list[ValuePair] = field(default_factory=list)
    altitude: float | None = None
    ceiling: float | None = None


@dataclass(kw_only=True, slots=True)
class Info:
    """`alert/info`: the event, its urgency, severity and certainty, and where it applies."""

    language: str = "en-US"
    categories: list[Category]
    event: str
    response_types: list[ResponseType] = field(default_factory=list)
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    audience: str | None = None
    event_codes: list[ValuePair] = field(default_factory=list)
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: list[ValuePair] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)


@dataclass(kw_only=True, slots=True)
class Alert:
    """`alert`: one CAP message, named by (sender, identifier, sent)."""

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: list[str] = field(default_factory=list)
    note: str | None = None
    references: list[Reference] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    infos: list[Info] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The (sender, identifier, sent) key that names this message."""
        return (self.sender, self.identifier, self.sent)
