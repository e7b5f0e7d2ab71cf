"""Enveloped XML-DSig: signing, verification against a pinned certificate, and the rejections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml import XMLSigner  # type: ignore[attr-defined]

from bolo.cap.codec import decode, encode
from bolo.cap.errors import SignatureError
from bolo.cap.schema import schema_errors
from bolo.cap.signing import (
    embedded_certificate,
    expiry_warning,
    sign,
    sign_own_alert,
    verify,
)
from tests.cap.factories import cert_pem, key_pem, make_alert, make_cert, make_key

DS = "{http://www.w3.org/2000/09/xmldsig#}"
KEY = make_key("rsa")
CERT = make_cert(KEY)


def _signed(alert_xml: bytes | None = None) -> bytes:
    return sign(alert_xml or encode(make_alert()), key_pem=key_pem(KEY), cert_pem=cert_pem(CERT))


SIGNED = _signed()


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_sign_then_verify_returns_the_signed_alert(kind: str) -> None:
    key = make_key(kind)
    cert = make_cert(key)
    signed = sign(encode(make_alert()), key_pem=key_pem(key), cert_pem=cert_pem(cert))
    assert schema_errors(signed) == []
    assert b"xml-exc-c14n#" in signed
    assert (b"rsa-sha256" if kind == "rsa" else b"ecdsa-sha256") in signed
    verified = verify(signed, cert=cert)
    assert verified.alert == make_alert()
    assert verified.signer == "CN=bolo-test"


def test_rejects_a_flipped_byte() -> None:
    signed = _signed()
    tampered = signed.replace(b"Call 112", b"Call 113")
    assert tampered != signed
    with pytest.raises(SignatureError, match="does not verify"):
        verify(tampered, cert=CERT)


def test_rejects_a_missing_signature() -> None:
    with pytest.raises(SignatureError, match="missing signature"):
        verify(encode(make_alert()), cert=CERT)


def test_rejects_a_wrong_signer() -> None:
    other = make_key("rsa")
    impostor = sign(
        encode(make_alert()),
        key_pem=key_pem(other),
        cert_pem=cert_pem(make_cert(other, name="bolo-test")),
    )
    with pytest.raises(SignatureError, match="does not verify"):
        verify(impostor, cert=CERT)


def test_rejects_an_expired_certificate() -> None:
    now = datetime.now(UTC)
    old = make_cert(KEY, not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    signed = sign(encode(make_alert()), key_pem=key_pem(KEY), cert_pem=cert_pem(old))
    with pytest.raises(SignatureError, match="certificate expired"):
        verify(signed, cert=old)
    assert verify(signed, cert=old, now=now - timedelta(days=2)).alert == make_alert()


def test_rejects_signature_wrapping_with_the_original_moved_aside() -> None:
    signed = etree.fromstring(_signed())
    evil = etree.fromstring(encode(make_alert(identifier="evil-1")))
    signature = signed[-1]
    obj = etree.SubElement(signature, DS + "Object")
    signed.remove(signature)
    obj.append(signed)  # the genuine alert travels inside the signature
    evil.append(signature)
    with pytest.raises(SignatureError):
        verify(etree.tostring(evil), cert=CERT)


def test_rejects_signature_wrapping_by_id_reference() -> None:
    genuine = etree.fromstring(encode(make_alert()))
    genuine.set("Id", "a1")
    signed = XMLSigner().sign(
        genuine, key=KEY, cert=cert_pem(CERT).decode(), reference_uri="#a1", id_attribute="Id"
    )
    evil = etree.fromstring(encode(make_alert(identifier="evil-1")))
    signature = signed.find(DS + "Signature")
    assert signature is not None
    signed.remove(signature)
    etree.SubElement(signature, DS + "Object").append(signed)
    evil.append(signature)
    with pytest.raises(SignatureError, match="URI"):
        verify(etree.tostring(evil), cert=CERT)


def test_the_signed_ipaws_example(shared_dir: Path) -> None:
    path = shared_dir / "cap" / "examples" / "valid" / "ipaws-5e6dd964023f1930ef638846.xml"
    data = path.read_bytes()
    cert = embedded_certificate(data)
    verified = verify(data, cert=cert, now=datetime(2019, 1, 4, 18, 33, tzinfo=UTC))
    assert verified.alert == decode(data)
    assert "IPAWSOPEN_200124" in verified.signer
    with pytest.raises(SignatureError) as refused:
        verify(data, cert=cert)
    assert refused.value.reason.startswith("certificate expired on 2020-03-13")
    assert "signature itself is intact" in refused.value.reason
    with pytest.raises(SignatureError, match="does not verify"):
        verify(
            data.replace(b"ADR Test Message", b"ADR Test Massage"),
            cert=cert,
            now=datetime(2019, 1, 4, 18, 33, tzinfo=UTC),
        )


def test_expiry_warning_30_days_ahead() -> None:
    now = datetime.now(UTC)
    soon = make_cert(KEY, not_after=now + timedelta(days=20))
    assert expiry_warning(CERT, now=now) is None
    warning = expiry_warning(soon, now=now)
    assert warning is not None
    assert "in 19 days" in warning or "in 20 days" in warning
    assert "expired" in str(expiry_warning(soon, now=now + timedelta(days=21)))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_change_to_the_signed_alert_is_a_signature_error(data: st.DataObject) -> None:
    # Only the alert's own bytes: KeyInfo is not signed (the signer is pinned instead), and
    # whitespace inside the signature's tags is removed by canonicalisation.
    # Distinct positions: two shifts of one byte could add up to no change at all (1 + 255).
    signed = bytearray(SIGNED)
    start, end = signed.index(b"<identifier>"), signed.index(b"<ds:Signature")
    positions = data.draw(
        st.lists(st.integers(start, end - 1), min_size=1, max_size=3, unique=True)
    )
    for position in positions:
        shift = data.draw(st.integers(1, 255))
        signed[position] = (signed[position] + shift) % 256  # always a different byte
    assert bytes(signed) != SIGNED
    with pytest.raises(SignatureError):
        verify(bytes(signed), cert=CERT)


def test_sign_own_alert_signs_when_configured_and_warns_before_expiry() -> None:
    xml = encode(make_alert())
    now = datetime.now(UTC)
    assert sign_own_alert(xml, key_pem=None, cert_pem=None, now=now) == (xml, [])
    signed, warnings = sign_own_alert(xml, key_pem=key_pem(KEY), cert_pem=cert_pem(CERT), now=now)
    assert warnings == []
    assert verify(signed, cert=CERT).alert == make_alert()
    soon = make_cert(KEY, not_after=now + timedelta(days=10))
    signed, warnings = sign_own_alert(xml, key_pem=key_pem(KEY), cert_pem=cert_pem(soon), now=now)
    assert verify(signed, cert=soon).alert == make_alert()
    assert len(warnings) == 1 and "renew" in warnings[0]
    later = now + timedelta(days=11)
    unsigned, warnings = sign_own_alert(
        xml, key_pem=key_pem(KEY), cert_pem=cert_pem(soon), now=later
    )
    assert unsigned == xml
    assert "unsigned" in warnings[0]
