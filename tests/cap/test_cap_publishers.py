"""Habits of real publishers' CAP: extension elements, legacy encodings, HTML error pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from bolo.alerts.external import DatabaseImportStore, ExternalAlert
from bolo.cap.cli import app as cap_app
from bolo.cap.codec import decode, encode
from bolo.cap.errors import CapRefused
from bolo.cap.imports import Decision, import_message
from bolo.cap.model import CAP10_NS
from bolo.cap.validate import validate
from bolo.cap.xmlsafe import parse_xml, xml_text
from bolo.cli import app
from bolo.store.db import session_scope
from tests.cap.factories import make_alert

HEADLINE = "[행정안전부] 실종아동 찾습니다 気象警報 Ñ"


def _declared(encoding: str, codec: str, bom: bytes = b"", headline: str = HEADLINE) -> bytes:
    """The factory alert with `headline`, written in `codec` and declaring `encoding`."""
    alert = make_alert()
    alert.infos[0].headline = headline
    text = encode(alert).decode("utf-8").replace("encoding='UTF-8'", f"encoding='{encoding}'")
    return bom + text.encode(codec)


@pytest.mark.parametrize(
    ("encoding", "codec", "bom", "headline"),
    [
        ("UTF-16", "utf-16-le", b"\xff\xfe", HEADLINE),
        ("UTF-16", "utf-16-be", b"\xfe\xff", HEADLINE),
        ("UTF-8", "utf-8", b"\xef\xbb\xbf", HEADLINE),
        ("ISO-8859-1", "latin-1", b"", "Bagyong Kristine Ñ"),
        ("EUC-KR", "euc-kr", b"", "실종아동 찾습니다"),
        ("Shift_JIS", "shift_jis", b"", "気象警報・注意報"),
    ],
)
def test_xml_text_reads_the_document_in_its_own_encoding(
    encoding: str, codec: str, bom: bytes, headline: str
) -> None:
    data = _declared(encoding, codec, bom, headline)
    assert decode(data).infos[0].headline == headline
    assert decode(xml_text(data).encode("utf-8")).infos[0].headline == headline


def test_a_utf16_message_is_stored_readable(sqlite_engine: Engine) -> None:
    data = _declared("UTF-16", "utf-16-le", b"\xff\xfe")
    alert = decode(data)
    assert import_message(alert, data, store=DatabaseImportStore()).decision == Decision.NEW
    with session_scope() as db:
        row = db.execute(select(ExternalAlert)).scalar_one()
        stored = decode(row.xml.encode("utf-8"))
    assert stored.infos[0].headline == HEADLINE
    assert stored.infos[0].areas == alert.infos[0].areas


def test_an_extension_element_with_its_own_prefix_is_a_schema_finding() -> None:
    xml = encode(make_alert()).replace(
        b"</description>", b'</description><ext:foo xmlns:ext="urn:example:ext">x</ext:foo>'
    )
    result = validate(xml)
    assert not result.ok
    assert [f.rule for f in result.findings] == ["schema"]
    assert result.findings[0].path == "/alert/info[1]/foo"


@pytest.mark.parametrize(
    "page",
    [
        b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>",
        b'<!doctype HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"><html></html>',
    ],
)
def test_an_html_error_page_is_named_as_such(page: bytes) -> None:
    with pytest.raises(CapRefused) as refused:
        parse_xml(page)
    assert refused.value.rule == "not-cap"
    assert "HTML page" in refused.value.reason


def test_an_html_doctype_with_entities_is_still_a_dtd() -> None:
    page = b'<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html>&x;</html>'
    with pytest.raises(CapRefused) as refused:
        parse_xml(page)
    assert refused.value.rule == "dtd"


def test_a_cap10_update_referencing_identifiers_alone_says_so() -> None:
    xml = (
        f'<alert xmlns="{CAP10_NS}"><identifier>NEW-2</identifier><sender>a@b.example</sender>'
        "<sent>2026-04-01T08:00:00+09:00</sent><status>Actual</status><msgType>Update</msgType>"
        "<scope>Public</scope><references>OLD-1</references></alert>"
    ).encode()
    result = validate(xml)
    assert result.version == "1.0"
    assert any("'OLD-1' name no sent time (CAP 1.0 form)" in e for e in result.errors)


def test_an_identifier_too_long_to_store_is_refused_without_a_write(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "long.xml"
    path.write_bytes(encode(make_alert(identifier="urn:oid:2.49.0.1.410." + "9" * 300)))
    result = CliRunner().invoke(app, ["cap", "import", str(path)])
    assert result.exit_code == 1
    assert "identifier longer than 255 characters" in result.output
    with session_scope() as db:
        assert db.execute(select(ExternalAlert)).first() is None


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_text_declaring_utf16_is_read_as_utf8(bom: bytes) -> None:
    data = bom + _declared("utf-16", "utf-8")
    assert validate(data).ok
    assert decode(data).infos[0].headline == HEADLINE
    assert decode(xml_text(data).encode("utf-8")).infos[0].headline == HEADLINE


def test_latin1_text_declaring_utf16_is_refused_plainly() -> None:
    data = _declared("UTF-16", "latin-1", headline="Bagyong Kristine Ñ")
    with pytest.raises(CapRefused, match="declares UTF-16 but is single-byte text"):
        decode(data)


def test_import_takes_a_size_limit_and_names_an_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bolo.cap.cli._import_store", None)  # a dry run
    alert = make_alert()
    alert.infos[0].description = "x" * 1_200_000  # e.g. a message with base-64 audio inline
    path = tmp_path / "big.xml"
    path.write_bytes(encode(alert))
    runner = CliRunner()
    assert "too large" in runner.invoke(cap_app, ["import", str(path)]).output
    result = runner.invoke(cap_app, ["import", str(path), "--max-bytes", "2000000"])
    assert result.exit_code == 0, result.output
    assert "new" in result.output
    result = runner.invoke(cap_app, ["import", str(tmp_path)])
    assert result.exit_code == 1
    assert "cannot read" in result.output
