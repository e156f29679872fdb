"""Request and response shapes of both API flavours, and the stored payment.

Requests are validated with pydantic; responses are plain dicts built from ``Payment`` so
that what leaves the service is written down in one place per flavour.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    WithJsonSchema,
)

from paysandbox import scope
from paysandbox.clock import iso
from paysandbox.plaintext import no_control_characters
from paysandbox.states import V2_NAMES, Status

MAX_AMOUNT = 10**12
# Request models are built on first use (``defer_build``): each serves one or two routes, and a
# cold start need not build the others' (``Payment``, which nearly every route reads, is built at import).


def _absolute_http_url(value: str) -> str:
    if len(value) > 2048:
        raise ValueError("URL is longer than 2048 characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("must not contain whitespace or control characters")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials")
    return value


def _public_target(value: str) -> str:
    # SSRF guard: the sender checks again at delivery against the connected address.
    from paysandbox.targets import UnsafeTarget, check_at_creation

    try:
        return check_at_creation(value)
    except UnsafeTarget as exc:
        raise ValueError(f"webhook target refused: {exc}") from None


def _identifier(value: str) -> str:
    # Ids travel in URL paths and logs: printable, no slash, no whitespace.
    if any(ch.isspace() or ord(ch) < 32 or ch == "/" for ch in value):
        raise ValueError("must not contain '/', whitespace or control characters")
    return value


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise ValueError("must be a three-letter ISO 4217 code")
    return value.upper()


def _email(value: str) -> str:
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("must be an e-mail address")
    return value


Amount = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)]
HttpUrl = Annotated[str, AfterValidator(_absolute_http_url)]
WebhookUrl = Annotated[str, AfterValidator(_absolute_http_url), AfterValidator(_public_target)]
Identifier = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_identifier)]
# Free text that travels on (webhooks, logs, pages): no control or bidi characters (plaintext.py).
Printable = AfterValidator(no_control_characters)
# A client's own id (v2 order_id/user_id): an integer or a string, kept with the JSON type the
# client sent (the Payment Server v2 README sends integers) and echoed back with it everywhere.
CLIENT_INT_RANGE = (-(2**63), 2**63 - 1)


def _client_id(value: Any) -> int | str:
    # One validator rather than an ``int | str`` union: a union reports a bad value once per
    # branch ("order_id.int", "order_id.constrained-str"), where a client wants one "order_id".
    if isinstance(value, int) and not isinstance(value, bool):
        if not CLIENT_INT_RANGE[0] <= value <= CLIENT_INT_RANGE[1]:
            raise ValueError("must be a 64-bit signed integer or a string")
        return value
    if isinstance(value, str):
        if not 1 <= len(value) <= 128:
            raise ValueError("must be 1 to 128 characters long")
        return no_control_characters(value)
    raise ValueError("must be an integer or a string")


ClientId = Annotated[
    int | str,
    PlainValidator(_client_id),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": CLIENT_INT_RANGE[0], "maximum": CLIENT_INT_RANGE[1]},
                {"type": "string", "minLength": 1, "maxLength": 128},
            ]
        }
    ),
]


class InvoiceCreate(BaseModel):
    """``POST /api/create-invoice`` (AcquireMock v2 style); camelCase URL aliases accepted."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    amount: Amount
    reference: Annotated[str, Field(min_length=1, max_length=128), Printable]
    webhook_url: WebhookUrl = Field(validation_alias=AliasChoices("webhook_url", "webhookUrl"))
    redirect_url: HttpUrl = Field(validation_alias=AliasChoices("redirect_url", "redirectUrl"))
    currency: Annotated[str, AfterValidator(_currency)] = "UAH"
    description: Annotated[str, Field(max_length=1000), Printable] | None = None
    customer_email: Annotated[str, AfterValidator(_email), Printable] | None = None


class V2Create(BaseModel):
    """``POST /api/v2/payments`` (Payment Server v2 style), idempotent on ``tx_id``."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    version: Literal["v2"] = "v2"
    tx_id: Annotated[Identifier, Printable]
    order_id: ClientId
    user_id: ClientId
    amount: Amount
    callback_url: WebhookUrl


class PaymentRef(BaseModel):
    """Operator requests that name one payment."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    payment_id: Annotated[str, Field(min_length=1, max_length=200)]


class FailRequest(PaymentRef):
    reason: Annotated[str, Field(max_length=500), Printable] | None = None


