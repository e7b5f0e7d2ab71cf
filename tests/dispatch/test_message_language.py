"""Each post is told in its language (the CAP info block of the post's language, else the
first); SMS fits its encoding's segments and keeps the ack link whole."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest

from bolo.alerts.model import AlertVersion
from bolo.dispatch import sms
from bolo.dispatch.keys import set_post_secret
from bolo.dispatch.messages import MessageBuilder
from bolo.dispatch.signing import new_secret
from bolo.store.db import session_scope
from tests.dispatch.factories import T0, make_alert, make_post

KO_HEADLINE = "아동 유괴: 김하늘(7) 송촌역 부근"
KO_TEXT = "빨간 외투를 입은 7세 여아. 회색 승합차. " * 12
CAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>bolo-test-1</identifier><sender>bolo@bolo.local</sender>
<sent>2026-03-01T08:00:00+00:00</sent><status>Actual</status><msgType>Alert</msgType>
<scope>Public</scope>
<info><language>en-US</language><category>Rescue</category><event>Child abduction</event>
<urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>
<headline>Child abduction near Songchon station</headline>
<description>Girl, 7, red coat.</description><instruction>Check every car.</instruction>
<area><areaDesc>Songchon</areaDesc></area></info>
<info><language>ko-KR</language><category>Rescue</category><event>아동 유괴</event>
<urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>
<headline>{KO_HEADLINE}</headline><description>{KO_TEXT}</description>
<instruction>모든 차량을 확인하십시오.</instruction>
<area><areaDesc>송촌</areaDesc></area></info>
</alert>"""


@dataclass
class _Delivery:
    id: str
    version_id: str
    post_id: str
    url: str


def _messages(engine: Any, posts: dict[str, tuple[str | None, str]]) -> dict[str, Any]:
    with session_scope(engine) as db:
        alert = make_alert(db)
        version = AlertVersion(
            alert_id=alert.id,
            seq=1,
            msg_type="Alert",
            identifier="bolo-test-1",
            sent=T0,
            content={},
            cap_xml=CAP,
            sha256=hashlib.sha256(CAP.encode()).hexdigest(),
            state="issued",
            author_id="u1",
        )
        db.add(version)
        for post_id, (language, _) in posts.items():
            make_post(db, post_id).language = language
            set_post_secret(db, post_id=post_id, secret=new_secret())
        db.flush()
        built = MessageBuilder().build(
            db, [_Delivery(f"d-{p}", version.id, p, url) for p, (_, url) in posts.items()]
        )
    return {m.post_id: m for m in built}


def test_each_post_gets_its_language_else_the_first(sqlite_engine: Any) -> None:
    got = _messages(
        sqlite_engine,
        {
            "ko": ("ko", "http://h/ko"),
            "en": ("en-GB", "http://h/en"),
            "fr": ("fr", "http://h/fr"),
            "none": (None, "http://h/x"),
            "mail": ("ko-KR", "mailto://u:p@mail.example?to=a@b.c"),
        },
    )
    assert json.loads(got["ko"].body)["title"] == KO_HEADLINE
    assert json.loads(got["ko"].body)["language"] == "ko-KR"
    for post in ("en", "fr", "none"):  # no Korean asked for: the first block (English)
        assert json.loads(got[post].body)["title"] == "Child abduction near Songchon station"
    mail = got["mail"]
    assert mail.title == KO_HEADLINE and KO_TEXT.strip() in mail.text
    ack = json.loads(mail.body)["ack_url"]
    assert mail.text.endswith(f"수신 확인: {ack}")


def test_sms_fits_its_segments_and_keeps_the_ack_link(sqlite_engine: Any) -> None:
    got = _messages(
        sqlite_engine,
        {
            "ko": ("ko", "twilio://sid:token@15551234567/15557654321"),
            "en": ("en", "twilio://sid:token@15551234567/15550000000"),
        },
    )
    korean, english = got["ko"], got["en"]
    ack = json.loads(korean.body)["ack_url"]
    assert korean.title == "" and korean.text.startswith(KO_HEADLINE)
    assert korean.text.endswith(ack) and sms.ELLIPSIS in korean.text
    assert not sms.gsm7(korean.text) and sms.segments(korean.text) <= sms.MAX_SEGMENTS
    assert sms.units(korean.text) > 67 * (sms.MAX_SEGMENTS - 1)  # it uses the room it has
    assert english.text.endswith(json.loads(english.body)["ack_url"])
    assert sms.gsm7(english.text) and sms.ELLIPSIS not in english.text  # short: whole


@pytest.mark.parametrize(
    ("text", "encoding_units", "parts"),
    [
        ("a" * 160, 160, 1),
        ("a" * 161, 161, 2),
        ("€" * 80, 160, 1),
        ("가" * 70, 70, 1),
        ("가" * 71, 71, 2),
        ("가" * 134, 134, 2),
        ("가" * 135, 135, 3),
        ("😀" * 35, 70, 1),
    ],
)
def test_sms_segments_by_encoding(text: str, encoding_units: int, parts: int) -> None:
    assert sms.units(text) == encoding_units and sms.segments(text) == parts


def test_a_link_longer_than_the_room_is_still_whole() -> None:
    link = "https://example.org/" + "x" * 400
    assert sms.fit("가나다", link, max_segments=1).endswith(link)
