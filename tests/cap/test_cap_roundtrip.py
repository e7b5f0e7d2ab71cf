"""Property: generated valid alerts -> XML -> schema-valid -> parsed -> equal; and no input
makes decode or validate fail with anything but a refusal."""

from __future__ import annotations

import base64
import math
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bolo.cap.codec import decode, encode
from bolo.cap.errors import CapRefused
from bolo.cap.model import (
    Alert,
    Area,
    Category,
    Certainty,
    Circle,
    Info,
    MsgType,
    Reference,
    Resource,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
)
from bolo.cap.schema import schema_errors
from bolo.cap.validate import validate

TEXT = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
    ),
    max_size=40,
)
TOKEN = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789.-_@:/"), min_size=1, max_size=20
)
OFFSETS = st.integers(-14 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
TIMES = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    OFFSETS,
)
PAIRS = st.builds(lambda n, v: ValuePair(name=n, value=v), TOKEN, TEXT)
LANGS = st.sampled_from(["en-US", "ko", "fr-CA", "es", "zh-Hans-CN"])
URIS = st.sampled_from(["https://bolo.example/a", "http://example.org/x?y=1", "urn:x:y"])


@st.composite
def polygons(draw: st.DrawFn) -> list[tuple[float, float]]:
    """A closed convex ring of 3-12 distinct vertices around a centre, in WGS84 degrees."""
    lat = draw(st.floats(-80, 80))
    lon = draw(st.floats(-170, 170))
    radius = draw(st.floats(0.01, 5))
    sides = draw(st.integers(3, 12))
    ring = [
        (
            lat + radius * math.sin(2 * math.pi * k / sides),
            lon + radius * math.cos(2 * math.pi * k / sides),
        )
        for k in range(sides)
    ]
    return [*ring, ring[0]]


@st.composite
def areas(draw: st.DrawFn) -> Area:
    altitude = draw(st.none() | st.floats(-1000, 10000))
    ceiling = None if altitude is None else draw(st.none() | st.floats(altitude, 60000))
    return Area(
        description=draw(TEXT),
        polygons=draw(st.lists(polygons(), max_size=2)),
        circles=draw(
            st.lists(
                st.builds(
                    lambda a, o, r: Circle(lat=a, lon=o, radius_km=r),
                    st.floats(-90, 90),
                    st.floats(-180, 180),
                    st.floats(0.001, 500),
                ),
                max_size=2,
            )
        ),
        geocodes=draw(st.lists(PAIRS, max_size=2)),
        altitude=altitude,
        ceiling=ceiling,
    )


RESOURCES = st.builds(
    Resource,
    description=TEXT,
    mime_type=TOKEN,
    size=st.none() | st.integers(0, 10**9),
    uri=st.none() | URIS,
    deref_uri=st.none() | st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode()),
    digest=st.none() | st.just("a" * 40),
)


@st.composite
def infos(draw: st.DrawFn) -> Info:
    optional = st.none() | TEXT
    return Info(
        language=draw(LANGS),
        categories=draw(st.lists(st.sampled_from(Category), min_size=1, max_size=3)),
        event=draw(TEXT),
        response_types=draw(st.lists(st.sampled_from(ResponseType), max_size=2)),
        urgency=draw(st.sampled_from(Urgency)),
        severity=draw(st.sampled_from(Severity)),
        certainty=draw(st.sampled_from(Certainty)),
        audience=draw(optional),
        event_codes=draw(st.lists(PAIRS, max_size=2)),
        effective=draw(st.none() | TIMES),
        onset=draw(st.none() | TIMES),
        expires=draw(st.none() | TIMES),
        sender_name=draw(optional),
        headline=draw(optional),
        description=draw(optional),
        instruction=draw(optional),
        web=draw(st.none() | URIS),
        contact=draw(optional),
        parameters=draw(st.lists(PAIRS, max_size=2)),
        resources=draw(st.lists(RESOURCES, max_size=2)),
        areas=draw(st.lists(areas(), max_size=2)),
    )


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    msg_type = draw(st.sampled_from(MsgType))
    scope = draw(st.sampled_from(Scope))
    identifier = draw(TOKEN)
    references = draw(
        st.lists(
            st.builds(
                lambda s, i, t: Reference(sender=s, identifier="ref-" + i, sent=t),
                TOKEN,
                TOKEN,
                TIMES,
            ),
            min_size=0 if msg_type is MsgType.ALERT else 1,
            max_size=3,
        )
    )
    return Alert(
        identifier=identifier,
        sender=draw(TOKEN),
        sent=draw(TIMES),
        status=draw(st.sampled_from(Status)),
        msg_type=msg_type,
        scope=scope,
        source=draw(st.none() | TEXT),
        restriction=draw(TEXT.filter(str.strip)) if scope is Scope.RESTRICTED else None,
        addresses=draw(TOKEN) if scope is Scope.PRIVATE else None,
        codes=draw(st.lists(TEXT, max_size=2)),
        note=draw(st.none() | TEXT),
        references=references,
        incidents=draw(
            st.lists(TEXT.filter(lambda t: '"' not in t and t.strip() == t and t), max_size=3)
        ),
        infos=draw(st.lists(infos(), max_size=2)),
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts())
def test_generated_alerts_round_trip(alert: Alert) -> None:
    xml = encode(alert)
    assert schema_errors(xml) == []
    assert decode(xml) == alert
    result = validate(xml)
    assert result.ok, result.errors


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_are_refused_or_decoded_never_crash(data: bytes) -> None:
    try:
        decode(data)
    except CapRefused as refused:
        assert refused.reason
    result = validate(data)
    assert result.ok or result.errors


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts(), st.data())
def test_mutated_messages_never_crash_the_validator(alert: Alert, data: st.DataObject) -> None:
    xml = bytearray(encode(alert))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(xml) - 1))
        xml[position] = data.draw(st.integers(0, 255))
    result = validate(bytes(xml))
    assert result.ok or result.errors
