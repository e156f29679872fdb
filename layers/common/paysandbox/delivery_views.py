"""The operator's side of webhook deliveries: the delivery log and redelivery (docs/webhooks.md).

Only the operator and events APIs reach these; the sender's hot path never imports the
pydantic models that ``payments.get_payment`` brings, so they are imported lazily.
"""

from __future__ import annotations

import json
from typing import Any

from paysandbox import clock, scope
from paysandbox.errors import Conflict
from paysandbox.repository import deliveries as store
from paysandbox.repository import events as event_store
from paysandbox.repository import payment_webhooks
from paysandbox.retry_queue import enqueue
from paysandbox.webhook_events import event_from_attempt


def delivery_log(payment_id: str, team: str = scope.DEFAULT_TEAM) -> list[dict[str, Any]]:
    """Every attempt of a team's payment, oldest first, in the delivery log's shape (never the secret)."""
    from paysandbox.payments import get_payment

    payment_id = get_payment(payment_id, team).payment_id  # 404 for an unknown payment
    attempts = sorted(store.attempts_of(payment_id), key=lambda a: (a.get("timestamp", 0), a["sk"]))
    return [_attempt_view(a) for a in attempts]


def _attempt_view(item: dict[str, Any]) -> dict[str, Any]:
    try:
        payload: Any = json.loads(item.get("payload") or "null")
    except ValueError:
        payload = item.get("payload")
    return {
        "payment_id": scope.public_id(item["payment_id"]),
        "event_id": item.get("event_id"),
        "event": item.get("event"),
        "chain": item.get("chain"),
        "attempt_number": item.get("attempt_number"),
        "url": item.get("url"),
        "payload": payload,
        "signature_headers": item.get("headers") or {},
        "response_status": item.get("response_status"),
        "response_body": item.get("response_body"),
        "error": item.get("error"),
        "duration_ms": item.get("duration_ms"),
        "success": bool(item.get("success")),
        "outcome": item.get("outcome") or "sending",
        # After this attempt: "none" (delivered), "retry" (due at next_attempt_at) or "dead_letter".
        "next": item.get("next"),
        "next_attempt_at": clock.iso(item["next_attempt_at"]) if item.get("next_attempt_at") else None,
        "timestamp": clock.iso(item["timestamp"]) if item.get("timestamp") is not None else None,
    }


def redeliver(payment_id: str, team: str = scope.DEFAULT_TEAM) -> dict[str, Any]:
    """Start a new attempt chain for a team's payment's latest event (through the retry queue)."""
    from paysandbox.payments import get_payment

    payment_id = get_payment(payment_id, team).payment_id
    events = store.events_of(payment_id)
    if not events:
        raise Conflict("This payment has no webhook event yet.", code="no_webhook_event")
    return start_chain(max(events, key=lambda e: (e.get("at") or 0, e.get("timestamp") or 0)))


def start_chain(first_attempt: dict[str, Any]) -> dict[str, Any]:
    """A new attempt chain for the event that ``first_attempt`` (its stored record) carries."""
    latest = event_from_attempt(first_attempt)
    payment_id = latest["payment_id"]
    chain = store.new_chain(payment_id, latest["event_id"], latest["ttl"])
    job = {
        "payment_id": payment_id,
        "event_id": latest["event_id"],
        "chain": chain,
        "attempt": 1,
        "not_before": clock.now_epoch(),
    }
    enqueue(job, 0)
    event_store.record_delivery(payment_id, first_attempt["sk"], "pending", None, attempts=0)
    payment_webhooks.set_payment_webhook_status(payment_id, latest["status"], "pending")
    return {"payment_id": scope.public_id(payment_id), "event_id": latest["event_id"], "chain": chain}
