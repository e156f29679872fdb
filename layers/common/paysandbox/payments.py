"""Payment operations: the state machine applied to stored payments.

Every transition is one conditional write on the current status (``repository.payments.
update_if``), so of two racing transitions exactly one wins; the loser sees the winner's
item and turns it into a no-op (same outcome asked twice) or a 409.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from paysandbox import clock, scope, transitions
from paysandbox.errors import Conflict, NotFound, ValidationFailed
from paysandbox.models import InvoiceCreate, Payment, V2Create
from paysandbox.repository import ConditionFailed
from paysandbox.repository import payments as store
from paysandbox.settings import get_settings
from paysandbox.states import GROUPS, OPEN, OPERATOR_DECLINE, Status

MAX_ID_LENGTH = 200


# ------------------------------------------------------------------ create


def invoice_id_for_key(idempotency_key: str) -> str:
    """The payment id an Idempotency-Key maps to, so one conditional put enforces the key."""
    digest = hashlib.sha256(f"create-invoice:{idempotency_key}".encode()).hexdigest()
    return f"inv_{digest[:28]}"


def _request_hash(request: InvoiceCreate) -> str:
    canonical = json.dumps(request.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _new_item(team: str, payment_id: str, flavour: str, now: float, fields: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    expires_at = now + settings.payment_ttl_seconds
    return {
        "payment_id": scope.storage_id(team, payment_id),
        "flavour": flavour,
        "status": Status.PENDING.value,
        "status_group": scope.group_partition(team, GROUPS[Status.PENDING]),
        "due_pk": store.DUE_PARTITION,
        "created_at": now,
        "updated_at": now,
        "expires_at": expires_at,
        "webhook_attempts": 0,
        "ttl": int(now) + settings.retention_seconds,
        **fields,
    }


def create_invoice(
    request: InvoiceCreate, idempotency_key: str | None, team: str = scope.DEFAULT_TEAM
) -> tuple[Payment, bool]:
    """Create an invoice payment of ``team``. Returns (payment, replayed).

    With an Idempotency-Key the same key and body return the original payment (replayed);
    the same key with another body is a 409.
    """
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 characters.",
            details=[{"field": "Idempotency-Key", "problem": "length must be 1..255"}],
        )
    payment_id = invoice_id_for_key(idempotency_key) if idempotency_key else f"inv_{secrets.token_hex(14)}"
    request_hash = _request_hash(request)
    item = _new_item(
        team, payment_id, "invoice", clock.now_epoch(), {**request.model_dump(), "request_hash": request_hash}
    )
    try:
        store.put_new(item)
    except ConditionFailed as lost:
        existing = lost.existing
        if existing is None or existing.get("request_hash") != request_hash:
            raise Conflict(
                "This Idempotency-Key was already used with different parameters.", code="idempotency_key_reused"
            ) from None
        return Payment.model_validate(existing), True
    return Payment.model_validate(item), False


def create_v2(request: V2Create, team: str = scope.DEFAULT_TEAM) -> tuple[Payment, bool]:
    """Create a v2 payment of ``team``, idempotent on tx_id within the team. Returns (payment, existed)."""
    payment_id = f"pay_{request.tx_id}"
    fields = request.model_dump(exclude={"version", "callback_url"})
    item = _new_item(team, payment_id, "v2", clock.now_epoch(), {**fields, "webhook_url": request.callback_url})
    try:
        store.put_new(item)
    except ConditionFailed as lost:
        existing = lost.existing
        if existing is None:  # pragma: no cover - put failed on a vanished item; retrying is the caller's
            raise
        if existing.get("amount") != request.amount or existing.get("webhook_url") != request.callback_url:
            raise Conflict(
                "A payment with this tx_id exists with a different amount or callback_url.", code="tx_id_conflict"
            ) from None
        return Payment.model_validate(existing), True
    return Payment.model_validate(item), False


# ------------------------------------------------------------------ read


def payment_key(payment_id: str, team: str = scope.DEFAULT_TEAM) -> str:
    """The table key of ``team``'s payment ``payment_id``: the one place a route's payment id
    is scoped to its caller's team. Another team's payment is a 404 like a missing one."""
    key = scope.storage_id(team, payment_id) if 0 < len(payment_id) <= MAX_ID_LENGTH else None
    if key is None:
        raise NotFound(f"No payment {payment_id!r}.", code="payment_not_found")
    return key


def get_payment(payment_id: str, team: str = scope.DEFAULT_TEAM) -> Payment:
    """``team``'s payment (``Payment.payment_id`` is its table key; views show the public id)."""
    item = store.get(payment_key(payment_id, team))
    if item is None:
        raise NotFound(f"No payment {payment_id!r}.", code="payment_not_found")
    return Payment.model_validate(item)


# ------------------------------------------------------------------ transitions


def transition(
    payment_id: str,
    target: Status,
    *,
    extra: dict[str, Any] | None = None,
    now: float | None = None,
    allow_from: frozenset[Status] | None = None,
    remove: tuple[str, ...] = (),
    early: bool = False,
) -> Payment:
    """``transitions.apply`` returning the moved ``Payment`` (see there for the rules)."""
    item = transitions.apply(
        payment_id, target, extra=extra, now=now, allow_from=allow_from, remove=remove, early=early
    )
    return Payment.model_validate(item)


def _refuse(existing: dict[str, Any] | None, payment_id: str, action: str, now: float) -> Conflict | NotFound:
    if existing is None:
        return NotFound(f"No payment {payment_id!r}.", code="payment_not_found")
    current = Payment.model_validate(existing)
    if current.status in OPEN and current.is_past_expiry(now):
        return Conflict(f"Cannot {action}: the payment has expired.", code="payment_expired")
    return Conflict(f"Cannot {action} a payment that is {current.status.value}.", code="invalid_state")


def confirm(payment_id: str, team: str = scope.DEFAULT_TEAM) -> Payment:
    """Operator confirm: pending/waiting_for_otp -> paid. Confirming a paid payment again is a no-op."""
    now = clock.now_epoch()
    try:
        return transition(payment_key(payment_id, team), Status.PAID, extra={"paid_at": now}, now=now)
    except ConditionFailed as lost:
        if lost.existing and lost.existing["status"] == Status.PAID:
            return Payment.model_validate(lost.existing)
        raise _refuse(lost.existing, payment_id, "confirm", now) from None


def fail(
    payment_id: str, reason: str | None, decline_code: str = OPERATOR_DECLINE, team: str = scope.DEFAULT_TEAM
) -> Payment:
    """Operator fail: pending/waiting_for_otp -> failed. Failing a failed payment again is a no-op."""
    now = clock.now_epoch()
    extra: dict[str, Any] = {"failed_at": now, "decline_code": decline_code}
    if reason:
        extra["failure_reason"] = reason
    try:
        return transition(payment_key(payment_id, team), Status.FAILED, extra=extra, now=now)
    except ConditionFailed as lost:
        if lost.existing and lost.existing["status"] == Status.FAILED:
            return Payment.model_validate(lost.existing)
        raise _refuse(lost.existing, payment_id, "fail", now) from None
