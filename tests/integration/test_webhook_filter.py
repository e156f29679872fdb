"""The sender's stream FilterCriteria (from template.yaml), evaluated on real moto stream
records: only transitions INTO a terminal status invoke the sender.

moto never runs TTL, so the TTL deletion is reproduced with a DeleteItem: it yields the same
REMOVE record shape (a real TTL record additionally carries a service userIdentity)."""

from __future__ import annotations

import boto3

from harness.receiver import Receiver
from paysandbox import expiry, payments, webhook_events
from paysandbox.states import Status
from sandbox.event_filter import matches_any
from sandbox.lambda_events import stream_records_to_event
from tests.integration.conftest import Pipeline
from tests.support import OPERATOR, stream_records, v2_body


def _status(record, image):
    return record["dynamodb"].get(image, {}).get("status", {}).get("S")


def test_only_terminal_transitions_pass_the_filter(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    for tx in ("paid", "otp", "gone", "exp"):
        assert merchant.call("POST", "/api/v2/payments", v2_body(tx_id=tx, callback_url=receiver.url()))[0] == 200
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_paid"}, headers=OPERATOR)
    payments.transition("pay_otp", Status.WAITING_FOR_OTP)  # open -> open: no webhook
    pipeline.run()  # the sender's own webhook_status writes become MODIFY records too
    payments.transition("pay_paid", Status.REFUNDED)  # paid -> refunded: a webhook
    pipeline.clock.advance_to(pipeline.clock.now() + 3600)
    expiry.expire_due(lambda: True)  # pending/waiting -> expired: webhooks
    boto3.client("dynamodb").delete_item(TableName="Payments", Key={"payment_id": {"S": "pay_gone"}})

    # Fresh iterators from TRIM_HORIZON: every record the table ever produced.
    event = stream_records_to_event(stream_records(), pipeline.stream_arn)
    passed = [
        (r["eventName"], _status(r, "OldImage"), _status(r, "NewImage"))
        for r in event["Records"]
        if matches_any(pipeline.filters, r)
    ]
    assert sorted(passed) == sorted(
        [
            ("MODIFY", "pending", "paid"),
            ("MODIFY", "paid", "refunded"),
            ("MODIFY", "waiting_for_otp", "expired"),
            ("MODIFY", "pending", "expired"),
            ("MODIFY", "pending", "expired"),
        ]
    )
    refused = [r for r in event["Records"] if not matches_any(pipeline.filters, r)]
    kinds = {(r["eventName"], _status(r, "OldImage"), _status(r, "NewImage")) for r in refused}
    assert ("REMOVE", "expired", None) in kinds  # the (TTL-style) deletion of a settled payment
    assert ("INSERT", None, "pending") in kinds
    assert ("MODIFY", "pending", "waiting_for_otp") in kinds
    assert ("MODIFY", "paid", "paid") in kinds  # webhook_status bookkeeping only
    # The code's own guard agrees with the template's filter on every record.
    for record in event["Records"]:
        assert webhook_events.is_terminal_transition(record) == matches_any(pipeline.filters, record)


def test_unfiltered_records_still_send_nothing_extra(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    """Defence in depth: a runtime that does not filter (or a filter edit) does not double-send."""
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    pipeline.run()
    everything = stream_records_to_event(stream_records(), pipeline.stream_arn)  # from the start
    assert len(everything["Records"]) >= 3  # insert, paid, webhook_status bookkeeping
    assert pipeline.invoke(everything) == {"batchItemFailures": []}
    assert len(receiver.requests) == 1
