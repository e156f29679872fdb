"""Refunds (docs/refunds-and-test-helpers.md): partial and repeated refunds of a paid payment, up to its amount.

The payment is found by ``payments.get_payment`` (the one finder every operator route uses);
its ``payment_id`` is the table key every write uses, while answers show the id the caller
named. Then the refund is ONE conditional write on it (``repository.refunds.add``): of two refunds
that together exceed the amount, exactly one succeeds, whatever their order. A lost write
is re-judged on the item DynamoDB returned with the failure, never on a fresh read.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from paysandbox import clock, scope
from paysandbox.errors import Conflict, NotFound, ValidationFailed
from paysandbox.models import Payment, RefundRequest
from paysandbox.payments import get_payment
from paysandbox.repository import ConditionFailed
from paysandbox.repository import refunds as store
from paysandbox.states import Status

FAILURE_REASON = "refund_failed"  # why a refund of a failing-refund card's payment fails
MAX_REFUNDS = 100  # per payment: the refunds live on the payment's item (400 KB at most)
MAX_ATTEMPTS = 5  # writes per request: a write only loses when another refund just won


def refund_id_for_key(payment_id: str, idempotency_key: str) -> str:
    """The refund id an Idempotency-Key maps to on this payment (the write's duplicate guard)."""
    return "re_" + hashlib.sha256(f"refund:{payment_id}:{idempotency_key}".encode()).hexdigest()[:24]


def _request_hash(request: RefundRequest) -> str:
    canonical = json.dumps(request.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def refund_view(refund: dict[str, Any], payment_id: str) -> dict[str, Any]:
    return {
        "refund_id": refund["refund_id"],
        "payment_id": payment_id,
        "amount": refund["amount"],
        "status": refund["status"],
        "failure_reason": refund.get("failure_reason"),
        "reason": refund.get("reason"),
        "created_at": refund["created_at"],
    }


def list_refunds(payment_id: str, team: str = scope.DEFAULT_TEAM) -> list[dict[str, Any]]:
    """The payment's refunds, oldest first."""
    payment = get_payment(payment_id, team)
    return [refund_view(r, payment_id) for r in payment.refunds]


def create(
    payment_id: str, request: RefundRequest, idempotency_key: str | None, team: str = scope.DEFAULT_TEAM
) -> tuple[dict[str, Any], bool]:
    """Refund a paid payment. Returns (refund view, replayed)."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 characters.",
            details=[{"field": "Idempotency-Key", "problem": "length must be 1..255"}],
        )
    payment = get_payment(payment_id, team)
    refund_id = refund_id_for_key(payment.payment_id, idempotency_key) if idempotency_key else None
    refund_id = refund_id or f"re_{secrets.token_hex(12)}"
    request_hash = _request_hash(request)
    for _ in range(MAX_ATTEMPTS):
        replay = _replayed(payment, payment_id, refund_id, request_hash)
        if replay is not None:
            return replay, True
        refund, effect, limit = _judge(payment, request, refund_id, request_hash)
        try:
            store.add(payment.payment_id, refund, effect=effect, limit=limit, now=clock.now_epoch())
        except ConditionFailed as lost:
            if lost.existing is None:  # the payment vanished meanwhile (retention)
                raise NotFound(f"No payment {payment_id!r}.", code="payment_not_found") from None
            payment = Payment.model_validate(lost.existing)
            continue
        return refund_view(refund, payment_id), False
    raise Conflict("The payment changed too often to refund it now; try again.", code="refund_contended")


def _replayed(payment: Payment, payment_id: str, refund_id: str, request_hash: str) -> dict[str, Any] | None:
    for earlier in payment.refunds:
        if earlier["refund_id"] == refund_id:
            if earlier.get("request_hash") != request_hash:
                raise Conflict(
                    "This Idempotency-Key was already used with different parameters.", code="idempotency_key_reused"
                )
            return refund_view(earlier, payment_id)
    return None


def _judge(
    payment: Payment, request: RefundRequest, refund_id: str, request_hash: str
) -> tuple[dict[str, Any], store.Effect, int]:
    """The refund this request makes of the payment as last seen: (refund, effect, limit)."""
    if payment.status is not Status.PAID:
        raise Conflict(
            f"Only a paid payment can be refunded; this one is {payment.status.value}.", code="payment_not_refundable"
        )
    remaining = payment.amount - payment.amount_refunded
    amount = remaining if request.amount is None else request.amount
    if amount > remaining:
        raise Conflict(
            f"The refund exceeds what remains of the payment ({remaining}).",
            code="refund_exceeds_amount",
            details=[{"field": "amount", "problem": "exceeds the remaining amount", "remaining": remaining}],
        )
    if len(payment.refunds) >= MAX_REFUNDS:
        raise Conflict(f"A payment takes at most {MAX_REFUNDS} refunds.", code="too_many_refunds")
    failing = payment.refunds_fail
    refund = {
        "refund_id": refund_id,
        "amount": amount,
        "status": "failed" if failing else "succeeded",
        "failure_reason": FAILURE_REASON if failing else None,
        "reason": request.reason,
        "created_at": clock.iso(clock.now_epoch()),
        "request_hash": request_hash,
    }
    effect: store.Effect = "none" if failing else ("full" if amount == remaining else "partial")
    return refund, effect, payment.amount - amount
