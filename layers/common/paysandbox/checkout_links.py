"""Checkout links (docs/teams.md): public, so unique across the stack and, for a team's payment,
not derivable from its tx_id or reference.

A team's payment is linked as ``/checkout/<base64url(table key)>.<MAC>``, the MAC an HMAC of
the key under a purpose-bound stack key (``keys.derived_key``): the link resolves to the key
with no extra DynamoDB request, and nobody can make one for a payment without the key. The
default team's links stay ``/checkout/<payment_id>``: the AcquireMock seed README prints
``pageUrl: .../checkout/{payment_id}`` and the conformance suite holds it to that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from paysandbox import keys, scope

LINK = b"paysandbox/checkout/link/v1"
_MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(key: str) -> str:
    return _b64(hmac.new(keys.derived_key(LINK), key.encode(), hashlib.sha256).digest()[:_MAC_BYTES])


def link_id(key: str) -> str:
    """The path segment of the payment's checkout link (``key``: its table key)."""
    if scope.team_of(key) == scope.DEFAULT_TEAM:
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
        if key and scope.team_of(key) != scope.DEFAULT_TEAM and hmac.compare_digest(_mac(key).encode(), mac.encode()):
            return key
    # A default-team id as it is (it may contain a "."), never another team's table key.
    return link if scope.team_of(link) == scope.DEFAULT_TEAM else None
