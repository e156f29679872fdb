"""Figure 5's own correctness check: the receiver verifies signatures the way docs/webhooks.md
tells merchants to, and a missing, duplicated, forged or unexpected webhook fails the benchmark."""

from __future__ import annotations

import pytest

from bench.webhook_latency import Arrivals, check_each_arrived_once
from paysandbox.signatures import sign

SECRET = "receiver-secret"


def delivery(payment_id: str, secret: str = SECRET) -> tuple[bytes, str]:
    """The raw body and X-Signature the sender produces for a payment.completed event."""
    body = {"event": "payment.completed", "payment_id": payment_id, "status": "PAYMENT_COMPLETED", "amount": 4990}
    raw, headers = sign(secret, body, f"evt_{payment_id}", "payment.completed", 1_700_000_000.0)
    return raw, headers["X-Signature"]


@pytest.fixture
def receiver() -> Arrivals:
    return Arrivals(SECRET)


def test_each_webhook_once_and_signed_passes(receiver):
    for payment_id in ("pay_a", "pay_b"):
        receiver.record(1.0, *delivery(payment_id))
    assert all(arrival.verified for seen in receiver.arrivals.values() for arrival in seen)
    check_each_arrived_once(receiver, {"pay_a": 0.5, "pay_b": 0.5})


@pytest.mark.parametrize(
    ("deliveries", "problem"),
    [
        ([("pay_a", SECRET)], "1 missing"),
        ([("pay_a", SECRET), ("pay_b", SECRET), ("pay_b", SECRET)], "1 delivered more than once"),
        ([("pay_a", SECRET), ("pay_b", "another-secret")], "1 bad X-Signature"),
        ([("pay_a", SECRET), ("pay_b", SECRET), ("pay_x", SECRET)], "1 for unknown payments"),
    ],
)
def test_a_missing_duplicated_forged_or_unexpected_webhook_fails(receiver, deliveries, problem):
    for payment_id, secret in deliveries:
        receiver.record(1.0, *delivery(payment_id, secret))
    with pytest.raises(RuntimeError, match=problem):
        check_each_arrived_once(receiver, {"pay_a": 0.5, "pay_b": 0.5})


def test_a_body_without_payment_id_fails(receiver):
    for payment_id in ("pay_a", "pay_b"):
        receiver.record(1.0, *delivery(payment_id))
    receiver.record(1.0, b"not json", "")
    with pytest.raises(RuntimeError, match="1 unreadable"):
        check_each_arrived_once(receiver, {"pay_a": 0.5, "pay_b": 0.5})
