"""Bad input of every kind gets a 4xx JSON error and changes nothing (never a 5xx).

Found by an adversarial pass: JSON nested deeper than Python's recursion limit, and list
cursors that decode to something DynamoDB refuses (wrong key types, numbers out of its
range). Each goes to the real handler; a cursor must be refused before any DynamoDB request.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bench.ddb_counter import attach_counter
from paysandbox import repository
from tests.support import OPERATOR, Api, stored_payments, v2_body

DEEP = '{"amount": 100, "nested": ' + "[" * 20_000 + "]" * 20_000 + "}"

JSON_ROUTES = [
    ("create_payment", "/api/create-invoice", {}),
    ("create_payment", "/api/v2/payments", {}),
    ("confirm", "/api/v2/confirm-payment", OPERATOR),
    ("confirm", "/api/v2/fail-payment", OPERATOR),
]


@pytest.mark.parametrize(("function", "path", "headers"), JSON_ROUTES, ids=[r[1] for r in JSON_ROUTES])
def test_deeply_nested_json_is_a_400_not_a_crash(aws: None, function: str, path: str, headers: dict) -> None:
    status, body, _ = Api(function).call("POST", path, raw_body=DEEP, headers=headers)
    assert status == 400, body
    assert body["error"]["code"] == "malformed_json"
    assert stored_payments() == []


@pytest.mark.parametrize("scheme", ["X-Signature", "X-Payment-Signature", "webhook-signature"])
def test_verify_refuses_deeply_nested_json_with_a_400(aws: None, scheme: str) -> None:
    headers = {scheme: "v1,AAAA" if scheme == "webhook-signature" else "00"}
    if scheme == "webhook-signature":
        headers.update({"webhook-id": "msg_1", "webhook-timestamp": "1"})
    status, body, _ = Api("create_payment").call("POST", "/webhooks/verify", raw_body=DEEP, headers=headers)
    assert status == 400, body
    assert body["valid"] is False and body["error"]["code"]


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def _raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


GOOD_KEY = {"payment_id": "pay_tx-1", "status_group": "pending", "created_at": 1_700_000_000.5}
BAD_CURSORS = {
    "payment_id is a number": _cursor({**GOOD_KEY, "payment_id": 7}),
    "payment_id is empty": _cursor({**GOOD_KEY, "payment_id": ""}),
    "created_at is a string": _cursor({**GOOD_KEY, "created_at": "yesterday"}),
    "created_at is 1e400": _raw_cursor('{"payment_id": "p", "status_group": "pending", "created_at": 1e400}'),
    "created_at is NaN": _raw_cursor('{"payment_id": "p", "status_group": "pending", "created_at": NaN}'),
    "created_at has 40 digits": _cursor({**GOOD_KEY, "created_at": 10**39}),
    "created_at is a list": _cursor({**GOOD_KEY, "created_at": [1]}),
    "status_group of another list": _cursor({**GOOD_KEY, "status_group": "completed"}),
    "a key missing": _cursor({"payment_id": "p", "status_group": "pending"}),
    "an extra key": _cursor({**GOOD_KEY, "team": "x"}),
    "not an object": _cursor([1, 2, 3]),
    "deeply nested": _raw_cursor("[" * 5_000 + "]" * 5_000),
    "garbage base64": "!!!not-base64***",
    "base64 of garbage bytes": base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode(),
    "valid base64, bad padding": "eyJhIjo",
    "very long": "A" * 10_000,
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_malformed_cursor_is_a_422_and_never_reaches_dynamodb(merchant: Api, operator: Api, cursor: str) -> None:
    assert merchant.call("POST", "/api/v2/payments", v2_body())[0] == 200
    with attach_counter(repository.dynamodb) as counter:
        status, body, _ = operator.call(
            "GET", "/api/v2/pending-payments", headers=OPERATOR, query=f"status=pending&cursor={cursor}"
        )
        requests = counter.snapshot()["total"]
    assert status == 422, body
    assert body["error"]["code"] == "invalid_cursor"
    assert requests == 0


def test_a_cursor_the_api_handed_out_still_pages(merchant: Api, operator: Api) -> None:
    for n in range(3):
        assert merchant.call("POST", "/api/v2/payments", v2_body(tx_id=f"tx-{n}"))[0] == 200
    seen: list[str] = []
    query = "status=pending&limit=2"
    while True:
        status, body, _ = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR, query=query)
        assert status == 200, body
        seen += list(body["payments"])
        if not body["next_cursor"]:
            break
        query = f"status=pending&limit=2&cursor={body['next_cursor']}"
    assert sorted(seen) == ["pay_tx-0", "pay_tx-1", "pay_tx-2"]


# ------------------------------------------------------------------ control characters

CONTROL_CHARACTERS = {
    "NUL": "\x00",
    "BEL (C0)": "\x07",
    "ESC (C0)": "\x1b",
    "newline": "\n",
    "DEL": "\x7f",
    "NEL (C1)": "\x85",
    "CSI (C1)": "\x9b",
    "RLO U+202E": "\u202e",
    "LRE U+202A": "\u202a",
    "LRI U+2066": "\u2066",
    "PDI U+2069": "\u2069",
    "RLM U+200F": "\u200f",
    "ALM U+061C": "\u061c",
    "lone surrogate": "\ud800",
}
TEXT_FIELDS = [
    ("/api/create-invoice", "reference"),
    ("/api/create-invoice", "description"),
    ("/api/v2/payments", "tx_id"),
    ("/api/v2/payments", "order_id"),
    ("/api/v2/payments", "user_id"),
]


def _body_with(path: str, field: str, value: str) -> dict[str, Any]:
    from tests.support import invoice_body

    return invoice_body(**{field: value}) if path == "/api/create-invoice" else v2_body(**{field: value})


@pytest.mark.parametrize("char", CONTROL_CHARACTERS.values(), ids=CONTROL_CHARACTERS.keys())
@pytest.mark.parametrize(("path", "field"), TEXT_FIELDS, ids=[f for _, f in TEXT_FIELDS])
def test_control_characters_in_text_fields_are_a_422(merchant: Api, path: str, field: str, char: str) -> None:
    # json.dumps escapes every one of them (\u0000, \u202e, \ud800), as a client's JSON would.
    status, body, _ = merchant.call("POST", path, _body_with(path, field, f"order{char}1001"))
    assert status == 422, body
    assert [d["field"] for d in body["error"]["details"]] == [field]
    assert stored_payments() == []


def test_an_operator_fail_reason_with_control_characters_is_a_422(merchant: Api, operator: Api) -> None:
    assert merchant.call("POST", "/api/v2/payments", v2_body())[0] == 200
    answer = operator.call(
        "POST", "/api/v2/fail-payment", {"payment_id": "pay_tx-1001", "reason": "fraud\u202echeck"}, headers=OPERATOR
    )
    assert answer[0] == 422
    assert [p["status"] for p in stored_payments()] == ["pending"]


@pytest.mark.parametrize(
    "text", ["Замовлення №1001", "注文 1001", "café crème", "👩‍💻 team order", "a\u00a0b (no-break space)", "שלום 1001"]
)
def test_ordinary_unicode_text_is_accepted_unchanged(merchant: Api, text: str) -> None:
    status, body, _ = merchant.call("POST", "/api/create-invoice", _body_with("/api/create-invoice", "reference", text))
    assert status == 200, body
    status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(order_id=text, user_id=text))
    assert status == 200, body
    assert {p.get("reference") or p["order_id"] for p in stored_payments()} == {text}
