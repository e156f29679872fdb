"""AcquireMock v2 README, example by example (put the README beside this file and tick off).

Each test is named after the README section it covers and quotes where its example is. The
request bodies are the README's JSON, pasted as text and sent as it parses. What the README
cannot fix for a sandbox — the host and port of ``pageUrl`` (it shows ``localhost:8002``) and
the merchant's webhook URL (``https://your-site.com/webhook`` becomes our receiver) — is
replaced, and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from harness.receiver import Receiver, Reply
from tests.conformance.conftest import OPERATOR, SECRET, Customer, Sandbox, json_type
from tests.conformance.seed_receivers import DjangoShop
from tests.support import wait_for

# "## API Endpoints / ### POST /api/create-invoice / **Request:**"
CREATE_INVOICE_REQUEST = """
{
  "amount": 25000,
  "reference": "ORDER-123",
  "webhook_url": "https://your-site.com/webhook",
  "redirect_url": "https://your-site.com/success"
}
"""
# "### POST /webhooks/verify / **Request:**" and its "**Headers:**" block
VERIFY_REQUEST = """
{
  "payment_id": "uuid",
  "reference": "ORDER-123",
  "amount": 25000,
  "status": "paid"
}
"""
VERIFY_HEADER_PLACEHOLDER = "hmac-sha256-signature"


def create_invoice(sandbox: Sandbox, webhook_url: str | None = None) -> dict[str, Any]:
    body = json.loads(CREATE_INVOICE_REQUEST)
    if webhook_url:
        body["webhook_url"] = webhook_url
    status, created = sandbox.request("POST", "/api/create-invoice", body)
    assert status == 200, created
    return dict(created)


def view(sandbox: Sandbox, payment_id: str) -> dict[str, Any]:
    status, body = sandbox.request("GET", f"/api/payments/{payment_id}")
    assert status == 200, body
    return dict(body)


def is_iso_z(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("Z") and bool(datetime.fromisoformat(value[:-1]))


# ------------------------------------------------------------------ API Endpoints


def test_post_api_create_invoice(sandbox: Sandbox) -> None:
    # README "### POST /api/create-invoice": Request as printed; Response {"pageUrl": ".../checkout/{payment_id}"}
    created = create_invoice(sandbox)
    assert json_type(created["pageUrl"]) == "string"
    assert created["pageUrl"] == f"{sandbox.url}/checkout/{created['payment_id']}"
    # The page it names is the hosted checkout of that payment.
    page = Customer().get(created["pageUrl"])
    assert "ORDER-123" in page and "250.00" in page
    stored = view(sandbox, created["payment_id"])
    assert (stored["amount"], stored["reference"], stored["status"]) == (25000, "ORDER-123", "pending")
    assert json_type(stored["amount"]) == "integer"


def test_post_webhooks_verify(sandbox: Sandbox) -> None:
    # README "### POST /webhooks/verify": Headers "X-Signature: hmac-sha256-signature", Request as printed.
    body = json.loads(VERIFY_REQUEST)
    signature = hmac.new(SECRET.encode(), json.dumps(body, sort_keys=True).encode(), hashlib.sha256).hexdigest()
    status, answer = sandbox.request("POST", "/webhooks/verify", body, headers={"X-Signature": signature})
    assert (status, answer) == (200, {"valid": True, "scheme": "x-signature"})
    # The README's placeholder is not a signature of that body: refused, with a reason.
    placeholder = {"X-Signature": VERIFY_HEADER_PLACEHOLDER}
    status, answer = sandbox.request("POST", "/webhooks/verify", body, headers=placeholder)
    assert status == 400 and answer["valid"] is False and answer["error"]["code"] == "invalid_x_signature"


# ------------------------------------------------------------------ Webhook Integration + Тестові дані


def test_webhook_integration_django_receiver_with_the_test_card(sandbox: Sandbox, receiver: Receiver) -> None:
    # README "## Webhook Integration / ### Отримання webhook в Django": the view, verbatim, is the
    # merchant; README "## Тестові дані": card 4444 4444 4444 4444, any CVV, any MM/YY.
    shop = DjangoShop(SECRET)
    receiver.plan = shop.reply
    created = create_invoice(sandbox, webhook_url=receiver.url("/payments/webhook"))
    order = shop.place_order(created["payment_id"])

    result = Customer().pay(created["pageUrl"], "4444 4444 4444 4444", "12/30", "123")
    assert "Payment successful" in result

    delivered = wait_for(lambda: [r for r in receiver.requests if r.answered == 200])
    assert len(receiver.requests) == 1  # the view said 200 to the first attempt: signature valid
    assert (order.status, order.saves) == ("paid", 1)
    request = delivered[0]
    payload = json.loads(request.body)
    assert payload["payment_id"] == created["payment_id"] and payload["status"] == "paid"
    assert (payload["reference"], payload["amount"], payload["card_mask"]) == ("ORDER-123", 25000, "**** 4444")
    assert request.headers["X-Payment-ID"] == created["payment_id"]
    assert request.headers["Content-Type"] == "application/json"
    assert wait_for(lambda: view(sandbox, created["payment_id"])["webhook_status"] == "delivered")


def test_webhook_integration_django_receiver_refuses_a_forged_webhook(sandbox: Sandbox) -> None:
    # The same view with another secret answers 403 {"error": "Invalid signature"}: the check bites.
    shop = DjangoShop("not-" + SECRET)
    receiver = Receiver()
    try:
        receiver.plan = shop.reply
        created = create_invoice(sandbox, webhook_url=receiver.url("/payments/webhook"))
        shop.place_order(created["payment_id"])
        status, _ = sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": created["payment_id"]}, OPERATOR)
        assert status == 200
        first = wait_for(lambda: receiver.requests[:1])[0]
        assert first.answered == 403 and shop.orders[created["payment_id"]].status == "new"
    finally:
        receiver.close()


# ------------------------------------------------------------------ Структура БД (what a status read shows)


def test_structure_of_table_payments_is_what_a_status_read_shows(sandbox: Sandbox, receiver: Receiver) -> None:
    # README "## Структура БД / ### Таблиця payments": id, amount, reference, status
    # (pending/waiting_for_otp/paid/failed/expired), webhook_url, webhook_attempts (int),
    # webhook_status (string), expires_at, created_at, updated_at, paid_at.
    created = create_invoice(sandbox, webhook_url=receiver.url())
    before = view(sandbox, created["payment_id"])
    assert before["status"] == "pending" and before["paid_at"] is None and before["webhook_attempts"] == 0
    Customer().pay(created["pageUrl"], "4444444444444444", "01/29", "999")
    after = wait_for(lambda: (v := view(sandbox, created["payment_id"]))["webhook_status"] == "delivered" and v)
    assert after["payment_id"] == created["payment_id"] and after["reference"] == "ORDER-123"
    assert after["status"] == "paid" and json_type(after["amount"]) == "integer"
    assert json_type(after["webhook_attempts"]) == "integer" and after["webhook_attempts"] == 1
    assert json_type(after["webhook_status"]) == "string"
    for stamp in ("expires_at", "created_at", "updated_at", "paid_at"):
        assert is_iso_z(after[stamp]), stamp


# ------------------------------------------------------------------ Background Tasks


def test_background_task_expire_pending_payments_after_15_minutes(sandbox: Sandbox) -> None:
    # README "## Background Tasks" 1: "закінчує платежі старше 15 хвилин (кожну хвилину)".
    stored = view(sandbox, create_invoice(sandbox)["payment_id"])
    lifetime = datetime.fromisoformat(stored["expires_at"][:-1]) - datetime.fromisoformat(stored["created_at"][:-1])
    assert lifetime.total_seconds() == 15 * 60


def test_background_task_retry_failed_webhooks_up_to_5_attempts(start: Any, receiver: Receiver) -> None:
    # README "## Background Tasks" 2: "повторює failed webhooks до 5 спроб". Delays shortened.
    sandbox = start(WEBHOOK_RETRY_DELAYS="1,1,1,1")
    receiver.plan = lambda request, n: Reply(status=500)
    created = create_invoice(sandbox, webhook_url=receiver.url())
    assert sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": created["payment_id"]}, OPERATOR)[0] == 200
    final = wait_for(lambda: (v := view(sandbox, created["payment_id"]))["webhook_status"] == "failed" and v, 60)
    assert final["webhook_attempts"] == 5 and len(receiver.requests) == 5


# ------------------------------------------------------------------ beyond the README: typed example merchants


class TypedWebhook(BaseModel):
    """AcquireMock's published example merchants parse the body into a model like this one."""

    payment_id: str
    reference: str
    amount: int
    status: str
    timestamp: str
    card_mask: str


