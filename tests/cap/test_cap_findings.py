"""Errors and warnings as real feeds and hostile senders produce them, message by message.

Each test writes the XML a feed would send (not bolo's encoder), so the habits are those of the
wire: empty elements, CAP 1.1, `-00:00`, spaced coordinates, several infos, signatures.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner  # type: ignore[attr-defined]

from bolo.cap.codec import encode
from bolo.cap.findings import RULES, Level
from bolo.cap.signing import sign
from bolo.cap.validate import validate
from tests.cap.factories import cert_pem, key_pem, make_alert, make_cert, make_key

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cap.md"
NS12 = "urn:oasis:names:tc:emergency:cap:1.2"


def _message(
    *,
    ns: str = NS12,
    head: str = "",
    msg_type: str = "Alert",
    scope: str = "Public",
    sent: str = "2026-04-01T08:00:00-00:00",
    infos: str | None = None,
) -> bytes:
    area = (
        "<area><areaDesc>North County</areaDesc><geocode><valueName>SAME</valueName>"
        "<value>006001</value></geocode></area>"
    )
    info = (
        "<info><category>Rescue</category><event>Child Abduction</event>"
        "<urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>"
        f"<headline>AMBER alert</headline>{area}</info>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="{ns}">'
        f"<identifier>ID-1</identifier><sender>agency@example.org</sender><sent>{sent}</sent>"
        f"<status>Actual</status><msgType>{msg_type}</msgType><scope>{scope}</scope>"
        f"{head}{info if infos is None else infos}</alert>"
    ).encode()


def _rules(xml: bytes) -> dict[str, str]:
    return {f.rule: f.level for f in validate(xml).findings}


def test_addresses_with_public_scope_is_fine() -> None:
    result = validate(_message(head="<addresses>county-eoc state-eoc</addresses>"))
    assert result.ok and result.findings == []


def test_empty_references_and_addresses_on_an_alert_are_warnings() -> None:
    xml = _message(head="<addresses/><references/>")
    result = validate(xml)
    assert result.ok, result.errors
    assert _rules(xml) == {"empty-element": Level.WARNING, "references-empty": Level.WARNING}


@pytest.mark.parametrize("msg_type", ["Update", "Cancel", "Ack", "Error"])
def test_empty_references_on_an_update_or_cancel_is_an_error(msg_type: str) -> None:
    result = validate(_message(msg_type=msg_type, head="<references/>"))
    assert not result.ok
    assert [f.rule for f in result.findings] == ["references-missing"]
    assert result.findings[0].path == "/alert/references"


def test_empty_polygon_beside_a_geocode_is_a_warning_as_the_only_geometry_an_error() -> None:
    beside = _message().replace(b"<geocode>", b"<polygon></polygon><geocode>")
    assert _rules(beside) == {"polygon-empty": Level.WARNING}
    alone = beside.replace(
        b"<geocode><valueName>SAME</valueName><value>006001</value></geocode>", b""
    )
    assert _rules(alone) == {"polygon-points": Level.ERROR}


def test_utc_as_minus_zero_and_several_infos_and_cap_11_are_accepted() -> None:
    two = _message().split(b"<info>", 1)[1].split(b"</alert>")[0]
    xml = _message(
        infos="<info>"
        + two.decode()
        + "<info>"
        + two.decode().replace("AMBER alert", "Alerte AMBER")
    )
    assert validate(xml).ok and validate(xml).findings == []
    old = _message(ns="urn:oasis:names:tc:emergency:cap:1.1", sent="2026-04-01T08:00:00Z")
    result = validate(old)
    assert result.ok, result.errors
    assert _rules(old) == {"old-version": Level.WARNING}


def test_odd_whitespace_is_read_with_a_warning() -> None:
    polygon = "<polygon>\n  39.0, 126.0 39.0,127.0\t40.0 ,127.0\n 39.0,126.0  </polygon>"
    xml = _message().replace(b"<geocode>", polygon.encode() + b"<geocode>")
    xml = xml.replace(b"<identifier>ID-1</identifier>", b"<identifier>\n  ID-1\n</identifier>")
    result = validate(xml)
    assert result.ok, result.errors
    assert _rules(xml) == {"coordinate-spacing": Level.WARNING, "identifier-padding": Level.WARNING}
    assert result.alert is not None
    assert result.alert.infos[0].areas[0].polygons[0][0] == (39.0, 126.0)


def test_broken_values_are_errors() -> None:
    cases = {
        b"<sent>2026-04-01T08:00:00-00:00</sent>": (b"<sent>2026-04-01T08:00:00</sent>", "schema"),
        b"<identifier>ID-1</identifier>": (b"<identifier>ID 1</identifier>", "identifier-chars"),
        b"<scope>Public</scope>": (
            b"<scope>Public</scope><restriction>x</restriction>",
            "restriction-scope",
        ),
    }
    for old, (new, rule) in cases.items():
        result = validate(_message().replace(old, new))
        assert not result.ok and rule in {f.rule for f in result.findings}, (rule, result.errors)
    private = validate(_message(scope="Private"))
    assert [f.rule for f in private.findings] == ["addresses-private"]
    unreadable_ref = validate(_message(msg_type="Update", head="<references>a,b</references>"))
    assert not unreadable_ref.ok and "malformed references" in unreadable_ref.errors[0]


def test_deref_uri_must_be_base64() -> None:
    resource = (
        "<resource><resourceDesc>photo</resourceDesc><mimeType>image/jpeg</mimeType>"
        "<derefUri>{}</derefUri></resource><area>"
    )
    good = _message().replace(b"<area>", resource.format("/9j/4A\n AQ==").encode())
    assert validate(good).ok
    bad = _message().replace(b"<area>", resource.format("not base64!").encode())
    assert [f.rule for f in validate(bad).findings] == ["resource-deref"]


def test_hostile_documents_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&lol2;</alert>'
    )
    assert _rules(laughs) == {"dtd": Level.ERROR}
    huge = _message().replace(b"AMBER alert", b"A" * 2_000_000)
    assert _rules(huge) == {"too-large": Level.ERROR}
    deep = _message().replace(b"</alert>", b"<x>" * 40 + b"</x>" * 40 + b"</alert>")
    assert _rules(deep) == {"too-deep": Level.ERROR}
    assert _rules(b"<rss/>") == {"not-cap": Level.ERROR}
    assert _rules(b"<alert") == {"not-well-formed": Level.ERROR}


def test_a_signature_must_verify_against_its_own_certificate() -> None:
    key = make_key()
    signed = sign(encode(make_alert()), key_pem=key_pem(key), cert_pem=cert_pem(make_cert(key)))
    assert validate(signed).findings == []
    tampered = signed.replace(b"A child was taken", b"A child was seen")
    assert [(f.rule, f.path) for f in validate(tampered).findings] == [
        ("signature", "/alert/Signature")
    ]
    unsigned_body = re.sub(rb"<ds:X509Data>.*</ds:X509Data>", b"", signed, flags=re.DOTALL)
    assert _rules(unsigned_body) == {"signature-unchecked": Level.WARNING}


def test_every_rule_has_a_severity_and_is_documented_with_its_source() -> None:
    docs = DOCS.read_text()
    for rule, (level, source) in RULES.items():
        assert level in (Level.ERROR, Level.WARNING) and source
        assert f"`{rule}`" in docs, f"docs/cap.md does not describe rule {rule}"


class _OldSigner(XMLSigner):
    """Signs with SHA-1, as older real senders did (signxml refuses it by default)."""

    def check_deprecated_methods(self) -> None:
        return None


def test_a_sha1_signature_is_checked_and_only_warned_about() -> None:
    key = make_key()
    signer = _OldSigner(
        signature_algorithm=SignatureMethod.RSA_SHA1, digest_algorithm=DigestAlgorithm.SHA1
    )
    root = etree.fromstring(encode(make_alert()))
    signed = etree.tostring(signer.sign(root, key=key, cert=cert_pem(make_cert(key)).decode()))
    assert _rules(signed) == {"signature-weak": Level.WARNING}
    tampered = signed.replace(b"A child was taken", b"A child was seen")
    assert _rules(tampered) == {"signature": Level.ERROR}
