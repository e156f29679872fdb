"""Every JSON route of the template, with the models its handler validates and answers with.

``tests/unit/test_openapi_document.py`` checks this table against ``template.yaml``: a JSON
route added to the template without a line here fails the build. The merchant's and the
documentation's routes are here, the operator's in ``operator_routes``; ``ROUTES`` is the
order of the document.
"""

from __future__ import annotations

from paysandbox.apidoc import responses as out
from paysandbox.apidoc.operator_routes import OPERATOR_ROUTES
from paysandbox.apidoc.route_types import DOCS, MERCHANT, PAYMENT_ID, WEBHOOK_URL, Param, Route
from paysandbox.models import InvoiceCreate, V2Create

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

MERCHANT_ROUTES: tuple[Route, ...] = (
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
)

DOCUMENTATION_ROUTES: tuple[Route, ...] = (
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

ROUTES: tuple[Route, ...] = MERCHANT_ROUTES + OPERATOR_ROUTES + DOCUMENTATION_ROUTES
