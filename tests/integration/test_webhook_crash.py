"""A sender that dies mid-attempt (after sending, before recording) neither strands the
event nor lets a retry of the same record send while the first send may still be in flight."""

from __future__ import annotations

import pytest

from paysandbox import deliveries, payments
from paysandbox.repository import deliveries as store
from sandbox.event_filter import matches_any
from sandbox.lambda_events import stream_records_to_event
from tests.integration.conftest import Pipeline, Receiver, assert_signed
from tests.support import OPERATOR, v2_body


def test_crash_after_send_is_recovered_after_the_lease(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, monkeypatch
):
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    records = stream_records_to_event(pipeline.read_stream(), pipeline.stream_arn)["Records"]
    batch = {"Records": [r for r in records if matches_any(pipeline.filters, r)]}

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
    log = deliveries.delivery_log("pay_tx-1001")
    assert [(e["attempt_number"], e["outcome"]) for e in log] == [(1, "delivered")]
    assert payments.get_payment("pay_tx-1001").webhook_status == "delivered"
