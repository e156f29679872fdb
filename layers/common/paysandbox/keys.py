"""Purpose-bound keys derived from the webhook secret.

The checkout's CSRF tokens and one-time-code hashes need a server-side key, and the stack
already has exactly one secret for HMACs. Each use gets its own key,
HMAC-SHA256(webhook secret, purpose label), so a value made for one purpose (a CSRF token)
can never be replayed as another (a code hash or a webhook signature). Rotating the webhook
secret therefore also invalidates open checkout forms and outstanding one-time codes.
"""

from __future__ import annotations

import hashlib
import hmac

from paysandbox.secret_store import webhook_secret

CSRF = b"paysandbox/checkout/csrf/v1"
OTP = b"paysandbox/checkout/otp/v1"


def derived_key(purpose: bytes) -> bytes:
    return hmac.new(webhook_secret().encode(), purpose, hashlib.sha256).digest()
