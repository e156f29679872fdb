"""Every JSON route of the template, with the models its handler validates and answers with.

``tests/unit/test_openapi_document.py`` checks this table against ``template.yaml``: a JSON
route added to the template without a line here fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from paysandbox.apidoc import responses as out
from paysandbox.models import FailRequest, InvoiceCreate, PaymentRef, V2Create

MERCHANT, OPERATOR, DOCS = "merchant", "operator", "documentation"

# Routes of the template that answer HTML, not JSON: described by the pages themselves.
HTML_ROUTES = frozenset(
    {
        ("GET", "/console"),
        ("GET", "/docs"),
        ("GET", "/checkout/{payment_id}"),
        ("POST", "/checkout/{payment_id}"),
        ("POST", "/checkout/{payment_id}/otp"),
    }
)

ERRORS = {
    400: "Malformed JSON, a body that is not a JSON object, or the wrong content type.",
    401: "Missing or wrong operator token.",
    404: "Unknown payment (or route).",
    409: "State conflict: the payment cannot make this move, or a reused idempotency key.",
    422: "Field validation failed; `details` names each field.",
    429: "Throttled; retry later.",
}


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path | query | header
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    description: str
    ok: int
    answer: type[BaseModel]
    errors: tuple[int, ...]
    body: type[BaseModel] | None = None
    example: dict[str, Any] | None = None
    params: tuple[Param, ...] = ()
    other: dict[int, tuple[str, tuple[type[BaseModel], ...]]] = field(default_factory=dict)

    @property
    def operator(self) -> bool:
        return self.tag == OPERATOR


PAYMENT_ID = Param("payment_id", "path", "`inv_…` or `pay_<tx_id>`.", required=True)
EVENT_ID = Param("event_id", "path", "`evt_…`, from a webhook's `webhook-id` or the events list.", required=True)
WEBHOOK_URL = "https://merchant.example.com/hooks"

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/api/create-invoice",
        "createInvoice",
        MERCHANT,
        "Create an invoice (AcquireMock v2 style)",
        "Returns the hosted checkout page for the customer. `webhookUrl`/`redirectUrl` (camelCase) "
        "are accepted too. The same `Idempotency-Key` with the same body returns the original "
        "answer (header `Idempotent-Replayed: true`); with another body it is a 409.",
        200,
        out.InvoiceCreated,
        (400, 409, 422, 429),
        body=InvoiceCreate,
        example={
            "amount": 12500,
            "reference": "order-1001",
            "webhook_url": WEBHOOK_URL,
            "redirect_url": "https://merchant.example.com/thanks",
        },
        params=(Param("Idempotency-Key", "header", "At most 255 characters; kept at least 24 h.", {"type": "string"}),),
    ),
    Route(
        "POST",
        "/api/v2/payments",
        "createV2Payment",
        MERCHANT,
        "Create a payment (Payment Server v2 style)",
        "Idempotent on `tx_id`: the same fields return the existing payment; another `amount` or "
        "`callback_url` is a 409.",
        200,
        out.V2Created,
        (400, 409, 422, 429),
        body=V2Create,
        example={
            "version": "v2",
            "tx_id": "tx-1001",
            "order_id": "order-1001",
            "user_id": "user-7",
            "amount": 4990,
            "callback_url": WEBHOOK_URL,
        },
    ),
    Route(
        "GET",
        "/api/payments/{payment_id}",
        "getPayment",
        MERCHANT,
        "Read a payment",
        "The payment view in the flavour of the payment; never card data or secrets.",
        200,
        out.PaymentView,
        (404, 429),
        params=(PAYMENT_ID,),
    ),
    Route(
        "POST",
        "/webhooks/verify",
        "verifyWebhook",
        MERCHANT,
        "Check a webhook's signature",
        "Send the raw body as received with its `X-Signature`, `X-Payment-Signature` or Standard "
        "Webhooks headers. With several schemes present all must verify.",
        200,
        out.Verified,
        (429,),
        other={
            400: (
                "The signature does not verify or none was sent (`valid: false`), or the body is unreadable.",
                (out.NotVerified, out.ErrorBody),
            )
        },
    ),
    Route(
        "POST",
        "/api/v2/confirm-payment",
        "confirmPayment",
        OPERATOR,
        "Confirm a payment",
        "Confirming a paid payment answers the same again; failed or expired payments are a 409.",
        200,
        out.Confirmed,
        (400, 401, 404, 409, 422, 429),
        body=PaymentRef,
        example={"payment_id": "pay_tx-1001"},
    ),
    Route(
        "POST",
        "/api/v2/fail-payment",
        "failPayment",
        OPERATOR,
        "Fail a payment",
        "Records `decline_code: declined_by_operator` and the optional reason.",
        200,
        out.Failed,
        (400, 401, 404, 409, 422, 429),
        body=FailRequest,
        example={"payment_id": "pay_tx-1002", "reason": "fraud check"},
    ),
    Route(
        "GET",
        "/api/v2/pending-payments",
        "listPayments",
        OPERATOR,
        "List payments with counts per status",
        "Newest first. Pass `next_cursor` back as `cursor` for the next page.",
        200,
        out.PaymentList,
        (400, 401, 422, 429),
        params=(
            Param("status", "query", "pending|completed|failed|expired|refunded, or a state or v2 name."),
            Param("limit", "query", "1..500 (default 100).", {"type": "integer", "minimum": 1, "maximum": 500}),
            Param("cursor", "query", "`next_cursor` of the previous page."),
            Param("reference", "query", "Find the invoice with this merchant reference."),
            Param("tx_id", "query", "Find the v2 payment with this tx_id."),
        ),
    ),
    Route(
        "GET",
        "/api/payments/{payment_id}/webhooks",
        "webhookLog",
        OPERATOR,
        "Every webhook attempt of a payment",
        "Oldest first: chain, attempt number, the body sent, the answer or error, the outcome.",
        200,
        out.DeliveryLog,
        (401, 404, 429),
        params=(PAYMENT_ID,),
    ),
    Route(
        "POST",
        "/api/payments/{payment_id}/webhooks/redeliver",
        "redeliverWebhook",
        OPERATOR,
        "Send the latest event again",
        "Starts a new attempt chain through the retry queue; 409 when the payment has no event yet.",
        202,
        out.Redelivery,
        (401, 404, 409, 429),
        params=(PAYMENT_ID,),
    ),
    Route(
        "GET",
        "/api/events",
        "listEvents",
        OPERATOR,
        "The team's webhook events",
        "Newest first, `next_cursor` for the next page. With `after=<event_id>`: the events written "
        "after that one, oldest first (how `paysandbox listen` tails them).",
        200,
        out.EventList,
        (401, 404, 422, 429),
        params=(
            Param("type", "query", "Event type, or several separated by commas."),
            Param("payment_id", "query", "Only this payment's events."),
            Param("delivery", "query", "pending|delivered|failed|gone."),
            Param("limit", "query", "1..500 (default 100).", {"type": "integer", "minimum": 1, "maximum": 500}),
            Param("cursor", "query", "`next_cursor` of the previous page."),
            Param("after", "query", "An event id: list the events after it, oldest first (404 if unknown)."),
            Param("signed", "query", "`true`: each event also carries `webhook`, its body and signature headers."),
        ),
    ),
    Route(
        "GET",
        "/api/events/{event_id}",
        "getEvent",
        OPERATOR,
        "One event",
        "Its body and delivery status.",
        200,
        out.Event,
        (401, 404, 429),
        params=(EVENT_ID,),
    ),
    Route(
        "POST",
        "/api/events/{event_id}/redeliver",
        "redeliverEvent",
        OPERATOR,
        "Send one event again",
        "Starts a new attempt chain through the retry queue.",
        202,
        out.Redelivery,
        (401, 404, 429),
        params=(EVENT_ID,),
    ),
    Route(
        "GET",
        "/api/v2/console-config",
        "consoleConfig",
        OPERATOR,
        "What the console shows receivers",
        "The webhook secret in the Standard Webhooks `whsec_` form.",
        200,
        out.ConsoleConfig,
        (401, 429),
    ),
    Route(
        "GET",
        "/health",
        "health",
        DOCS,
        "Is the API up",
        "Public; touches nothing behind the API (no DynamoDB call).",
        200,
        out.Health,
        (429,),
    ),
    Route(
        "GET",
        "/openapi.json",
        "openApiDocument",
        DOCS,
        "This document",
        "OpenAPI 3.1, generated from the models the handlers validate with. A readable version is at `/docs`.",
        200,
        out.Document,
        (429,),
    ),
)