class RefundRequest(BaseModel):
    """``POST /api/payments/{payment_id}/refunds``: without ``amount``, what remains."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    amount: Amount | None = None
    reason: Annotated[str, Field(max_length=500), Printable] | None = None


class Payment(BaseModel):
    """A payment as stored in the ``Payments`` table (minus index bookkeeping)."""

    model_config = ConfigDict(extra="ignore")

    payment_id: str
    flavour: Literal["invoice", "v2"]
    status: Status
    amount: int
    currency: str = "UAH"
    webhook_url: str
    redirect_url: str | None = None
    reference: str | None = None
    description: str | None = None
    customer_email: str | None = None
    tx_id: str | None = None
    order_id: int | str | None = None
    user_id: int | str | None = None
    created_at: float
    updated_at: float
    expires_at: float
    paid_at: float | None = None
    failed_at: float | None = None
    expired_at: float | None = None
    decline_code: str | None = None
    failure_reason: str | None = None
    card_mask: str | None = None
    amount_refunded: int = 0
    refunds: list[dict[str, Any]] = []
    refunds_fail: bool = False
    webhook_status: str | None = None
    webhook_attempts: int = 0
    request_hash: str | None = None

    @property
    def v2_status(self) -> str:
        return V2_NAMES[self.status]

    @property
    def public_id(self) -> str:
        """The id its team sees; ``payment_id`` is the table key (``<team>#<id>`` for a team's)."""
        return scope.public_id(self.payment_id)

    @property
    def team(self) -> str:
        return scope.team_of(self.payment_id)

    def is_past_expiry(self, now: float) -> bool:
        return now >= self.expires_at


def _iso_or_none(epoch: float | None) -> str | None:
    return iso(epoch) if epoch is not None else None


def checkout_url(base_url: str, payment_id: str) -> str:
    """The public checkout link of the payment with table key ``payment_id``."""
    from paysandbox.checkout_links import link_id

    return f"{base_url}/checkout/{quote(link_id(payment_id), safe='')}"


def payment_view(p: Payment) -> dict[str, Any]:
    """The payment view (GET /api/payments/{id}), in the flavour of the payment. Never holds card data or secrets."""
    view: dict[str, Any] = {
        "payment_id": p.public_id,
        "status": p.v2_status if p.flavour == "v2" else p.status.value,
        "amount": p.amount,
        "currency": p.currency,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "expires_at": iso(p.expires_at),
        "paid_at": _iso_or_none(p.paid_at),
        "webhook_status": p.webhook_status,
        "webhook_attempts": p.webhook_attempts,
        "card_mask": p.card_mask or "",  # always a string: typed receivers declare ``card_mask: str``
        "decline_code": p.decline_code,
        "amount_refunded": p.amount_refunded,
    }
    if p.flavour == "v2":
        # confirmed_at and callback_url: the Payment Server v2 README's list example shows them.
        view.update(
            tx_id=p.tx_id,
            order_id=p.order_id,
            user_id=p.user_id,
            confirmed_at=_iso_or_none(p.paid_at),
            callback_url=p.webhook_url,
        )
    else:
        view["reference"] = p.reference
    return view


def invoice_created(p: Payment, base_url: str) -> dict[str, Any]:
    # Always the response of the creation itself, so an idempotent replay is identical.
    return {
        "pageUrl": checkout_url(base_url, p.payment_id),
        "payment_id": p.public_id,
        "status": Status.PENDING.value,
        "expires_at": iso(p.expires_at),
    }


def v2_created(p: Payment, base_url: str) -> dict[str, Any]:
    return {
        "ok": True,
        "tx_id": p.tx_id,
        "status": p.v2_status,
        "payment_id": p.public_id,
        "checkout_url": checkout_url(base_url, p.payment_id),
    }


def v2_confirmed(p: Payment) -> dict[str, Any]:
    return {"ok": True, "payment_id": p.public_id, "status": p.v2_status, "confirmed_at": _iso_or_none(p.paid_at)}


def v2_failed(p: Payment) -> dict[str, Any]:
    return {"ok": True, "payment_id": p.public_id, "status": p.v2_status}


def service_health() -> dict[str, Any]:
    """``GET /health``: public, and it touches nothing (no DynamoDB call)."""
    from paysandbox import __version__, clock

    return {"status": "ok", "version": __version__, "timestamp": clock.iso(clock.now_epoch())}
