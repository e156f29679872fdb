"""The three webhook signature schemes (docs/webhooks.md), for signing deliveries and for
``POST /webhooks/verify``.

One byte string is signed by all three: the body we send IS ``json.dumps(body,
sort_keys=True)`` (Python's default separators). So the legacy ``X-Signature`` receiver,
which re-serialises the parsed body with sorted keys, and the raw-body schemes
(``X-Payment-Signature``, Standard Webhooks) all agree on the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

SCHEME_X_SIGNATURE = "x-signature"
SCHEME_X_PAYMENT_SIGNATURE = "x-payment-signature"
SCHEME_STANDARD = "standard-webhooks"


class InvalidSignature(Exception):
    """Verification failed; ``code`` is the machine-readable reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def serialise(body: dict[str, Any]) -> bytes:
    """The raw body we send, and the canonical form of the X-Signature scheme."""
    return json.dumps(body, sort_keys=True).encode()


def x_signature(secret: str, payload: Any) -> str:
    """Hex HMAC-SHA256 of the payload re-serialised with sorted keys (legacy invoice scheme)."""
    return hmac.new(secret.encode(), json.dumps(payload, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def x_payment_signature(secret: str, raw: bytes) -> str:
    """Base64 HMAC-SHA256 of the raw body bytes (Payments v2 scheme)."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def whsec(secret: str) -> str:
    """The secret in the ``whsec_`` form Standard Webhooks libraries accept."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def sign(
    secrets: str | list[str], body: dict[str, Any], event_id: str, event_type: str, at: float
) -> tuple[bytes, dict[str, str]]:
    """The raw body and the signature headers for one delivery attempt. With several secrets
    (a roll's overlap, newest first) ``webhook-signature`` carries one signature per secret;
    the other two schemes use the newest."""
    keys = [secrets] if isinstance(secrets, str) else secrets
    secret = keys[0]
    raw = serialise(body)
    moment = datetime.fromtimestamp(at, UTC)
    headers = {
        "Content-Type": "application/json",
        "X-Signature": x_signature(secret, body),
        "X-Payment-Event": event_type,
        "X-Payment-Signature": x_payment_signature(secret, raw),
        # AcquireMock's server sent it and its example receivers read it.
        "X-Payment-ID": str(body["payment_id"]),
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at)),
        "webhook-signature": " ".join(Webhook(k.encode()).sign(event_id, moment, raw.decode()) for k in keys),
    }
    return raw, headers


def verify(secret: str, raw: bytes, headers: dict[str, str]) -> str:
    """Check every signature scheme present in ``headers``; return the strongest one.

    All schemes present must verify: a valid weak signature never masks an invalid
    stronger one; a JSON body with duplicate keys never verifies. Order of strength:
    Standard Webhooks (replay-protected by its timestamp, ±5 minutes), then
    X-Payment-Signature (raw bytes), then X-Signature.
    Raises InvalidSignature.
    """
    refuse_duplicate_keys(raw)
    lowered = {k.lower(): v for k, v in headers.items()}
    checked: list[str] = []
    if any(k in lowered for k in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        try:
            Webhook(secret.encode()).verify(raw, lowered, json_parse=False)
        except Exception as exc:  # the library raises ValueError/binascii errors on garbage too
            raise InvalidSignature("invalid_standard_webhooks_signature", _reason(exc)) from None
        checked.append(SCHEME_STANDARD)
    if "x-payment-signature" in lowered:
        expected = x_payment_signature(secret, raw)
        if not hmac.compare_digest(expected.encode(), lowered["x-payment-signature"].strip().encode()):
            raise InvalidSignature("invalid_x_payment_signature", "X-Payment-Signature does not match the raw body.")
        checked.append(SCHEME_X_PAYMENT_SIGNATURE)
    if "x-signature" in lowered:
        try:
            expected = x_signature(secret, json.loads(raw))
        except (ValueError, RecursionError):
            raise InvalidSignature("malformed_json", "X-Signature needs a JSON body.") from None
        if not hmac.compare_digest(expected.encode(), lowered["x-signature"].strip().lower().encode()):
            raise InvalidSignature("invalid_x_signature", "X-Signature does not match the sorted-keys JSON body.")
        checked.append(SCHEME_X_SIGNATURE)
    if not checked:
        raise InvalidSignature(
            "missing_signature",
            "Send X-Signature, X-Payment-Signature or the webhook-id/webhook-timestamp/webhook-signature headers.",
        )
    return checked[0]


def refuse_duplicate_keys(raw: bytes) -> None:
    """A JSON body with a key twice in one object never verifies, under any scheme.

    Parsers disagree on which duplicate wins: a body with ``"status": "paid"`` prepended to a
    captured one still verifies under X-Signature (re-serialised, the last value wins) while a
    receiver reading the first value sees the forgery. A body that is not JSON has no keys.
    """

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidSignature("duplicate_json_keys", f"The JSON body has the key {key!r} more than once.")
            seen.add(key)
        return dict(pairs)

    try:
        json.loads(raw, object_pairs_hook=no_duplicates)
    except (ValueError, UnicodeDecodeError):
        return
    except RecursionError:
        raise InvalidSignature("malformed_json", "The JSON body is nested too deeply.") from None


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "too old" in text or "too new" in text:
        return "The webhook-timestamp is outside the 5-minute tolerance."
    if "Missing required headers" in text:
        return "webhook-id, webhook-timestamp and webhook-signature are all required."
    return "The webhook-signature does not match."