def typed_merchant(request: Any, _n: int) -> Reply:
    try:
        TypedWebhook.model_validate_json(request.body)
    except ValueError:
        return Reply(status=500)  # what FastAPI answers when its own model refuses the body
    return Reply(status=200)


def test_typed_receivers_accept_operator_confirmed_and_expired_invoices(start: Any, receiver: Receiver) -> None:
    sandbox = start(PAYMENT_TTL_SECONDS="3", EXPIRER_INTERVAL_SECONDS="1")
    receiver.plan = typed_merchant
    confirmed = create_invoice(sandbox, webhook_url=receiver.url("/confirmed"))["payment_id"]
    assert sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": confirmed}, OPERATOR)[0] == 200
    expiring = create_invoice(sandbox, webhook_url=receiver.url("/expired"))["payment_id"]
    for payment_id, status in ((confirmed, "paid"), (expiring, "expired")):
        settled = wait_for(lambda p=payment_id: (v := view(sandbox, p))["webhook_status"] == "delivered" and v, 30)
        assert settled["status"] == status and settled["webhook_attempts"] == 1 and settled["card_mask"] == ""
    bodies = {r.path: json.loads(r.body) for r in receiver.requests}
    assert bodies["/confirmed"]["card_mask"] == "" and bodies["/expired"]["card_mask"] == ""


def test_health_is_public_for_example_merchants_probes(sandbox: Sandbox) -> None:
    # AcquireMock's example merchants probe GET /health and call the gateway down on a 404.
    status, body = sandbox.request("GET", "/health")
    assert status == 200 and body["status"] == "ok"
    assert json_type(body["version"]) == "string" and is_iso_z(body["timestamp"])
