"""POST /webhooks/verify: a merchant checks a delivery they received, under any scheme."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook

from harness.receiver import Receiver
from tests.integration.conftest import SECRET, Pipeline
from tests.support import OPERATOR, invoice_body

SCHEME_HEADERS = {
    "x-signature": ("X-Signature",),
    "x-payment-signature": ("X-Payment-Signature",),
    "standard-webhooks": ("webhook-id", "webhook-timestamp", "webhook-signature"),
}


@pytest.fixture
def delivered(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    """A real delivery as the merchant's receiver got it: (raw body, headers)."""
    pid = merchant.call("POST", "/api/create-invoice", invoice_body(webhook_url=receiver.url()))[1]["payment_id"]
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": pid}, headers=OPERATOR)
    pipeline.run()
    (request,) = receiver.requests
    return request.body, request.headers


def _verify(merchant, raw: bytes, headers: dict[str, str]):
    return merchant.call("POST", "/webhooks/verify", raw_body=raw, headers=headers)


@pytest.mark.parametrize("scheme", list(SCHEME_HEADERS))
def test_each_scheme_alone_verifies(delivered, merchant, scheme):
    raw, headers = delivered
    only = {name: headers[name] for name in SCHEME_HEADERS[scheme]}
    status, body, _ = _verify(merchant, raw, only)
    assert (status, body) == (200, {"valid": True, "scheme": scheme})


def test_all_three_report_the_strongest(delivered, merchant):
    raw, headers = delivered
    assert _verify(merchant, raw, headers)[1] == {"valid": True, "scheme": "standard-webhooks"}


@pytest.mark.parametrize("scheme", list(SCHEME_HEADERS))
def test_tampered_body_is_invalid(delivered, merchant, scheme):
    raw, headers = delivered
    only = {name: headers[name] for name in SCHEME_HEADERS[scheme]}
    tampered = raw.replace(b'"amount": 12500', b'"amount": 1')
    assert tampered != raw
    status, body, _ = _verify(merchant, tampered, only)
    assert status == 400 and body["valid"] is False and body["error"]["code"].startswith("invalid_")


def test_x_signature_survives_reformatting_but_raw_schemes_do_not(delivered, merchant):
    raw, headers = delivered
    pretty = json.dumps(json.loads(raw), indent=2).encode()
    assert _verify(merchant, pretty, {"X-Signature": headers["X-Signature"]})[0] == 200
    assert _verify(merchant, pretty, {"X-Payment-Signature": headers["X-Payment-Signature"]})[0] == 400


def test_an_invalid_strong_signature_is_not_masked_by_a_valid_weak_one(delivered, merchant):
    raw, headers = delivered
    forged = {**headers, "webhook-signature": "v1,AAAA"}
    status, body, _ = _verify(merchant, raw, forged)
    assert status == 400 and body["error"]["code"] == "invalid_standard_webhooks_signature"


@pytest.mark.parametrize("skew", [-301, 301])
def test_standard_webhooks_timestamp_outside_five_minutes(merchant, skew, aws):
    raw = json.dumps({"event": "payment.completed", "event_id": "evt_1"}, sort_keys=True)
    at = time.time() + skew
    from datetime import UTC, datetime

    signature = Webhook(SECRET.encode()).sign("evt_1", datetime.fromtimestamp(at, UTC), raw)
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(int(at)), "webhook-signature": signature}
    status, body, _ = _verify(merchant, raw.encode(), headers)
    assert status == 400 and "5-minute" in body["error"]["message"]
    # the same signature inside the window is fine
    now = time.time()
    ok = Webhook(SECRET.encode()).sign("evt_1", datetime.fromtimestamp(now, UTC), raw)
    fresh = {"webhook-id": "evt_1", "webhook-timestamp": str(int(now)), "webhook-signature": ok}
    assert _verify(merchant, raw.encode(), fresh)[0] == 200


@pytest.mark.parametrize(
    ("raw", "headers", "code"),
    [
        (b'{"a": 1}', {}, "missing_signature"),
        (b"not json", {"X-Signature": "00"}, "malformed_json"),
        (b'{"a": 1}', {"webhook-id": "x", "webhook-signature": "v1,AAAA"}, "invalid_standard_webhooks_signature"),
        (
            b'{"a": 1}',
            {"webhook-id": "x", "webhook-timestamp": "soon", "webhook-signature": "garbage"},
            "invalid_standard_webhooks_signature",
        ),
        (b'{"a": 1}', {"X-Payment-Signature": "!!!"}, "invalid_x_payment_signature"),
    ],
)
def test_bad_requests_are_400_with_the_error_shape(merchant, aws, raw, headers, code):
    status, body, _ = _verify(merchant, raw, headers)
    assert status == 400
    assert body["valid"] is False and body["error"]["code"] == code and body["error"]["message"]


def _prepend(raw: bytes, fields: bytes) -> bytes:
    assert raw.startswith(b"{")
    return b"{" + fields + b", " + raw[1:]


def test_a_captured_body_with_duplicate_keys_prepended_is_refused_under_x_signature(delivered, merchant):
    """The legacy scheme re-serialises: a parser keeping the last duplicate sees the signed
    body, one keeping the first sees "failed" and 1. Such a body must never verify."""
    raw, headers = delivered
    forged = _prepend(raw, b'"status": "failed", "amount": 1')
    status, body, _ = _verify(merchant, forged, {"X-Signature": headers["X-Signature"]})
    assert status == 400 and body["valid"] is False
    assert body["error"]["code"] == "duplicate_json_keys"
    assert "amount" in body["error"]["message"]  # the first key seen twice


@pytest.mark.parametrize("scheme", list(SCHEME_HEADERS))
@pytest.mark.parametrize(
    "raw",
    [
        b'{"event": "payment.completed", "event": "payment.failed", "event_id": "evt_1"}',
        b'{"event_id": "evt_1", "meta": {"k": 1, "k": 2}}',
        b'[{"event_id": "evt_1", "event_id": "evt_2"}]',
    ],
    ids=["top level", "nested object", "inside an array"],
)
def test_duplicate_keys_are_refused_under_every_scheme_even_when_signed(merchant, aws, scheme, raw):
    from datetime import UTC, datetime

    from paysandbox import signatures

    now = time.time()
    signed = {
        "x-signature": {"X-Signature": signatures.x_signature(SECRET, json.loads(raw))},
        "x-payment-signature": {"X-Payment-Signature": signatures.x_payment_signature(SECRET, raw)},
        "standard-webhooks": {
            "webhook-id": "evt_1",
            "webhook-timestamp": str(int(now)),
            "webhook-signature": Webhook(SECRET.encode()).sign("evt_1", datetime.fromtimestamp(now, UTC), raw.decode()),
        },
    }[scheme]
    status, body, _ = _verify(merchant, raw, signed)
    assert status == 400, body
    assert body == {"valid": False, "error": {"code": "duplicate_json_keys", "message": body["error"]["message"]}}
