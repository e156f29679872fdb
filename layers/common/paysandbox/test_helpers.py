"""Test helpers (docs/refunds-and-test-helpers.md): expire a payment now; attempt its pending webhook retry now.

Both find the payment with ``payments.get_payment``, the finder every operator route uses.
"""

from __future__ import annotations

from typing import Any

from paysandbox import clock, scope
from paysandbox.errors import Conflict
from paysandbox.models import Payment
from paysandbox.payments import get_payment, transition
from paysandbox.repository import ConditionFailed
from paysandbox.states import Status


def expire_now(payment_id: str, team: str = scope.DEFAULT_TEAM) -> Payment:
    """The expirer's transition (same write, same ``expired_at``, so the same webhook), now."""
    found = get_payment(payment_id, team)
    now = clock.now_epoch()
    try:
        return transition(found.payment_id, Status.EXPIRED, extra={"expired_at": now}, now=now, early=True)
    except ConditionFailed as lost:
        status = (lost.existing or {}).get("status", "gone")
        raise Conflict(f"Only an open payment can expire; this one is {status}.", code="payment_not_open") from None


def retry_now(payment_id: str, team: str = scope.DEFAULT_TEAM) -> dict[str, Any]:
    """Queue the pending retry of the payment's latest event to run now (202).

    The scheduled job stays queued: whichever of the two runs second finds the attempt already
    claimed (``deliveries.attempt``) and sends nothing, so the merchant gets it once.
    """
    from paysandbox.repository import deliveries as store
    from paysandbox.retry_queue import enqueue
    from paysandbox.settings import get_settings

    found = get_payment(payment_id, team)
    attempts = store.attempts_of(found.payment_id)
    if attempts:
        latest = max(attempts, key=lambda a: (a.get("at") or 0, a.get("timestamp") or 0, a["sk"]))
        last = max(
            (a for a in attempts if a.get("event_id") == latest.get("event_id")),
            key=lambda a: (int(a.get("chain", 0)), int(a.get("attempt_number", 0))),
        )
        number = int(last.get("attempt_number", 0))
        if last.get("outcome") == "failed" and number < get_settings().webhook_max_attempts:
            job = {
                "payment_id": found.payment_id,
                "event_id": last["event_id"],
                "chain": int(last["chain"]),
                "attempt": number + 1,
                "not_before": clock.now_epoch(),
            }
            enqueue(job, 0)
            return {"payment_id": payment_id, "event_id": job["event_id"], "attempt": job["attempt"]}
    raise Conflict("This payment has no webhook retry pending.", code="no_pending_retry")
