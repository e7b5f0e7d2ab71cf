"""The rules beyond the schema, and the IPAWS and Google profiles, one by one."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bolo.cap.codec import encode
from bolo.cap.model import Alert, Area, Circle, MsgType, Reference, Scope, ValuePair
from bolo.cap.validate import validate
from tests.cap.factories import SENT, make_alert


def _errors(alert: Alert, profile: str | None = None) -> list[str]:
    return validate(encode(alert), profile=profile).errors


def _warnings(alert: Alert, profile: str | None = None) -> list[str]:
    result = validate(encode(alert), profile=profile)
    assert result.ok, result.errors
    return result.warnings


def _with_area(area: Area) -> Alert:
    alert = make_alert()
    alert.infos[0].areas = [area]
    return alert


def _poly(*points: tuple[float, float]) -> Area:
    return Area(description="x", polygons=[list(points)])


def test_the_factory_alert_is_clean() -> None:
    assert validate(encode(make_alert())).errors == []
    assert validate(encode(make_alert())).warnings == []


@pytest.mark.parametrize("bad", ["two words", "a,b", "a<b", "a&b", "tab\there"])
def test_identifier_and_sender_characters(bad: str) -> None:
    assert any("identifier" in e for e in _errors(make_alert(identifier=bad)))
    assert any("sender" in e for e in _errors(make_alert(sender=bad)))


def test_references_rules() -> None:
    ref = Reference(sender="bolo@example.org", identifier="bolo-2026-0000", sent=SENT)
    assert _errors(make_alert(msg_type=MsgType.UPDATE, references=[ref])) == []
    for msg_type in (MsgType.UPDATE, MsgType.CANCEL, MsgType.ACK, MsgType.ERROR):
        assert any("must reference" in e for e in _errors(make_alert(msg_type=msg_type)))
    itself = Reference(sender="bolo@example.org", identifier="bolo-2026-0001", sent=SENT)
    assert "/alert/references: references names the message itself" in _errors(
        make_alert(msg_type=MsgType.UPDATE, references=[ref, itself])
    )
    xml = encode(make_alert(msg_type=MsgType.UPDATE, references=[ref]))
    empty = xml.replace(
        xml[xml.index(b"<references>") : xml.index(b"</references>")], b"<references>  "
    )
    assert validate(empty).errors[0].startswith("/alert/references: references is empty")
    broken = xml.replace(b"bolo-2026-0000,", b"bolo-2026-0000;")
    assert "malformed references" in validate(broken).errors[0]
    zulu = xml.replace(
        b"2026-04-01T08:00:00+09:00</references>", b"2026-03-31T23:00:00Z</references>"
    )
    result = validate(zulu)  # readable, just not the 1.2 form
    assert result.ok
    assert any("sent time '2026-03-31T23:00:00Z'" in w for w in result.warnings)


def test_scope_rules() -> None:
    assert any("restriction" in e for e in _errors(make_alert(restriction="staff only")))
    assert _errors(make_alert(scope=Scope.RESTRICTED, restriction="staff only")) == []
    assert "/alert/addresses: scope Private requires addresses" in _errors(
        make_alert(scope=Scope.PRIVATE)
    )
    assert _errors(make_alert(scope=Scope.PRIVATE, addresses="post-1 post-2")) == []
    assert _errors(make_alert(scope=Scope.RESTRICTED, restriction="x", addresses="post-1")) == []
    # CAP 1.2 §3.2.1: addresses is required for Private, optional otherwise (Public included).
    assert _warnings(make_alert(addresses="post-1")) == []


def test_polygon_rules() -> None:
    a, b, c, d = (39.0, 126.0), (39.0, 127.0), (40.0, 127.0), (40.0, 126.0)
    assert _errors(_with_area(_poly(a, b, c, a))) == []  # a closed triangle: 4 pairs
    assert any("at least 4" in e for e in _errors(_with_area(_poly(a, b, a))))
    assert any("not closed" in e for e in _errors(_with_area(_poly(a, b, c, d))))
    bowtie = _errors(_with_area(_poly(a, c, b, d, a)))
    assert any("not a simple ring" in e and "39.5,126.5" in e for e in bowtie), bowtie
    assert any(
        "out of WGS84 range" in e
        for e in _errors(_with_area(_poly((91.0, 0.0), b, c, (91.0, 0.0))))
    )
    assert any(
        "out of WGS84 range" in e
        for e in _errors(_with_area(_poly((0.0, 181.0), b, c, (0.0, 181.0))))
    )


def test_polygon_text_must_be_lat_lon_pairs() -> None:
    xml = encode(_with_area(_poly((39.0, 126.0), (39.0, 127.0), (40.0, 127.0), (39.0, 126.0))))
    assert "malformed polygon" in validate(xml.replace(b"39,126 ", b"39;126 ")).errors[0]
    assert "malformed polygon" in validate(xml.replace(b"39,126 ", b"39,126,5 ")).errors[0]


def test_circle_rules() -> None:
    good = Area(description="x", circles=[Circle(lat=39.0, lon=126.0, radius_km=10.0)])
    xml = encode(_with_area(good))
    assert b"<circle>39,126 10</circle>" in xml
    assert validate(xml).errors == []
    assert "malformed circle" in validate(xml.replace(b"39,126 10", b"39 126 10")).errors[0]
    assert "malformed circle" in validate(xml.replace(b"39,126 10", b"39,126")).errors[0]
    far = Area(description="x", circles=[Circle(lat=-95.0, lon=126.0, radius_km=1.0)])
    assert any("out of WGS84 range" in e for e in _errors(_with_area(far)))
    zero = Area(description="x", circles=[Circle(lat=39.0, lon=126.0, radius_km=0.0)])
    assert any("radius 0" in w for w in _warnings(_with_area(zero)))


def test_ceiling_needs_altitude() -> None:
    assert "/alert/info[1]/area[1]/ceiling: ceiling needs altitude" in _errors(
        _with_area(Area(description="x", ceiling=1000.0))
    )
    assert _errors(_with_area(Area(description="x", altitude=10.0, ceiling=1000.0))) == []
    assert any(
        "above ceiling" in e
        for e in _errors(_with_area(Area(description="x", altitude=2000.0, ceiling=1.0)))
    )


def test_times_need_explicit_offsets() -> None:
    xml = encode(make_alert())
    assert validate(xml.replace(b"08:00:00+09:00</sent>", b"08:00:00</sent>")).errors
    assert validate(xml.replace(b"08:00:00+09:00</sent>", b"08:00:00Z</sent>")).errors
    assert validate(xml.replace(b"08:00:00+09:00</sent>", b"08:00:00.5+09:00</sent>")).errors


def test_warnings() -> None:
    alert = make_alert()
    info = alert.infos[0]
    info.description = "Call <b>112</b> now&nbsp;"
    info.headline = "h" * 161
    info.expires = SENT - timedelta(hours=1)
    warnings = _warnings(alert)
    assert any(w.startswith("/alert/info[1]/description: HTML markup") for w in warnings)
    assert any("headline: 161 characters" in w for w in warnings)
    assert any("expires is before sent" in w for w in warnings)


def test_ipaws_profile() -> None:
    assert _errors(make_alert(), "ipaws") == []
    assert "/alert/code: IPAWS requires <code>IPAWSv1.0</code>" in _errors(
        make_alert(codes=[]), "ipaws"
    )
    alert = make_alert()
    alert.infos[0].expires = None
    assert any("requires expires" in e for e in _errors(alert, "ipaws"))
    alert = make_alert()
    alert.infos[0].event_codes.append(ValuePair(name="SAME", value="CDW"))
    assert any("exactly one SAME" in e for e in _errors(alert, "ipaws"))
    alert.infos[0].event_codes = [ValuePair(name="SAME", value="CAEX")]
    assert any("exactly one SAME" in e for e in _errors(alert, "ipaws"))
    alert = make_alert()
    alert.infos[0].parameters = [ValuePair(name="CMAMtext", value="x" * 91)]
    assert any("CMAMtext is 91 characters" in e for e in _errors(alert, "ipaws"))
    alert.infos[0].parameters = [ValuePair(name="CMAMtext", value="x" * 90)]
    assert _errors(alert, "ipaws") == []
    second = dataclasses.replace(alert.infos[0], language="ko", categories=[])
    alert.infos.append(second)
    assert validate(encode(alert), profile="ipaws").errors  # categories differ (and schema)


def test_google_profile() -> None:
    assert _errors(make_alert(), "google") == []
    alert = make_alert()
    alert.infos[0].web = None
    alert.infos[0].description = None
    errors = _errors(alert, "google")
    assert any("requires web" in e for e in errors)
    assert any("requires description" in e for e in errors)
    assert "/alert/info: Google Public Alerts requires an info" in _errors(
        make_alert(infos=[]), "google"
    )
    alert = make_alert()
    alert.infos[0].areas = [Area(description="nowhere")]
    assert any("polygon, circle or geocode" in e for e in _errors(alert, "google"))


def test_unknown_profile_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate(encode(make_alert()), profile="nope")


def _emptied_polygon(area: Area) -> bytes:
    xml = encode(_with_area(area))
    start, end = xml.index(b"<polygon>"), xml.index(b"</polygon>")
    return xml[:start] + b"<polygon>" + xml[end:]


def test_an_empty_polygon_alone_is_an_error() -> None:
    result = validate(
        _emptied_polygon(_poly((39.0, 126.0), (39.0, 127.0), (40.0, 127.0), (39.0, 126.0)))
    )
    assert result.errors == [
        "/alert/info[1]/area[1]/polygon[1]: a polygon needs at least 4 lat,lon pairs, has 0"
    ]


def test_an_empty_polygon_beside_a_geocode_is_a_warning() -> None:
    area = _poly((39.0, 126.0), (39.0, 127.0), (40.0, 127.0), (39.0, 126.0))
    area.geocodes = [ValuePair(name="UGC", value="KSZ001")]
    result = validate(_emptied_polygon(area))
    assert result.ok, result.errors
    assert [f.rule for f in result.findings] == ["polygon-empty"]
    assert result.findings[0].path == "/alert/info[1]/area[1]/polygon[1]"
