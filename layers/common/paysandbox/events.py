"""The events API (docs/events.md): list one team's events, tail them, get one, redeliver one.

Events are written by the webhook sender only (see ``repository.events``); this module reads
them for the operator API. Every read is scoped to the caller's team: an event of another
team answers exactly like an event that does not exist.
"""

from __future__ import annotations

import json
import time
from typing import Any

from paysandbox import clock, scope
from paysandbox.errors import NotFound, ValidationFailed
from paysandbox.repository import decode_cursor, encode_cursor, key_values
from paysandbox.repository import events as store

EVENT_TYPES = ("payment.completed", "payment.failed", "payment.expired", "payment.refunded", "refund.failed")
DELIVERY_STATES = ("pending", "delivered", "failed", "gone")
MAX_ID_LENGTH = 64


def list_events(
    team: str,
    *,
    limit: int,
    cursor: str | None = None,
    after: str | None = None,
    types: list[str] | None = None,
    payment_id: str | None = None,
    delivery: str | None = None,
    signed: bool = False,
) -> dict[str, Any]:
    """Newest first; with ``after`` (an event id) the events written after it, oldest first."""
    filters: dict[str, list[str]] = {}
    if types:
        unknown = [t for t in types if t not in EVENT_TYPES]
        if unknown:
            raise ValidationFailed(
                f"type must be among {', '.join(EVENT_TYPES)}.",
                details=[{"field": "type", "problem": f"unknown event type {unknown[0]!r}"}],
            )
        filters["event"] = types
    if delivery:
        if delivery not in DELIVERY_STATES:
            raise ValidationFailed(
                f"delivery must be one of {', '.join(DELIVERY_STATES)}.",
                details=[{"field": "delivery", "problem": "unknown delivery status"}],
            )
        filters["delivery_status"] = [delivery]
    if payment_id:
        filters["payment_id"] = [scope.storage_id(team, payment_id) or payment_id]
    start_key = None
    if cursor:
        start_key = decode_cursor(cursor, store.CURSOR_KEYS)
        if start_key is None or key_values(start_key)["event_team"] != team:
            raise ValidationFailed("The cursor is not valid for this list.", code="invalid_cursor")
    after_seq = None
    if after:
        after_seq = _find(team, after)["event_seq"]
    items, last_key = store.query(
        team, limit=limit, oldest_first=after is not None, after_seq=after_seq, start_key=start_key, filters=filters
    )
    return {"events": [view(i, signed=signed) for i in items], "next_cursor": encode_cursor(last_key)}


def get_event(team: str, event_id: str) -> dict[str, Any]:
    return view(_load(team, event_id), signed=False)


def redeliver(team: str, event_id: str) -> dict[str, Any]:
    """A new attempt chain for one event, as the payment route does for the latest."""
    from paysandbox.delivery_views import start_chain

    return start_chain(_load(team, event_id))


def _find(team: str, event_id: str) -> dict[str, Any]:
    found = store.locate(event_id) if 0 < len(event_id) <= MAX_ID_LENGTH else None
    if found is None or found.get("event_team") != team:
        raise NotFound(f"No event {event_id!r}.", code="event_not_found")
    return found


def _load(team: str, event_id: str) -> dict[str, Any]:
    found = _find(team, event_id)
    item = store.get(found["payment_id"], found["sk"])
    if item is None:  # removed by retention between the two reads
        raise NotFound(f"No event {event_id!r}.", code="event_not_found")
    return item


def view(item: dict[str, Any], *, signed: bool) -> dict[str, Any]:
    """An event as the events API shows it. ``signed`` adds ``webhook``: the exact body a delivery carries and
    its signature headers, signed now, so that ``paysandbox listen`` can forward it as is."""
    payload = str(item.get("payload") or "{}")
    at = item.get("at", item.get("timestamp"))
    shown: dict[str, Any] = {
        "event_id": item["event_id"],
        "type": item["event"],
        "payment_id": scope.public_id(item["payment_id"]),
        "created_at": clock.iso(at) if at is not None else None,
        "body": json.loads(payload),
        "delivery": {
            "status": item.get("delivery_status") or "pending",
            "attempts": int(item.get("delivery_attempts") or 0),
            "last_response_status": item.get("last_response_status"),
        },
    }
    if signed:
        from paysandbox import signatures
        from paysandbox.webhook_events import signing_secrets

        # The payment's team's secrets, as a real delivery now would be signed (both during a roll).
        raw, headers = signatures.sign(
            signing_secrets(item["payment_id"]), json.loads(payload), item["event_id"], item["event"], time.time()
        )
        shown["webhook"] = {"payload": raw.decode(), "headers": headers}
    return shown
