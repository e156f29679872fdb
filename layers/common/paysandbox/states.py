"""The payment state machine (docs/api.md, Payment states): one set of states for both API flavours."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    WAITING_FOR_OTP = "waiting_for_otp"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


OPEN = frozenset({Status.PENDING, Status.WAITING_FOR_OTP})
TERMINAL = frozenset({Status.PAID, Status.FAILED, Status.EXPIRED, Status.REFUNDED})

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.WAITING_FOR_OTP, Status.PAID, Status.FAILED, Status.EXPIRED}),
    Status.WAITING_FOR_OTP: frozenset({Status.PAID, Status.FAILED, Status.EXPIRED}),
    Status.PAID: frozenset({Status.REFUNDED}),
    Status.FAILED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.REFUNDED: frozenset(),
}

# The names the Payments v2 API shows; both open states look PENDING to it.
V2_NAMES: dict[Status, str] = {
    Status.PENDING: "PENDING",
    Status.WAITING_FOR_OTP: "PENDING",
    Status.PAID: "PAYMENT_COMPLETED",
    Status.FAILED: "PAYMENT_FAILED",
    Status.EXPIRED: "PAYMENT_EXPIRED",
    Status.REFUNDED: "PAYMENT_REFUNDED",
}

# Operator lists group payments the way the v2 API counts them.
GROUPS: dict[Status, str] = {
    Status.PENDING: "pending",
    Status.WAITING_FOR_OTP: "pending",
    Status.PAID: "completed",
    Status.FAILED: "failed",
    Status.EXPIRED: "expired",
    Status.REFUNDED: "refunded",
}
LISTED_GROUPS = ("pending", "completed", "failed", "expired", "refunded")

# The decline code of a payment an operator failed (``POST /api/v2/fail-payment``).
OPERATOR_DECLINE = "declined_by_operator"


def can_move(source: Status, target: Status) -> bool:
    return target in ALLOWED[source]


def sources_of(target: Status) -> frozenset[Status]:
    """States from which ``target`` may be reached: the condition of its conditional write."""
    return frozenset(s for s, targets in ALLOWED.items() if target in targets)


def group_from_query(value: str) -> str | None:
    """Map a ``status=`` query value (group name, state name or v2 name) to its list group."""
    lowered = value.strip().lower()
    if lowered in GROUPS.values():
        return lowered
    for status, v2 in V2_NAMES.items():
        if lowered in (status.value, v2.lower()):
            return GROUPS[status]
    return None
