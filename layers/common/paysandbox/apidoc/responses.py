"""Response shapes, for the document only.

The handlers build their answers as plain dicts (``paysandbox.models``); these models write the
same shapes down so that the document can say what comes back. The schemathesis run checks
every real answer against them, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Id = str | int  # v2 order_id / user_id are echoed with the JSON type the client sent


class ErrorDetail(BaseModel):
    field: str
    problem: str
    remaining: int | None = Field(None, description="`refund_exceeds_amount`: what may still be refunded.")


class ErrorInfo(BaseModel):
    code: str = Field(description="Machine-readable, snake_case.", examples=["validation_error"])
    message: str
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """The one error shape of every JSON route."""

    error: ErrorInfo


class InvoiceCreated(BaseModel):
    pageUrl: str = Field(description="The hosted checkout page: send the customer here.")
    payment_id: str
    status: Literal["pending"]
    expires_at: str


class V2Created(BaseModel):
    ok: Literal[True]
    tx_id: str
    status: str
    payment_id: str
    checkout_url: str


class PaymentView(BaseModel):
    """A payment in the flavour it was created in: ``reference`` (invoice) or v2 ids."""

    payment_id: str
    status: str = Field(
        description="Invoice: pending|waiting_for_otp|paid|failed|expired|refunded; v2: PENDING|PAYMENT_…"
    )
    amount: int = Field(description="Minor units (12500 = 125.00).")
    currency: str
    created_at: str
    updated_at: str
    expires_at: str
    paid_at: str | None
    webhook_status: str | None
    webhook_attempts: int
    card_mask: str = Field(description='Only the last four digits, e.g. "**** 4242"; "" when no card was used.')
    decline_code: str | None
    amount_refunded: int = Field(description="Minor units refunded so far.")
    reference: str | None = None
    tx_id: str | None = None
    order_id: Id | None = None
    user_id: Id | None = None
    confirmed_at: str | None = None
    callback_url: str | None = None


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    timestamp: str


class Confirmed(BaseModel):
    ok: Literal[True]
    payment_id: str
    status: str
    confirmed_at: str | None


class Failed(BaseModel):
    ok: Literal[True]
    payment_id: str
    status: str


class PaymentList(BaseModel):
    """Newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""

    pending_count: int
    completed_count: int
    failed_count: int
    expired_count: int
    refunded_count: int
    payments: dict[str, PaymentView]
    next_cursor: str | None


class DeliveryAttempt(BaseModel):
    payment_id: str
    event_id: str | None
    event: str | None
    chain: int | None
    attempt_number: int | None
    url: str | None
    payload: Any = Field(description="The webhook body as sent.")
    signature_headers: dict[str, str]
    response_status: int | None
    response_body: str | None
    error: str | None
    duration_ms: int | float | None
    success: bool
    outcome: str
    next: Literal["none", "retry", "dead_letter"] | None = Field(
        description="What followed this attempt: nothing (delivered), a retry, or the dead-letter queue."
    )
    next_attempt_at: str | None = Field(description="When the retry after this attempt is due (next=retry).")
    timestamp: str | None


class DeliveryLog(BaseModel):
    deliveries: list[DeliveryAttempt]


class Redelivery(BaseModel):
    payment_id: str
    event_id: str
    chain: int


class Refund(BaseModel):
    refund_id: str
    payment_id: str
    amount: int = Field(description="Minor units.")
    status: Literal["succeeded", "failed"]
    failure_reason: str | None = Field(description="`refund_failed` for the failing-refund test card's payments.")
    reason: str | None
    created_at: str


class RefundList(BaseModel):
    refunds: list[Refund] = Field(description="Oldest first.")


class RetryScheduled(BaseModel):
    payment_id: str
    event_id: str
    attempt: int = Field(description="The attempt number that is now sent.")


class EventDelivery(BaseModel):
    status: Literal["pending", "delivered", "failed", "gone"]
    attempts: int
    last_response_status: int | None


class SignedDelivery(BaseModel):
    payload: str = Field(description="The exact body a delivery carries")
    headers: dict[str, str] = Field(description="Its signature headers, signed when this answer was made")


class Event(BaseModel):
    event_id: str
    type: str = Field(description="payment.completed|payment.failed|payment.expired|payment.refunded|refund.failed")
    payment_id: str
    created_at: str | None
    body: dict[str, Any] = Field(description="The webhook body, in the payment's flavour")
    delivery: EventDelivery
    webhook: SignedDelivery | None = Field(default=None, description="Only with `signed=true`")


class EventList(BaseModel):
    events: list[Event]
    next_cursor: str | None


class Verified(BaseModel):
    valid: Literal[True]
    scheme: str


class NotVerified(BaseModel):
    valid: Literal[False]
    error: ErrorInfo


class ConsoleConfig(BaseModel):
    team_id: str = Field(
        description='The team the token or key acts for: a key\'s own team; for the admin token, ?team= or "default".'
    )
    webhook_secret_whsec: str = Field(description='"whsec_" + base64(webhook secret)')


class Document(BaseModel):
    """This OpenAPI document."""

    model_config = {"extra": "allow"}

    openapi: str
