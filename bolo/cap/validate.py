"""Validate a CAP message: hardened parse, schema of its version, rules, signature, profile."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree

from bolo.cap.edxl import unwrap
from bolo.cap.errors import CapRefused, SignatureError
from bolo.cap.findings import Finding, Findings, Level
from bolo.cap.model import DSIG_NS, Alert
from bolo.cap.profiles import PROFILES, Profile
from bolo.cap.reader import alert_from_element, cap_version, read_alert
from bolo.cap.rules import alert_findings, spacing_findings
from bolo.cap.schema import element_schema_errors
from bolo.cap.signing import certificate_of, verify_element
from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES, parse_xml


@dataclass(kw_only=True, slots=True)
class ValidationResult:
    """What `validate` found. `ok` is True when no finding is an error (warnings allowed)."""

    findings: list[Finding] = field(default_factory=list)
    version: str | None = None
    alert: Alert | None = None

    @property
    def errors(self) -> list[str]:
        """The errors, as `path: message` lines."""
        return [str(f) for f in self.findings if f.level is Level.ERROR]

    @property
    def warnings(self) -> list[str]:
        """The warnings, as `path: message` lines."""
        return [str(f) for f in self.findings if f.level is Level.WARNING]

    @property
    def ok(self) -> bool:
        """True when the message is valid (it may still carry warnings)."""
        return all(f.level is not Level.ERROR for f in self.findings)

    def strict(self) -> ValidationResult:
        """The same result with every warning turned into an error (`--strict`)."""
        return replace(self, findings=[replace(f, level=Level.ERROR) for f in self.findings])

    def as_json(self) -> dict[str, Any]:
        """`{"valid", "errors": [...], "warnings": [...]}`, each finding as path, rule, message."""
        return {
            "valid": self.ok,
            "errors": [f.as_dict() for f in self.findings if f.level is Level.ERROR],
            "warnings": [f.as_dict() for f in self.findings if f.level is Level.WARNING],
        }


_DS = f"{{{DSIG_NS}}}"


def _refused(exc: CapRefused, version: str | None = None) -> ValidationResult:
    return ValidationResult(
        findings=[Finding(Level.ERROR, "/alert" if version else "", exc.rule, exc.reason)],
        version=version,
    )


def signature_findings(root: etree._Element, out: Findings) -> None:
    """A message that carries a signature must verify against the certificate it embeds.

    This is integrity, not trust (anyone can embed a certificate): it refuses a changed signed
    message or a wrapped one. The certificate's dates are not checked here (old real messages
    carry expired ones); `verify` with a pinned certificate is what trusts a sender.
    """
    if root.find(f"{_DS}Signature") is None:  # the schema allows it nowhere else
        return
    try:
        cert = certificate_of(root)
    except SignatureError as exc:
        out.add("signature-unchecked", "/alert/Signature", exc.reason)
        return
    try:
        verify_element(root, cert=cert, now=cert.not_valid_before_utc, allow_sha1=True)
    except SignatureError as exc:
        out.add("signature", "/alert/Signature", exc.reason)
        return
    method = root.find(f"{_DS}Signature/{_DS}SignedInfo/{_DS}SignatureMethod")
    if method is not None and "sha1" in (method.get("Algorithm") or "").lower():
        out.add("signature-weak", "/alert/Signature", "signed with SHA-1")


def validate(
    xml: bytes, *, profile: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ValidationResult:
    """Validate one CAP message and say why it is invalid.

    Steps: hardened parse (refusals are errors; the CAP alert of an EDXL-DE distribution is
    validated in its place, see `edxl.unwrap`), the schema of the message's own version (1.2;
    1.1 and 1.0 for import), decoding, the rules beyond the schema, an embedded signature's
    integrity, then the profile (`ipaws` or `google`) when given. An unknown profile raises
    ValueError. Never raises for bad input.
    """
    chosen = Profile(profile) if profile is not None else None
    try:
        root = parse_xml(unwrap(xml, max_bytes=max_bytes), max_bytes=max_bytes)
        version = cap_version(root)
    except CapRefused as exc:
        return _refused(exc)
    schema = element_schema_errors(root, version)
    if schema:
        # The decoder names a missing or malformed element more plainly than the schema does.
        try:
            alert_from_element(root)
        except CapRefused as exc:
            schema.insert(0, Finding(Level.ERROR, "/alert", exc.rule, exc.reason))
        return ValidationResult(findings=schema, version=version)
    try:
        alert, references = read_alert(root)
    except CapRefused as exc:
        return _refused(exc, version)
    out = alert_findings(alert, references, version)
    spacing_findings(root, out)
    signature_findings(root, out)
    if chosen is Profile.IPAWS and version == "1.2":
        out.items += element_schema_errors(root, "ipaws", "ipaws-schema")
    if chosen is not None:
        PROFILES[chosen](alert, root, out)
    return ValidationResult(findings=out.items, version=version, alert=alert)
