"""What a merchant's receiver checks on a webhook delivery, written as a merchant writes it.

Each of the three signature schemes is recomputed here from the shared secret (the Standard
Webhooks one with its library), never with the product's signing code, so a delivery signed
wrongly fails here even when signing and verifying in the product agree with each other.
The schemes are described in docs/webhooks.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from harness.receiver import Received


def schemes_verified(request: Received, secret: str) -> dict[str, bool]:
    """For each scheme, whether ``request``'s signature verifies with ``secret``."""
    from standardwebhooks import Webhook, WebhookVerificationError

    headers = {name.lower(): value for name, value in request.headers.items()}
    payload = json.loads(request.body)
    # The receiver code AcquireMock documented: HMAC of the re-serialised body, sorted keys.
    legacy = hmac.new(secret.encode(), json.dumps(payload, sort_keys=True).encode(), hashlib.sha256).hexdigest()
    raw = base64.b64encode(hmac.new(secret.encode(), request.body, hashlib.sha256).digest()).decode()
    try:
        Webhook(secret.encode()).verify(request.body, headers)
        standard = True
    except WebhookVerificationError:
        standard = False
    return {
        "X-Signature": hmac.compare_digest(headers.get("x-signature", ""), legacy),
        "X-Payment-Signature": hmac.compare_digest(headers.get("x-payment-signature", ""), raw),
        "Standard Webhooks": standard,
    }


def verified_payload(request: Received, secret: str) -> dict[str, Any]:
    """The payload of a delivery that verifies all three ways with ``secret`` and whose headers
    name its event; raises AssertionError otherwise."""
    failed = [scheme for scheme, ok in schemes_verified(request, secret).items() if not ok]
    assert not failed, f"signatures that do not verify: {failed}"
    headers = {name.lower(): value for name, value in request.headers.items()}
    payload: dict[str, Any] = json.loads(request.body)
    assert headers.get("content-type") == "application/json", headers.get("content-type")
    assert headers.get("webhook-id") == payload["event_id"], (headers.get("webhook-id"), payload["event_id"])
    assert headers.get("x-payment-event") == payload["event"], (headers.get("x-payment-event"), payload["event"])
    return payload
