"""``paysandbox trigger``: create a payment and drive it through the real API to one event."""

from __future__ import annotations

import secrets
import time
from typing import Any

from paysandbox_cli.client import Client

# A public URL that answers: the event is recorded (and forwarded by `listen`) whatever the
# merchant endpoint does; pass --webhook-url to have the sandbox deliver it somewhere real.
DEFAULT_WEBHOOK_URL = "https://example.com/paysandbox-trigger"
TRIGGERS = ("payment.completed", "payment.failed", "payment.expired", "payment.refunded")
EVENT_WAIT = 15.0


def create(client: Client, flavour: str, amount: int, webhook_url: str, ident: str | None = None) -> dict[str, Any]:
    """A new payment of either flavour; answers the create response."""
    ident = ident or f"cli-{int(time.time())}-{secrets.token_hex(3)}"
    if flavour == "v2":
        body: dict[str, Any] = {
            "version": "v2",
            "tx_id": ident,
            "order_id": ident,
            "user_id": "paysandbox-cli",
            "amount": amount,
            "callback_url": webhook_url,
        }
        answer: dict[str, Any] = client.call("POST", "/api/v2/payments", body)
        return answer
    body = {"amount": amount, "reference": ident, "webhook_url": webhook_url, "redirect_url": webhook_url}
    answer = client.call("POST", "/api/create-invoice", body)
    return answer


def trigger(client: Client, event_type: str, flavour: str, webhook_url: str | None) -> dict[str, str]:
    payment_id = create(client, flavour, 1000, webhook_url or DEFAULT_WEBHOOK_URL)["payment_id"]
    if event_type in ("payment.completed", "payment.refunded"):
        client.call("POST", "/api/v2/confirm-payment", {"payment_id": payment_id})
    if event_type == "payment.refunded":  # the whole amount: the payment ends `refunded`
        client.call("POST", f"/api/payments/{payment_id}/refunds", {"reason": "paysandbox trigger"})
    elif event_type == "payment.expired":  # the test helper, rather than waiting out the expiry
        client.call("POST", f"/api/test-helpers/payments/{payment_id}/expire")
    elif event_type == "payment.failed":
        client.call("POST", "/api/v2/fail-payment", {"payment_id": payment_id, "reason": "paysandbox trigger"})
    return {"payment_id": payment_id, "event_id": _wait_for_event(client, payment_id, event_type)}


def _wait_for_event(client: Client, payment_id: str, event_type: str) -> str:
    """The event's id, once the webhook sender has recorded it (it is asynchronous)."""
    deadline = time.monotonic() + EVENT_WAIT
    while True:
        page = client.call("GET", "/api/events", query={"payment_id": payment_id, "type": event_type, "limit": 10})
        if page["events"]:
            return str(page["events"][0]["event_id"])
        if time.monotonic() > deadline:
            return ""
        time.sleep(0.25)
