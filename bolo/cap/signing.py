"""Enveloped XML-DSig for CAP, as IPAWS uses it: RSA-SHA256 (or ECDSA), exclusive c14n, SHA-256.

`verify` pins the signer's certificate, accepts one enveloped reference to the whole document,
and returns the alert decoded from what was signed, never from the bytes as received.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from lxml import etree
from signxml import (  # type: ignore[attr-defined]
    CanonicalizationMethod,
    DigestAlgorithm,
    InvalidInput,
    InvalidSignature,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.verifier import VerifyResult

from bolo.cap.errors import CapRefused, SignatureError
from bolo.cap.model import DSIG_NS, Alert
from bolo.cap.reader import alert_from_element, cap_version
from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES, parse_xml

EXPIRY_WARNING_DAYS = 30
_ALLOWED_METHODS = frozenset(
    {
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
        SignatureMethod.RSA_SHA512,
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.ECDSA_SHA512,
    }
)
_ALLOWED_DIGESTS = frozenset(
    {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
)
# Older real messages are signed with SHA-1: readable for integrity checks, never for trust.
_SHA1_METHODS = frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.ECDSA_SHA1})


def _config(verification_time: datetime, allow_sha1: bool = False) -> SignatureConfiguration:
    return SignatureConfiguration(
        require_x509=True,
        location="./",  # the Signature must be a child of the alert root
        expect_references=1,
        signature_methods=_ALLOWED_METHODS | (_SHA1_METHODS if allow_sha1 else frozenset()),
        digest_algorithms=_ALLOWED_DIGESTS
        | ({DigestAlgorithm.SHA1} if allow_sha1 else frozenset()),
        ignore_ambiguous_key_info=True,  # we pin the certificate; KeyInfo is informational only
        verification_time=verification_time,
    )


_DS = "{" + DSIG_NS + "}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    """A verified message: the alert as signed, the signer's subject and certificate end."""

    alert: Alert
    signed_xml: bytes
    signer: str
    not_after: datetime


def load_certificate(pem_or_der: bytes) -> x509.Certificate:
    """Load an X.509 certificate from PEM or DER bytes (ValueError when neither)."""
    if b"-----BEGIN" in pem_or_der:
        return x509.load_pem_x509_certificate(pem_or_der)
    return x509.load_der_x509_certificate(pem_or_der)


