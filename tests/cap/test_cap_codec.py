"""Encoding and hardened decoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bolo.cap.codec import decode, encode, format_number
from bolo.cap.errors import CapRefused
from bolo.cap.schema import schema_errors
from bolo.cap.times import format_time
from tests.cap.factories import SENT, make_alert


def test_encode_writes_cap12_with_declaration_and_offsets() -> None:
    xml = encode(make_alert(sent=datetime(2026, 4, 1, 8, 0, 0, 123456, tzinfo=UTC)))
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b'xmlns="urn:oasis:names:tc:emergency:cap:1.2"' in xml
    assert b"<sent>2026-04-01T08:00:00+00:00</sent>" in xml
    assert schema_errors(xml) == []


def test_format_time_rejects_naive_and_handles_odd_offsets() -> None:
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))
    assert (
        format_time(datetime(2026, 1, 1, tzinfo=timezone(-timedelta(hours=3, minutes=30))))
        == "2026-01-01T00:00:00-03:30"
    )
    odd = timezone(timedelta(hours=8, minutes=27, seconds=52))
    assert format_time(datetime(2026, 1, 1, 12, 0, 0, tzinfo=odd)) == "2026-01-01T03:32:08+00:00"


def test_format_number_never_uses_exponents() -> None:
    for value in (1e-05, 1.5e16, -0.000123, 38.47, 0.0):
        text = format_number(value)
        assert "e" not in text.lower()
        assert float(text) == value


def test_decode_round_trips_the_factory_alert() -> None:
    alert = make_alert()
    assert decode(encode(alert)) == alert


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty document"),
        (b"<alert", "not well-formed at line 1"),
        (b"<?xml version='1.0'?>\n\n<alert><a></alert>", "not well-formed at line 3"),
        (b"<!DOCTYPE alert><alert/>", "DTD forbidden"),
        (b"<alert xmlns='urn:x'/>", "not a CAP alert"),
        (b"<a>&ent;</a>", "not well-formed at line 1"),
    ],
)
def test_decode_refusals_name_their_reason(data: bytes, reason: str) -> None:
    with pytest.raises(CapRefused) as refused:
        decode(data)
    assert refused.value.reason.startswith(reason)


def test_size_and_depth_limits() -> None:
    xml = encode(make_alert())
    with pytest.raises(CapRefused, match="too large"):
        decode(xml, max_bytes=len(xml) - 1)
    assert decode(xml, max_bytes=len(xml)) == make_alert()
    deep = b"<a>" * 40 + b"</a>" * 40
    with pytest.raises(CapRefused, match="too deep"):
        decode(deep)
    with pytest.raises(CapRefused, match="too deep"):
        decode(xml, max_depth=3)


def test_utf16_with_bom_is_read_and_its_doctype_still_refused() -> None:
    xml = encode(make_alert()).decode("utf-8").replace("encoding='UTF-8'", "encoding='UTF-16'")
    assert decode(b"\xff\xfe" + xml.encode("utf-16-le")) == make_alert()
    attack = "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>"
    with pytest.raises(CapRefused, match="DTD forbidden"):
        decode(b"\xff\xfe" + attack.encode("utf-16-le"))


def test_cap11_and_cap10_messages_decode() -> None:
    cap11 = encode(make_alert()).replace(b"cap:1.2", b"cap:1.1")
    assert decode(cap11).identifier == "bolo-2026-0001"
    cap10 = (
        b"<alert xmlns='http://www.incident.com/cap/1.0'><identifier>x1</identifier>"
        b"<sender>s</sender><password>p</password><sent>2003-06-17T14:57:00-07:00</sent>"
        b"<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>"
        b"<info><category>Met</category><event>Storm</event><urgency>Immediate</urgency>"
        b"<severity>Severe</severity><certainty>Very Likely</certainty>"
        b"<eventCode>SAME=SVR</eventCode><area><areaDesc>x</areaDesc>"
        b"<geocode>FIPS6=006109</geocode></area></info></alert>"
    )
    alert = decode(cap10)
    assert alert.infos[0].certainty == "Likely"
    assert alert.infos[0].event_codes[0].name == "SAME"
    assert alert.infos[0].areas[0].geocodes[0].value == "006109"
    assert alert.sent == SENT.replace(
        year=2003, month=6, day=17, hour=14, minute=57, tzinfo=timezone(-timedelta(hours=7))
    )


@pytest.mark.parametrize(
    "prolog",
    [
        b"<!-- <a --><!DOCTYPE alert [<!ENTITY e SYSTEM 'file:///etc/hostname'>]>",
        b"<?xml version='1.0'?>\n<?pi <a?>\n<!-- c --> <!DOCTYPE alert "
        b"[<!ENTITY % p SYSTEM 'file:///etc/hostname'> %p;]>",
        b"\xef\xbb\xbf<!DOCTYPE alert>",
    ],
)
def test_doctype_hidden_behind_comments_or_pis_is_refused(prolog: bytes) -> None:
    with pytest.raises(CapRefused) as refused:
        decode(prolog + b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>&e;</alert>")
    assert refused.value.reason == "DTD forbidden"


def test_special_characters_round_trip_and_control_characters_are_refused() -> None:
    alert = make_alert()
    alert.infos[0].description = "a & b < c > d ]]> \"q\" 's'\r\nline\ttab \u00e9 \U0001f6a8"
    alert.infos[0].event_codes[0].value = "<&>"
    xml = encode(alert)
    assert schema_errors(xml) == []
    assert decode(xml) == alert
    alert.infos[0].description = "bell \x07"
    with pytest.raises(ValueError, match="cannot carry"):
        encode(alert)
