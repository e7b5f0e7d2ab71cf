"""CAP inside an EDXL-DE distribution is read, validated and imported as the alert it carries."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bolo.cap.cli import app
from bolo.cap.codec import decode, encode
from bolo.cap.edxl import unwrap
from bolo.cap.errors import CapRefused
from bolo.cap.fetch import Fetched
from bolo.cap.imports import ImportPlan, Key
from bolo.cap.model import Alert
from bolo.cap.signing import sign, verify
from bolo.cap.subscribe import Subscription
from bolo.cap.validate import validate
from tests.cap.factories import cert_pem, key_pem, make_alert, make_cert, make_key

DE = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"


def _distribution(*alerts: bytes) -> bytes:
    """An EDXL-DE 1.0 distribution with one contentObject per CAP message in `alerts`."""
    objects = "".join(
        "<contentObject><xmlContent><embeddedXMLContent>"
        + a.decode("utf-8").split("?>", 1)[1]
        + "</embeddedXMLContent></xmlContent></contentObject>"
        for a in alerts
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><EDXLDistribution xmlns="{DE}">'
        "<distributionID>d-1</distributionID><senderID>ipaws@fema.example</senderID>"
        "<dateTimeSent>2026-04-01T08:00:00+09:00</dateTimeSent>"
        "<distributionStatus>Actual</distributionStatus><distributionType>Report"
        "</distributionType><combinedConfidentiality>UNCLASSIFIED</combinedConfidentiality>"
        f"{objects}</EDXLDistribution>"
    ).encode()


def test_the_alert_of_a_distribution_is_validated_in_its_place() -> None:
    alert = make_alert()
    result = validate(_distribution(encode(alert)))
    assert result.ok, result.errors
    assert result.alert == alert


def test_a_signed_alert_keeps_its_signature_when_unwrapped() -> None:
    key = make_key()
    cert = make_cert(key)
    signed = sign(encode(make_alert()), key_pem=key_pem(key), cert_pem=cert_pem(cert))
    inner = unwrap(_distribution(signed))
    assert verify(inner, cert=cert).alert == decode(signed)


@pytest.mark.parametrize("count", [0, 2])
def test_a_distribution_without_exactly_one_alert_is_refused(count: int) -> None:
    data = _distribution(*[encode(make_alert(identifier=f"A-{i}")) for i in range(count)])
    with pytest.raises(CapRefused) as refused:
        unwrap(data)
    assert refused.value.rule == "not-cap"
    assert [f.rule for f in validate(data).findings] == ["not-cap"]


def test_plain_cap_is_left_as_it_is() -> None:
    data = encode(make_alert())
    assert unwrap(data) is data


def test_import_takes_the_alert_out_of_its_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bolo.cap.cli._import_store", None)  # a dry run
    path = tmp_path / "edxl.xml"
    path.write_bytes(_distribution(encode(make_alert())))
    result = CliRunner().invoke(app, ["import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"decision": "new"' in result.output
    path.write_bytes(_distribution())
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 1
    assert "EDXL-DE distribution carrying 0 CAP alerts" in result.output


class _Store:
    def __init__(self) -> None:
        self.stored: list[bytes] = []

    def known(self, keys: object) -> set[Key]:
        return set()

    def apply(self, plan: ImportPlan, alert: Alert, xml: bytes) -> None:
        self.stored.append(xml)


def test_a_feed_entry_linking_a_distribution_stores_the_alert() -> None:
    alert = make_alert()
    bodies = {
        "https://x/feed.rss": b'<rss version="2.0"><channel><title>t</title><link>https://x/'
        b"</link><description>d</description><item><guid>e1</guid>"
        b"<link>https://x/e1.xml</link></item></channel></rss>",
        "https://x/e1.xml": _distribution(encode(alert)),
    }

    def fetcher(url: str, etag: str | None, modified: str | None) -> Fetched:
        return Fetched(status=200, body=bodies[url], etag=None, last_modified=None, url=url)

    store = _Store()
    outcomes = Subscription(url="https://x/feed.rss").poll(fetcher, store)
    assert [o.decision for o in outcomes or []] == ["new"]
    assert [decode(xml) for xml in store.stored] == [alert]


class _PickyStore(_Store):
    def apply(self, plan: ImportPlan, alert: Alert, xml: bytes) -> None:
        if alert.identifier == "A-0":
            raise CapRefused("identifier not kept")
        super().apply(plan, alert, xml)


def test_a_message_the_store_refuses_leaves_the_others_imported() -> None:
    first, second = make_alert(identifier="A-0"), make_alert(identifier="A-1")
    entries = "".join(
        f"<item><guid>{a.identifier}</guid><link>https://x/{a.identifier}</link></item>"
        for a in (first, second)
    )
    bodies = {
        "https://x/feed.rss": f'<rss version="2.0"><channel><title>t</title><link>https://x/</link><description>d</description>{entries}</channel></rss>'.encode(),
        "https://x/A-0": encode(first),
        "https://x/A-1": encode(second),
    }

    def fetcher(url: str, etag: str | None, modified: str | None) -> Fetched:
        return Fetched(status=200, body=bodies[url], etag=None, last_modified=None, url=url)

    store = _PickyStore()
    outcomes = Subscription(url="https://x/feed.rss").poll(fetcher, store)
    assert sorted((o.identifier, o.decision, o.reason) for o in outcomes or []) == [
        ("A-0", "refused", "identifier not kept"),
        ("A-1", "new", ""),
    ]
    assert [decode(xml) for xml in store.stored] == [second]
