"""Standard Webhooks 1.0: the spec's test vectors, multi-signatures, tolerance, rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bolo.dispatch.signing import (
    Ed25519Key,
    HmacKey,
    WebhookVerificationError,
    new_secret,
    sign_headers,
    signed_content,
    verify,
)

MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
PAYLOAD = b'{"test": 2432232314}'
TS = 1614265330
AT = datetime.fromtimestamp(TS, UTC)


def test_hmac_vector_from_the_reference_libraries() -> None:
    key = HmacKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert key.sign(signed_content(MSG_ID, TS, PAYLOAD)) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_ed25519_vector_from_the_reference_libraries() -> None:
    key = Ed25519Key.from_private("whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=")
    assert key.sign(signed_content(MSG_ID, TS, PAYLOAD)) == (
        "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag=="
    )
    public_only = Ed25519Key(public=key.public)
    headers = sign_headers(msg_id=MSG_ID, timestamp=TS, body=PAYLOAD, keys=[key])
    assert verify(PAYLOAD, headers, [public_only], now=AT) == MSG_ID


def _headers(**override: str) -> dict[str, str]:
    headers = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TS),
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    headers.update(override)
    return headers


KEY = HmacKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def test_vector_verifies_and_tampering_fails() -> None:
    assert verify(PAYLOAD, _headers(), [KEY], now=AT) == MSG_ID
    with pytest.raises(WebhookVerificationError):
        verify(PAYLOAD + b" ", _headers(), [KEY], now=AT)
    bad = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    with pytest.raises(WebhookVerificationError):
        verify(PAYLOAD, _headers(**{"webhook-signature": bad}), [KEY], now=AT)


def test_multi_signature_header_with_one_valid_passes() -> None:
    junk = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    sigs = f"{junk} v2,{junk[3:]} {_headers()['webhook-signature']} {junk}"
    assert verify(PAYLOAD, _headers(**{"webhook-signature": sigs}), [KEY], now=AT) == MSG_ID


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails(missing: str) -> None:
    headers = _headers()
    del headers[missing]
    with pytest.raises(WebhookVerificationError):
        verify(PAYLOAD, headers, [KEY], now=AT)


@pytest.mark.parametrize("offset_s,ok", [(-301, False), (-299, True), (299, True), (301, False)])
def test_timestamp_tolerance_is_five_minutes(offset_s: int, ok: bool) -> None:
    now = AT + timedelta(seconds=-offset_s)
    if ok:
        assert verify(PAYLOAD, _headers(), [KEY], now=now) == MSG_ID
    else:
        with pytest.raises(WebhookVerificationError):
            verify(PAYLOAD, _headers(), [KEY], now=now)


def test_rotation_signs_twice_and_either_key_verifies() -> None:
    old, new = HmacKey(new_secret()), HmacKey(new_secret())
    headers = sign_headers(msg_id="m1", timestamp=TS, body=b"{}", keys=[new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(b"{}", headers, [old], now=AT) == "m1"
    assert verify(b"{}", headers, [new], now=AT) == "m1"
    with pytest.raises(WebhookVerificationError):
        verify(b"{}", headers, [HmacKey(new_secret())], now=AT)


@given(
    body=st.binary(max_size=200),
    msg_id=st.text(min_size=1, max_size=30).filter(lambda s: " " not in s),
)
def test_sign_then_verify_roundtrip(body: bytes, msg_id: str) -> None:
    key = HmacKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    headers = sign_headers(msg_id=msg_id, timestamp=TS, body=body, keys=[key])
    assert verify(body, headers, [key], now=AT) == msg_id
