"""A sender that dies mid-attempt (after sending, before recording) neither strands the
event nor lets a retry of the same record send while the first send may still be in flight."""

from __future__ import annotations

import pytest

from harness.receiver import Receiver
from paysandbox import delivery_views, payments
from paysandbox.repository import deliveries as store
from paysandbox.repository import payment_webhooks
from tests.integration.conftest import Pipeline, assert_signed
from tests.support import OPERATOR, v2_body


def test_crash_after_send_is_recovered_after_the_lease(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, monkeypatch
):
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    batch = pipeline.next_batch()

    real_update = store.update_attempt

    def crash(*args, **kwargs):
        raise RuntimeError("sandbox lost power")

    monkeypatch.setattr(store, "update_attempt", crash)
    with pytest.raises(Exception, match="All records failed"):  # Lambda sees a function error
        pipeline.invoke(batch)
    monkeypatch.setattr(store, "update_attempt", real_update)
    assert len(receiver.requests) == 1

    # Lambda retries the record at once: the claim is still leased, so nothing is sent now...
    assert pipeline.invoke(batch) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1
    # ...but a job waits for the lease to end, then retakes the claim and delivers.
    pipeline.run()
    assert len(receiver.requests) == 2  # at least once: the merchant dedupes on webhook-id
    first, second = (assert_signed(r) for r in receiver.requests)
    assert first["event_id"] == second["event_id"]
    log = delivery_views.delivery_log("pay_tx-1001")
    assert [(e["attempt_number"], e["outcome"]) for e in log] == [(1, "delivered")]
    view = payments.get_payment("pay_tx-1001")
    # The crash came after the payment write (it precedes the result write), so the POST
    # that reached the merchant before the crash was counted, and so was the one after it.
    assert view.webhook_status == "delivered" and view.webhook_attempts == 2


def test_crash_before_any_bookkeeping_is_recovered_after_the_lease(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, monkeypatch
):
    """The process dies right after the POST (no handler runs: SystemExit is not an Exception),
    before the payment or the attempt is written: the claim alone brings the event back."""
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    batch = pipeline.next_batch()

    def power_cut(*args, **kwargs):
        raise SystemExit("sandbox lost power")

    with monkeypatch.context() as patched:
        patched.setattr(payment_webhooks, "set_payment_webhook_status", power_cut)
        with pytest.raises(SystemExit):
            pipeline.invoke(batch)
    assert len(receiver.requests) == 1
    assert payments.get_payment("pay_tx-1001").webhook_status == "pending"
    (entry,) = delivery_views.delivery_log("pay_tx-1001")
    assert entry["outcome"] == "sending"  # claimed, result unknown

    assert pipeline.invoke(batch) == {"batchItemFailures": []}  # Lambda retries: still leased
    assert len(receiver.requests) == 1
    pipeline.run()  # the deferred job retakes the claim after the lease
    assert len(receiver.requests) == 2
    log = delivery_views.delivery_log("pay_tx-1001")
    assert [(e["attempt_number"], e["outcome"]) for e in log] == [(1, "delivered")]
    view = payments.get_payment("pay_tx-1001")
    assert view.webhook_status == "delivered" and view.webhook_attempts == 1  # the crashed one was never counted
