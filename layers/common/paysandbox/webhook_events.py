"""Webhook events: ids, bodies (docs/webhooks.md), and the secrets that sign them.

An event has a stable id per payment and transition (or per refund), and its body is frozen
at first sight: the claim of attempt 1 stores it (``deliveries.attempt``), and retries and
redeliveries read it back from there (``event_from_attempt``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from paysandbox import clock, refund_events, scope, signatures
from paysandbox.repository import from_item
from paysandbox.secret_store import webhook_secret
from paysandbox.states import OPERATOR_DECLINE, TERMINAL, V2_NAMES, Status

EVENT_TYPES = {
    Status.PAID: "payment.completed",
    Status.FAILED: "payment.failed",
    Status.EXPIRED: "payment.expired",
    Status.REFUNDED: "payment.refunded",
}
STATUS_OF_EVENT_TYPE = {event_type: status.value for status, event_type in EVENT_TYPES.items()}


def event_id_for(payment_id: str, status: str) -> str:
    """Stable per payment and transition: a payment enters each terminal status at most once."""
    return "evt_" + hashlib.sha256(f"{payment_id}|{status}".encode()).hexdigest()[:32]


def event_body(payment: dict[str, Any], event_id: str, event_type: str | None = None) -> dict[str, Any]:
    """The webhook body in the payment's flavour (``event_type``: default, the status's)."""
    status = Status(payment["status"])
    event_type = event_type or EVENT_TYPES[status]
    timestamp = clock.iso(payment["updated_at"])  # when the transition was written
    if payment.get("flavour") == "v2":
        paid_at = payment.get("paid_at")
        body = {
            "event": event_type,
            "event_id": event_id,
            "payment_id": scope.public_id(payment["payment_id"]),
            "tx_id": payment.get("tx_id"),
            "order_id": payment.get("order_id"),
            "user_id": payment.get("user_id"),
            "amount": payment["amount"],
            "status": V2_NAMES[status],
            "confirmed_at": clock.iso(paid_at) if paid_at is not None else None,
            "timestamp": timestamp,
        }
    else:
        body = {
            "payment_id": scope.public_id(payment["payment_id"]),
            "reference": payment.get("reference"),
            "amount": payment["amount"],
            "status": status.value,
            "timestamp": timestamp,
            # Always a string: AcquireMock's example merchants declare ``card_mask: str``.
            "card_mask": payment.get("card_mask") or "",
            "event_id": event_id,
            "event": event_type,
        }
    if status is Status.FAILED:
        # Why it failed, so a shop testing its decline handling need not poll for it.
        body["decline_code"] = payment.get("decline_code") or ""
        if payment.get("decline_code") == OPERATOR_DECLINE:
            body["reason"] = payment.get("failure_reason") or ""
    return body


def is_terminal_transition(record: dict[str, Any]) -> bool:
    """The stream filter's rule, re-checked in code (the local runtime may not filter)."""
    if record.get("eventName") != "MODIFY":
        return False
    images = record.get("dynamodb", {})
    new = images.get("NewImage", {}).get("status", {}).get("S")
    old = images.get("OldImage", {}).get("status", {}).get("S")
    return new in {s.value for s in TERMINAL} and new != old


def event_of_record(record: dict[str, Any]) -> dict[str, Any] | None:
    """The event one Payments stream record is, or None when it is none.

    A refund's record is that refund's event (even when it also moved the payment to
    ``refunded``): one change, one event (``refund_events``).
    """
    refund_id = refund_events.refund_id_of(record)
    if refund_id is None and not is_terminal_transition(record):
        return None
    payment = from_item(record["dynamodb"]["NewImage"])
    if refund_id is None:
        event_id = event_id_for(payment["payment_id"], payment["status"])
        event_type = EVENT_TYPES[Status(payment["status"])]
        body = event_body(payment, event_id)
    else:
        refund = refund_events.refund_of(payment, refund_id)
        event_id = event_id_for(payment["payment_id"], f"refund:{refund_id}")
        event_type = refund_events.event_type_of(refund)
        body = refund_events.with_refund(event_body(payment, event_id, event_type), payment, refund)
    return {
        "payment_id": payment["payment_id"],
        "event_id": event_id,
        "event_type": event_type,
        "status": payment["status"],
        "url": payment["webhook_url"],
        "payload": signatures.serialise(body).decode(),
        "at": payment["updated_at"],
        "ttl": payment.get("ttl"),
        "team": scope.team_of(payment["payment_id"]),
    }


def event_from_attempt(item: dict[str, Any]) -> dict[str, Any]:
    """The event an attempt item carries (every claim stores it; see ``deliveries.attempt``)."""
    return {
        "payment_id": item["payment_id"],
        "event_id": item["event_id"],
        "event_type": item["event"],
        # Refund events keep the payment's status after the refund (a partial one: paid).
        "status": item.get("status") or STATUS_OF_EVENT_TYPE[item["event"]],
        "url": item["url"],
        "payload": item["payload"],
        "at": item.get("at", item.get("timestamp")),  # claims made before "at" was stored
        "ttl": item.get("ttl"),
        "team": item.get("event_team") or "default",
    }


def signing_secrets(payment_key: str) -> list[str]:
    """The secrets of the payment's team: WEBHOOK_SECRET for the default team; a team's
    current secret, plus its previous one during a roll's overlap. None for a
    deleted team: nothing of it is signed any more."""
    team_id = scope.team_of(payment_key)
    if team_id == scope.DEFAULT_TEAM:
        return [webhook_secret()]
    from paysandbox import teams, tenancy

    team = tenancy.team_item(team_id)
    return teams.signing_secrets(team, clock.now_epoch()) if team is not None else []
