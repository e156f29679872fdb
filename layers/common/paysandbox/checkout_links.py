"""Checkout links: public, so unique across the stack and never derivable from a payment's
tx_id or reference (docs/teams.md).

A payment is linked as ``/checkout/<base64url(table key)>.<MAC>``, the MAC an HMAC of the key
under a purpose-bound stack key (``keys.derived_key``): the link resolves to the key with no
extra DynamoDB request, and nobody can make one for a payment without the key. That holds for
every team's payments and for the default team's v2 payments, whose id (``pay_<tx_id>``) anyone
who knows the tx_id could write.

One exception: the default team's invoices keep ``/checkout/<payment_id>``. The AcquireMock seed
README prints ``pageUrl: .../checkout/{payment_id}`` and its clients build that URL themselves;
an invoice id is random (``inv_`` + 112 random bits), or an Idempotency-Key's hash, never the
reference.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from paysandbox import keys

LINK = b"paysandbox/checkout/link/v1"
INVOICE_PREFIX = "inv_"  # a default-team invoice; a team's keys start with "<team>#"
_MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(key: str) -> str:
    return _b64(hmac.new(keys.derived_key(LINK), key.encode(), hashlib.sha256).digest()[:_MAC_BYTES])


def _is_plain(key: str) -> bool:
    """A key linked as itself: a default-team invoice (the seed's ``/checkout/{payment_id}``)."""
    return key.startswith(INVOICE_PREFIX)


def link_id(key: str) -> str:
    """The path segment of the payment's checkout link (``key``: its table key)."""
    if _is_plain(key):
        return key
    return f"{_b64(key.encode())}.{_mac(key)}"


def key_of(link: str) -> str | None:
    """The table key a checkout link names; None for a link nobody was given."""
    body, dot, mac = link.rpartition(".")
    if dot and body:
        try:
            key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except (ValueError, binascii.Error, UnicodeDecodeError):
            key = ""
        if key and not _is_plain(key) and hmac.compare_digest(_mac(key).encode(), mac.encode()):
            return key
    # A default-team invoice id as it is; never a v2 id or another team's key written by hand.
    return link if _is_plain(link) else None
