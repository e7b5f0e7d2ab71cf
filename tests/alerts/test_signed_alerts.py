"""With a key configured, every issued version is signed, and the approval covers the signature."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from bolo.alerts import service, takedown
from bolo.cap.errors import SignatureError
from bolo.cap.signing import verify
from bolo.settings import reset_settings
from bolo.store.db import session_scope
from tests.alerts.factories import ATTESTED, a_case, draft, staff


def _write_key_and_cert(folder: Path) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bolo-alerts")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .sign(key, hashes.SHA256())
    )
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


def test_issued_versions_are_signed_and_verify(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = _write_key_and_cert(tmp_path)
    monkeypatch.setenv("BOLO_CAP_SIGNING_KEY", str(tmp_path / "key.pem"))
    monkeypatch.setenv("BOLO_CAP_SIGNING_CERT", str(tmp_path / "cert.pem"))
    reset_settings()
    with session_scope(sqlite_engine) as db:
        coord, approver = staff(db)
        v = service.draft_alert(db, case_id=a_case(db, coord).id, data=draft([]), author=coord)
        service.submit_for_approval(db, version_id=v.id, author=coord, attestation=ATTESTED)
        service.approve(db, version_id=v.id, sha256=v.sha256, approver=approver)
        takedown.cancel_alert(db, alert_id=v.alert_id, reason="Found.", actor=coord)
        versions = service.versions_of(db, alert_id=v.alert_id)
    for version in versions:
        verified = verify(version.cap_xml.encode(), cert=cert)
        assert verified.alert.identifier == version.identifier
    tampered = versions[0].cap_xml.replace("Songchon", "Songchen").encode()
    with pytest.raises(SignatureError):
        verify(tampered, cert=cert)
    reset_settings()
