"""Merchant routes (function create_payment): both flavours, idempotency, and bad input."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tests.support import Api, invoice_body, on_payment, stored_payments, v2_body


def _get(merchant: Api, payment_id: str):
    return on_payment(merchant, "GET", payment_id)


# ------------------------------------------------------------------ invoice flavour


def test_create_invoice_returns_checkout_link_and_pending_payment(merchant: Api) -> None:
    status, body, headers = merchant.call("POST", "/api/create-invoice", invoice_body(currency="eur"))
    assert status == 200
    assert set(body) == {"pageUrl", "payment_id", "status", "expires_at"}
    assert body["status"] == "pending"
    assert body["pageUrl"] == f"http://127.0.0.1:3000/checkout/{body['payment_id']}"
    assert body["expires_at"].endswith("Z")
    assert "Idempotent-Replayed" not in headers

    status, view, _ = _get(merchant, body["payment_id"])
    assert status == 200
    assert view["status"] == "pending"
    assert view["amount"] == 12_500
    assert view["currency"] == "EUR"
    assert view["reference"] == "order-1001"
    assert view["webhook_status"] is None
    assert view["expires_at"] == body["expires_at"]


def test_public_base_url_wins_over_the_request_host(merchant: Api, settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("PUBLIC_BASE_URL", "https://pay.example.com/sandbox/")
    _, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body())
    assert body["pageUrl"] == f"https://pay.example.com/sandbox/checkout/{body['payment_id']}"


def test_same_idempotency_key_and_body_replays_the_original_response(merchant: Api) -> None:
    key = {"Idempotency-Key": "order-1001-attempt-1"}
    _, first, first_headers = merchant.call("POST", "/api/create-invoice", invoice_body(), headers=key)
    camel = invoice_body()
    camel["webhookUrl"] = camel.pop("webhook_url")
    status, again, headers = merchant.call("POST", "/api/create-invoice", camel, headers=key)
    assert status == 200
    assert again == first
    assert headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first_headers
    assert len(stored_payments()) == 1


def test_same_idempotency_key_with_other_body_is_a_conflict(merchant: Api) -> None:
    key = {"Idempotency-Key": "k-1"}
    merchant.call("POST", "/api/create-invoice", invoice_body(), headers=key)
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body(amount=1), headers=key)
    assert status == 409
    assert body["error"]["code"] == "idempotency_key_reused"
    assert [p["amount"] for p in stored_payments()] == [12_500]


def test_idempotency_keys_of_the_same_value_do_not_collide_with_v2_tx_ids(merchant: Api) -> None:
    merchant.call("POST", "/api/create-invoice", invoice_body(), headers={"Idempotency-Key": "tx-1001"})
    status, _, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id="tx-1001"))
    assert status == 200
    assert len(stored_payments()) == 2


def test_two_requests_with_one_key_in_flight_at_once_create_one_payment(merchant: Api) -> None:
    """Two containers take the same key at once: A has built its payment but not written it
    when B's request runs start to finish. A's conditional write then loses, and A answers
    with B's payment. (moto does not serialise requests per item as DynamoDB does, so racing
    threads against it would prove nothing; this plays the interleaving that matters.)"""
    from paysandbox.repository import dynamodb
    from tests.support import another_container

    key = {"Idempotency-Key": "in-flight"}
    other = Api("create_payment", another_container("create_payment", "second_container"))
    answers: dict[str, tuple[int, Any, dict[str, str]]] = {}
    puts: list[str] = []

    def before_first_put(**_: Any) -> None:
        puts.append("put")
        if len(puts) == 1:  # A's write, held back while B runs (B's own write is the second)
            answers["B"] = other.call("POST", "/api/create-invoice", invoice_body(), headers=key)

    dynamodb.meta.events.register("before-call.dynamodb.PutItem", before_first_put)
    try:
        answers["A"] = merchant.call("POST", "/api/create-invoice", invoice_body(), headers=key)
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.PutItem", before_first_put)

    (b_status, b_body, b_headers), (a_status, a_body, a_headers) = answers["B"], answers["A"]
    assert (b_status, a_status) == (200, 200)
    assert a_body == b_body
    assert "Idempotent-Replayed" not in b_headers and a_headers["Idempotent-Replayed"] == "true"
    assert [p["payment_id"] for p in stored_payments()] == [b_body["payment_id"]]
    assert len(puts) == 2


def test_without_a_key_every_request_is_a_new_payment(merchant: Api) -> None:
    _, a, _ = merchant.call("POST", "/api/create-invoice", invoice_body())
    _, b, _ = merchant.call("POST", "/api/create-invoice", invoice_body())
    assert a["payment_id"] != b["payment_id"]


def test_overlong_idempotency_key_is_refused(merchant: Api) -> None:
    status, body, _ = merchant.call(
        "POST", "/api/create-invoice", invoice_body(), headers={"Idempotency-Key": "k" * 256}
    )
    assert status == 422
    assert body["error"]["details"][0]["field"] == "Idempotency-Key"
    assert stored_payments() == []


# ------------------------------------------------------------------ v2 flavour


def test_create_v2_payment_has_the_v2_shape(merchant: Api) -> None:
    status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body())
    assert status == 200
    link = body.pop("checkout_url")
    assert body == {"ok": True, "tx_id": "tx-1001", "status": "PENDING", "payment_id": "pay_tx-1001"}
    assert link.startswith("http://127.0.0.1:3000/checkout/") and "tx-1001" not in link
    _, view, _ = _get(merchant, "pay_tx-1001")
    assert view["status"] == "PENDING"
    assert (view["tx_id"], view["order_id"], view["user_id"]) == ("tx-1001", "order-1001", "user-7")


def test_same_tx_id_with_same_fields_returns_the_existing_payment(merchant: Api) -> None:
    _, first, _ = merchant.call("POST", "/api/v2/payments", v2_body())
    status, again, _ = merchant.call("POST", "/api/v2/payments", v2_body())
    assert status == 200
    assert again == first
    assert len(stored_payments()) == 1


@pytest.mark.parametrize("change", [{"amount": 5000}, {"callback_url": "https://other.example.com/cb"}])
def test_same_tx_id_with_other_amount_or_callback_is_a_conflict(merchant: Api, change: dict) -> None:
    merchant.call("POST", "/api/v2/payments", v2_body())
    status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(**change))
    assert status == 409
    assert body["error"]["code"] == "tx_id_conflict"
    assert stored_payments()[0]["amount"] == 4_990


def test_tx_id_with_url_special_characters_gets_an_encoded_checkout_link(merchant: Api) -> None:
    _, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id="a?b#c"))
    assert body["payment_id"] == "pay_a?b#c"
    link = body["checkout_url"].rsplit("/checkout/", 1)[1]
    assert link == quote(link, safe="") and "a?b#c" not in unquote(link)
    assert _get(merchant, "pay_a?b#c")[0] == 200


# ------------------------------------------------------------------ reading and errors


def test_unknown_payment_is_404(merchant: Api) -> None:
    status, body, _ = _get(merchant, "pay_nope")
    assert status == 404
    assert body["error"]["code"] == "payment_not_found"
    status, _, _ = _get(merchant, "p" * 5000)
    assert status == 404


BAD_REQUESTS = [
    ("malformed JSON", "{not json", {}, 400, "malformed_json"),
    ("JSON array", "[1, 2]", {}, 400, "malformed_json"),
    ("JSON string", '"hello"', {}, 400, "malformed_json"),
    ("empty body", "", {}, 400, "malformed_json"),
    ("wrong content type", json.dumps(invoice_body()), {"Content-Type": "text/plain"}, 400, "unsupported_content_type"),
    ("form post", "amount=1", {"Content-Type": "application/x-www-form-urlencoded"}, 400, "unsupported_content_type"),
    ("huge body", json.dumps(invoice_body(description="x" * 70_000)), {}, 400, "body_too_large"),
    ("negative amount", json.dumps(invoice_body(amount=-5)), {}, 422, "validation_error"),
    ("fractional amount", json.dumps(invoice_body(amount=10.5)), {}, 422, "validation_error"),
    ("string amount", json.dumps(invoice_body(amount="100")), {}, 422, "validation_error"),
    ("missing fields", json.dumps({"amount": 100}), {}, 422, "validation_error"),
    ("huge reference", json.dumps(invoice_body(reference="r" * 10_000)), {}, 422, "validation_error"),
    ("null body fields", json.dumps(invoice_body(webhook_url=None)), {}, 422, "validation_error"),
    ("bad customer e-mail", json.dumps(invoice_body(customer_email="not-an-address")), {}, 422, "validation_error"),
]


@pytest.mark.parametrize(("case", "raw", "headers", "status", "code"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_invoice_input_gets_a_clear_4xx_and_changes_nothing(
    merchant: Api, case: str, raw: str, headers: dict, status: int, code: str
) -> None:
    got_status, body, response_headers = merchant.call("POST", "/api/create-invoice", raw_body=raw, headers=headers)
    assert got_status == status, body
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert response_headers["Content-Type"] == "application/json"
    assert stored_payments() == []


@pytest.mark.parametrize(
    "media_type", ["application/json; charset=utf-8", "application/vnd.api+json", "Application/JSON"]
)
def test_json_media_types_are_accepted(merchant: Api, media_type: str) -> None:
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body(), headers={"Content-Type": media_type})
    assert status == 200, body
    assert len(stored_payments()) == 1


def test_base64_encoded_json_bodies_are_accepted(merchant: Api) -> None:
    import base64

    from sandbox.apigw import LambdaContext, proxy_event
    from tests.support import load_handler

    event = proxy_event("POST", "/api/create-invoice", headers={"Content-Type": "application/json"})
    event["body"] = base64.b64encode(json.dumps(invoice_body()).encode()).decode()
    event["isBase64Encoded"] = True
    response = load_handler("create_payment").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200


def test_invalid_base64_body_is_a_400(merchant: Api) -> None:
    from sandbox.apigw import LambdaContext, proxy_event
    from tests.support import load_handler

    event = proxy_event("POST", "/api/create-invoice", headers={"Content-Type": "application/json"})
    event["body"], event["isBase64Encoded"] = "!!!not-base64", True
    response = load_handler("create_payment").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400


def test_bad_v2_input_is_refused_field_by_field(merchant: Api) -> None:
    status, body, _ = merchant.call("POST", "/api/v2/payments", {"tx_id": "", "amount": 0})
    assert status == 422
    fields = {d["field"] for d in body["error"]["details"]}
    assert {"tx_id", "amount", "order_id", "user_id", "callback_url"} <= fields
    assert stored_payments() == []


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/unknown"), ("DELETE", "/api/create-invoice"), ("PUT", "/api/v2/payments")]
)
def test_unknown_routes_and_methods_are_json_404s(merchant: Api, method: str, path: str) -> None:
    status, body, _ = merchant.call(method, path)
    assert status == 404
    assert body["error"]["code"] == "route_not_found"