def sign(xml: bytes, *, key_pem: bytes, cert_pem: bytes, passphrase: bytes | None = None) -> bytes:
    """Sign a CAP message: enveloped signature, last child of `alert`, exclusive c14n, SHA-256.

    The algorithm follows the key: RSA-SHA256 for RSA keys, ECDSA-SHA256 for EC keys. The signed
    document keeps validating against the CAP 1.2 schema.
    """
    key = load_pem_private_key(key_pem, password=passphrase)
    if isinstance(key, rsa.RSAPrivateKey):
        method = SignatureMethod.RSA_SHA256
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        method = SignatureMethod.ECDSA_SHA256
    else:
        raise ValueError("signing key must be RSA or EC")
    root = parse_xml(xml)
    signer = XMLSigner(
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(root, key=key, cert=cert_pem.decode("ascii"))
    result: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return result


def embedded_certificate(xml: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> x509.Certificate:
    """The first X509Certificate in the message's signature KeyInfo (SignatureError if none)."""
    try:
        root = parse_xml(xml, max_bytes=max_bytes)
    except CapRefused as exc:
        raise SignatureError(f"refused: {exc.reason}") from exc
    return certificate_of(root)


def certificate_of(root: etree._Element) -> x509.Certificate:
    """`embedded_certificate` of an already parsed `alert` element."""
    element = root.find(f"{_DS}Signature/{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    text = "" if element is None else (element.text or "")
    if not text.strip():
        raise SignatureError("no embedded X509Certificate in the signature")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    except ValueError as exc:
        raise SignatureError(f"embedded certificate unreadable: {exc}") from exc


def _check_shape(root: etree._Element) -> None:
    signatures = root.findall(f".//{_DS}Signature")
    if not signatures:
        raise SignatureError("missing signature")
    if len(signatures) != 1 or root[-1] is not signatures[0]:
        raise SignatureError("signature must be the single, last child of alert")
    references = signatures[0].findall(f"{_DS}SignedInfo/{_DS}Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureError('signature must have one Reference with URI="" (whole alert)')


def check_validity(cert: x509.Certificate, now: datetime) -> None:
    """Raise SignatureError when `cert` is expired or not yet valid at `now`."""
    if now > cert.not_valid_after_utc:
        raise SignatureError(
            f"certificate expired on {cert.not_valid_after_utc:%Y-%m-%d} "
            f"({cert.subject.rfc4514_string()})"
        )
    if now < cert.not_valid_before_utc:
        raise SignatureError(f"certificate not valid before {cert.not_valid_before_utc:%Y-%m-%d}")


def verify_element(
    root: etree._Element, *, cert: x509.Certificate, now: datetime, allow_sha1: bool = False
) -> VerifyResult:
    """The signature of a parsed `alert` checked against `cert`'s key, inside the certificate's
    validity window (dates are `verify`'s business): shape, algorithms, digest, signature."""
    _check_shape(root)
    # The mathematics is checked inside the certificate's validity window, so that an expired
    # certificate is reported as such (with the signature's own state) rather than as a bad one.
    inside = min(max(now, cert.not_valid_before_utc), cert.not_valid_after_utc)
    try:
        result = XMLVerifier().verify(
            root, x509_cert=cert, expect_config=_config(inside, allow_sha1)
        )
    except InvalidSignature as exc:
        raise SignatureError(f"signature does not verify: {exc}") from exc
    except (InvalidInput, ValueError, TypeError, etree.LxmlError) as exc:
        raise SignatureError(f"signature malformed: {exc}") from exc
    if not isinstance(result, VerifyResult):
        raise SignatureError("signature malformed: more than one verified reference")
    return result


def verify(
    xml: bytes,
    *,
    cert: x509.Certificate,
    now: datetime | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_sha1: bool = False,
) -> Verified:
    """Verify `xml` against the pinned signer certificate `cert`, valid at `now` (default: now).

    Rejects (SignatureError): a missing signature, any changed byte of the signed content, a
    different signer, an expired or not-yet-valid certificate, more than one reference or a
    reference to anything but the whole alert (signature wrapping), disallowed algorithms
    (SHA-1 only with `allow_sha1`, which integrity checks of old messages use).
    """
    try:
        root = parse_xml(xml, max_bytes=max_bytes)
        cap_version(root)
    except CapRefused as exc:
        raise SignatureError(f"refused: {exc.reason}") from exc
    now = now or datetime.now(UTC)
    result = verify_element(root, cert=cert, now=now, allow_sha1=allow_sha1)
    try:
        check_validity(cert, now)
    except SignatureError as exc:
        raise SignatureError(f"{exc.reason}; the signature itself is intact") from exc
    signed_root = result.signed_xml
    if signed_root is None or signed_root.tag != root.tag:
        raise SignatureError("signed content is not the alert")
    try:
        alert = alert_from_element(signed_root)
    except CapRefused as exc:
        raise SignatureError(f"signed alert unreadable: {exc.reason}") from exc
    return Verified(
        alert=alert,
        signed_xml=etree.tostring(signed_root, encoding="UTF-8"),
        signer=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
    )


def expiry_warning(
    cert: x509.Certificate, *, now: datetime, days: int = EXPIRY_WARNING_DAYS
) -> str | None:
    """A warning when `cert` expires within `days` days of `now` (or already has); else None."""
    remaining = cert.not_valid_after_utc - now
    if remaining < timedelta(0):
        return f"signing certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}"
    if remaining <= timedelta(days=days):
        return (
            f"signing certificate expires on {cert.not_valid_after_utc:%Y-%m-%d}, "
            f"in {remaining.days} days: renew it"
        )
    return None


def sign_own_alert(
    xml: bytes, *, key_pem: bytes | None, cert_pem: bytes | None, now: datetime
) -> tuple[bytes, list[str]]:
    """What bolo does with each alert it issues: sign it when a key and certificate are
    configured (else return it unchanged), and warn within 30 days of the certificate's end.

    Returns (xml to publish, warnings). An expired certificate is not used: the alert goes out
    unsigned with a warning, because a signature that fails verification helps no one.
    """
    if key_pem is None or cert_pem is None:
        return xml, []
    cert = load_certificate(cert_pem)
    warning = expiry_warning(cert, now=now)
    if now > cert.not_valid_after_utc:
        return xml, [f"{warning}; alert sent unsigned"]
    return sign(xml, key_pem=key_pem, cert_pem=cert_pem), [warning] if warning else []
