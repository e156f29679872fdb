"""The three signature schemes against independent re-computations and the library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks import Webhook

from paysandbox import signatures

SECRET = "s3cret-for-unit-tests"
BODY = {
    "status": "paid",
    "amount": 100,
    "payment_id": "inv_1",
    "event_id": "evt_1",
    "event": "payment.completed",
    "reference": "ü-ref",
    "card_mask": "",
    "timestamp": "2026-01-01T00:00:00.000Z",
}


def test_raw_body_is_the_sorted_default_separator_serialisation():
    raw, _ = signatures.sign(SECRET, BODY, "evt_1", "payment.completed", time.time())
    assert raw == json.dumps(BODY, sort_keys=True).encode()
    assert list(json.loads(raw)) == sorted(BODY)


def test_headers_match_independent_computations():
    at = time.time()
    raw, headers = signatures.sign(SECRET, BODY, "evt_1", "payment.completed", at)
    assert (
        headers["X-Signature"]
        == hmac.new(SECRET.encode(), json.dumps(json.loads(raw), sort_keys=True).encode(), hashlib.sha256).hexdigest()
    )
    assert base64.b64decode(headers["X-Payment-Signature"]) == hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()
    assert headers["X-Payment-Event"] == "payment.completed"
    assert headers["X-Payment-ID"] == "inv_1"  # AcquireMock's receivers read it
    assert headers["webhook-id"] == "evt_1" and headers["webhook-timestamp"] == str(int(at))
    assert Webhook(SECRET.encode()).verify(raw, headers) == BODY
    assert set(headers) == {
        "Content-Type",
        "X-Signature",
        "X-Payment-Event",
        "X-Payment-Signature",
        "X-Payment-ID",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }


def test_the_whsec_form_is_the_secret_a_standard_webhooks_library_takes():
    # The one independent check of the whsec_ format: every other test compares with
    # signatures.whsec, so this is where a wrong encoding would show.
    raw, headers = signatures.sign(SECRET, BODY, "evt_1", "payment.completed", time.time())
    shown = signatures.whsec(SECRET)
    assert shown.startswith("whsec_")
    assert Webhook(shown).verify(raw, headers) == BODY


def test_verify_roundtrip_and_wrong_secret():
    raw, headers = signatures.sign(SECRET, BODY, "evt_1", "payment.completed", time.time())
    assert signatures.verify(SECRET, raw, headers) == "standard-webhooks"
    assert signatures.verify(SECRET, raw, {"X-Signature": headers["X-Signature"]}) == "x-signature"
    with pytest.raises(signatures.InvalidSignature):
        signatures.verify("other-secret", raw, headers)
    with pytest.raises(signatures.InvalidSignature) as missing:
        signatures.verify(SECRET, raw, {"Content-Type": "application/json"})
    assert missing.value.code == "missing_signature"


def test_x_signature_hex_is_case_insensitive_but_must_match():
    raw, headers = signatures.sign(SECRET, BODY, "evt_1", "payment.completed", time.time())
    assert signatures.verify(SECRET, raw, {"X-Signature": headers["X-Signature"].upper()}) == "x-signature"
    with pytest.raises(signatures.InvalidSignature):
        signatures.verify(SECRET, raw, {"X-Signature": "0" * 64})
