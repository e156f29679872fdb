"""Webhook events of refunds: which stream records are refunds, and their bodies (docs/refunds-and-test-helpers.md).

A refund write sets ``refund_event`` to the refund's id (``repository.refunds``); the sender's
bookkeeping write removes it. A record whose new image carries a ``refund_event`` its old image
did not is therefore exactly one refund: one event, ``payment.refunded`` or ``refund.failed``,
with its own deterministic id. A refund that reaches the full amount also moves the payment to
``refunded``; that same record is this refund's event and no second, status event is made.
Pydantic-free, like the rest of the sender's path.
"""

from __future__ import annotations

from typing import Any

REFUNDED = "payment.refunded"
REFUND_FAILED = "refund.failed"


def refund_id_of(record: dict[str, Any]) -> str | None:
    """The refund this stream record announces, or None when it announces none."""
    if record.get("eventName") != "MODIFY":
        return None
    images = record.get("dynamodb", {})
    new = images.get("NewImage", {}).get("refund_event", {}).get("S")
    old = images.get("OldImage", {}).get("refund_event", {}).get("S")
    return new if new and new != old else None


def refund_of(payment: dict[str, Any], refund_id: str) -> dict[str, Any]:
    return next(r for r in payment.get("refunds") or [] if r["refund_id"] == refund_id)


def event_type_of(refund: dict[str, Any]) -> str:
    return REFUNDED if refund["status"] == "succeeded" else REFUND_FAILED


def with_refund(body: dict[str, Any], payment: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
    """A payment event body (either flavour) turned into this refund's event body."""
    body = {**body, "event": event_type_of(refund)}
    body.update(
        refund_id=refund["refund_id"],
        refund_amount=refund["amount"],
        amount_refunded=payment.get("amount_refunded") or 0,
    )
    if refund["status"] != "succeeded":
        body["failure_reason"] = refund.get("failure_reason") or ""
    return body
