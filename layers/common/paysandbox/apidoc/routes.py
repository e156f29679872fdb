"""Every JSON route of the template, with the models its handler validates and answers with.

``tests/unit/test_openapi_document.py`` checks this table against ``template.yaml``: a JSON
route added to the template without a line here fails the build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from paysandbox.apidoc import responses as out
from paysandbox.apidoc import team_shapes as teams
from paysandbox.models import FailRequest, InvoiceCreate, PaymentRef, RefundRequest, V2Create

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
    401: "Missing or wrong operator token or team key (`invalid_api_key`, `api_key_required`).",
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
TEAM_ID = Param("team_id", "path", "The team's id.", required=True)
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
        "POST",
        "/api/payments/{payment_id}/refunds",
        "createRefund",
        OPERATOR,
        "Refund a paid payment, wholly or in part",
        "Without `amount`: what remains. Refunds add up to the amount at most (409 "
        "`refund_exceeds_amount` with the remaining amount); the one that reaches it moves the payment "
        "to `refunded`; a payment that is not paid is a 409 `payment_not_refundable`. Each refund sends "
        "`payment.refunded` (or `refund.failed`). `Idempotency-Key` as for create-invoice.",
        200,
        out.Refund,
        (400, 401, 404, 409, 422, 429),
        body=RefundRequest,
        example={"amount": 2500, "reason": "one item returned"},
        params=(
            PAYMENT_ID,
            Param("Idempotency-Key", "header", "At most 255 characters.", {"type": "string"}),
        ),
    ),
    Route(
        "GET",
        "/api/payments/{payment_id}/refunds",
        "listRefunds",
        OPERATOR,
        "A payment's refunds",
        "Oldest first, failed ones included.",
        200,
        out.RefundList,
        (401, 404, 429),
        params=(PAYMENT_ID,),
    ),
    Route(
        "POST",
        "/api/test-helpers/payments/{payment_id}/expire",
        "expireNow",
        OPERATOR,
        "Test helper: expire an open payment now",
        "Exactly what the expirer does at the payment's expiry, webhook included; 409 when it is no longer open.",
        200,
        out.PaymentView,
        (401, 404, 409, 429),
        params=(PAYMENT_ID,),
    ),
    Route(
        "POST",
        "/api/test-helpers/payments/{payment_id}/webhooks/retry-now",
        "retryWebhookNow",
        OPERATOR,
        "Test helper: make the pending webhook retry now",
        "The scheduled retry still fires but sends nothing when this one got there first; 409 when no "
        "retry is pending.",
        202,
        out.RetryScheduled,
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
        "POST",
        "/api/teams",
        "createTeam",
        OPERATOR,
        "Create a team (admin token)",
        "The only answer that shows the team's API key in clear; 409 `team_exists`.",
        201,
        teams.TeamCreated,
        (400, 401, 409, 422, 429),
        body=teams.TeamCreate,
        example={"team_id": "shop", "name": "Shop"},
    ),
    Route(
        "GET",
        "/api/teams",
        "listTeams",
        OPERATOR,
        "List teams (admin token)",
        "Every team, oldest first, with its key's prefix (never the key).",
        200,
        teams.TeamList,
        (401, 429),
    ),
    Route(
        "GET",
        "/api/teams/{team_id}",
        "getTeam",
        OPERATOR,
        "Read a team (admin token or the team's key)",
        "With its webhook secret in `whsec_` form.",
        200,
        teams.TeamView,
        (401, 404, 429),
        params=(TEAM_ID,),
    ),
    Route(
        "DELETE",
        "/api/teams/{team_id}",
        "deleteTeam",
        OPERATOR,
        "Delete a team (admin token or the team's key)",
        "Its keys stop working (within the 60 s cache); its payments age out with retention.",
        204,
        teams.NoContent,
        (401, 404, 429),
        params=(TEAM_ID,),
    ),
    Route(
        "POST",
        "/api/teams/{team_id}/keys/roll",
        "rollTeamKey",
        OPERATOR,
        "Roll a team's API key",
        "The old key keeps working until `previous_valid_until` (`overlap_seconds`, default 0, max 7 days).",
        200,
        teams.KeyRolled,
        (400, 401, 404, 422, 429),
        body=teams.Overlap,
        params=(TEAM_ID,),
        example={"overlap_seconds": 3600},
    ),
    Route(
        "POST",
        "/api/teams/{team_id}/webhook-secret/roll",
        "rollTeamWebhookSecret",
        OPERATOR,
        "Roll a team's webhook secret",
        "During the overlap (default 24 h, max 7 days) `webhook-signature` carries both signatures.",
        200,
        teams.SecretRolled,
        (400, 401, 404, 422, 429),
        body=teams.Overlap,
        params=(TEAM_ID,),
        example={"overlap_seconds": 86400},
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
