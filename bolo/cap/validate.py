"""Validate a CAP message: hardened parse, schema of its version, rules, optional profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from bolo.cap.errors import CapRefused
from bolo.cap.model import Alert
from bolo.cap.profiles import PROFILES, Profile
from bolo.cap.reader import alert_from_element, cap_version, read_alert
from bolo.cap.rules import alert_findings
from bolo.cap.schema import element_schema_errors
from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES, parse_xml


@dataclass(kw_only=True, slots=True)
class ValidationResult:
    """What `validate` found. `ok` is True when there are no errors (warnings allowed)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: str | None = None
    alert: Alert | None = None

    @property
    def ok(self) -> bool:
        """True when the message is valid (it may still carry warnings)."""
        return not self.errors


def validate(
    xml: bytes, *, profile: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ValidationResult:
    """Validate one CAP message and say why it is invalid.

    Steps: hardened parse (refusals are errors), the schema of the message's own version (1.2;
    1.1 and 1.0 for import), decoding, the rules beyond the schema, then the profile (`ipaws` or
    `google`) when given. An unknown profile raises ValueError. Never raises for bad input.
    """
    chosen = Profile(profile) if profile is not None else None
    try:
        root = parse_xml(xml, max_bytes=max_bytes)
        version = cap_version(root)
    except CapRefused as exc:
        return ValidationResult(errors=[exc.reason])
    errors = element_schema_errors(root, version)
    if errors:
        # The decoder names a missing or malformed element more plainly than the schema does.
        try:
            alert_from_element(root)
        except CapRefused as exc:
            errors.insert(0, exc.reason)
        return ValidationResult(errors=errors, version=version)
    try:
        alert, references = read_alert(root)
    except CapRefused as exc:
        return ValidationResult(errors=[exc.reason], version=version)
    errors, warnings = alert_findings(alert, references, version)
    if chosen is not None:
        profile_errors, profile_warnings = PROFILES[chosen](alert, root)
        errors += profile_errors
        warnings += profile_warnings
    return ValidationResult(errors=errors, warnings=warnings, version=version, alert=alert)
