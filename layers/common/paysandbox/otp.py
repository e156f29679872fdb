"""One-time codes for the checkout's code step (docs/checkout.md).

A code is 6 digits from ``secrets``; only HMAC-SHA256(key, payment_id ":" code) is stored,
keyed with the OTP key derived from the webhook secret (``keys.OTP``), so a leaked table
does not reveal codes and a hash cannot be moved to another payment. Checks compare in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from paysandbox import keys

CODE_LENGTH = 6
MAX_ATTEMPTS = 3
MAX_RESENDS = 5
# E-mails of codes per payment, the first included: resends beyond it replace the code without mail.
MAX_EMAILS = 3


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit()


def hash_code(payment_id: str, code: str) -> str:
    message = f"{payment_id}:{code}".encode()
    return hmac.new(keys.derived_key(keys.OTP), message, hashlib.sha256).hexdigest()


def matches(payment_id: str, code: str, stored_hash: str | None) -> bool:
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_code(payment_id, code), stored_hash)
