"""What the sender costs in DynamoDB requests on the happy path, and that the lean path
keeps its guarantees: a duplicate record costs one refused claim and sends nothing, a failed
bookkeeping write is finished by the retry without a second send, retries and redeliveries
send the body frozen at first sight."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from harness.receiver import Receiver, Reply
from paysandbox import delivery_views, payments, webhook_events
from paysandbox.repository import deliveries as store
from paysandbox.repository import payment_webhooks
from paysandbox.states import Status
from tests.integration.conftest import Pipeline, assert_signed
from tests.support import OPERATOR, dynamodb_requests, on_payment, v2_body

PID = "pay_tx-1001"


def _paid_batch(pipeline: Pipeline, merchant, operator, url: str) -> dict[str, Any]:
    """The stream batch Lambda hands the sender for one confirmed payment."""
    assert merchant.call("POST", "/api/v2/payments", v2_body(callback_url=url))[0] == 200
    assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": PID}, headers=OPERATOR)[0] == 200
    batch = pipeline.next_batch()
    assert len(batch["Records"]) == 1
    return batch


def _log_items() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").query(
        TableName="WebhookLogs",
        KeyConditionExpression="payment_id = :p",
        ExpressionAttributeValues={":p": {"S": PID}},
    )["Items"]


def test_a_delivered_first_attempt_costs_three_writes(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    batch = _paid_batch(pipeline, merchant, operator, receiver.url())

    with dynamodb_requests() as calls:
        assert pipeline.invoke(batch) == {"batchItemFailures": []}
    # Claim (carrying the event) before sending; the payment's status and count; the result.
    assert [c[:2] for c in calls] == [
        ("PutItem", "WebhookLogs"),
        ("UpdateItem", "Payments"),
        ("UpdateItem", "WebhookLogs"),
    ]
    assert len(receiver.requests) == 1
    view = payments.get_payment(PID)
    assert view.webhook_status == "delivered" and view.webhook_attempts == 1
    (item,) = _log_items()  # one attempt, no separate event item
    assert item["state"]["S"] == "done" and item["scheduled"]["BOOL"] is True

    # Lambda hands the same record again: one refused claim, nothing sent, nothing changed.
    with dynamodb_requests() as calls:
        assert pipeline.invoke(batch) == {"batchItemFailures": []}
    assert [c[:2] for c in calls] == [("PutItem", "WebhookLogs")]
    assert len(receiver.requests) == 1
    assert payments.get_payment(PID).webhook_attempts == 1


def test_a_failed_payment_write_is_finished_by_the_retry_without_sending_again(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, monkeypatch
):
    batch = _paid_batch(pipeline, merchant, operator, receiver.url())
    real_set = payment_webhooks.set_payment_webhook_status

    def throttled(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(payment_webhooks, "set_payment_webhook_status", throttled)
    with pytest.raises(Exception, match="All records failed"):  # Lambda will retry the record
        pipeline.invoke(batch)
    monkeypatch.setattr(payment_webhooks, "set_payment_webhook_status", real_set)
    assert len(receiver.requests) == 1
    (entry,) = delivery_views.delivery_log(PID)
    assert entry["outcome"] == "delivered"  # the merchant's answer was kept despite the error
    assert payments.get_payment(PID).webhook_status == "pending"

    assert pipeline.invoke(batch) == {"batchItemFailures": []}  # Lambda's retry of the record
    assert len(receiver.requests) == 1  # not sent again: the retry only finished the bookkeeping
    view = payments.get_payment(PID)
    assert view.webhook_status == "delivered" and view.webhook_attempts == 1  # counted once
    with dynamodb_requests() as calls:  # and now it is marked: a third copy does nothing
        assert pipeline.invoke(batch) == {"batchItemFailures": []}
    assert [c[:2] for c in calls] == [("PutItem", "WebhookLogs")]
    assert payments.get_payment(PID).webhook_attempts == 1


def test_retries_and_redeliveries_send_the_body_frozen_at_first_sight(
    pipeline: Pipeline, receiver: Receiver, merchant, operator
):
    receiver.plan = lambda request, n: Reply(500) if n == 1 else Reply(200)
    batch = _paid_batch(pipeline, merchant, operator, receiver.url())
    for _ in range(2):  # a duplicate record, too: attempt 1 is sent once
        assert pipeline.invoke(batch) == {"batchItemFailures": []}
    pipeline.run(duplicate=True)  # the retry job (read from the queue twice) sends attempt 2
    assert [r.answered for r in receiver.requests] == [500, 200]

    for expected_chain in (1, 2):  # each redeliver allocates the next chain
        status, body, _ = on_payment(operator, "POST", PID, "/webhooks/redeliver", headers=OPERATOR)
        assert status == 202 and body["chain"] == expected_chain
    pipeline.run(duplicate=True)
    bodies = [r.body for r in receiver.requests]
    assert len(bodies) == 4 and len(set(bodies)) == 1  # one event, one body, every time
    assert {assert_signed(r)["event_id"] for r in receiver.requests} == {webhook_events.event_id_for(PID, "paid")}
    log = delivery_views.delivery_log(PID)
    assert [(e["chain"], e["attempt_number"], e["success"]) for e in log] == [
        (0, 1, False),
        (0, 2, True),
        (1, 1, True),
        (2, 1, True),
    ]
    view = payments.get_payment(PID)
    assert view.webhook_status == "delivered" and view.webhook_attempts == 4


def test_redeliver_picks_the_latest_event(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": PID}, headers=OPERATOR)
    pipeline.run()
    payments.transition(PID, Status.REFUNDED)
    pipeline.run()
    status, body, _ = on_payment(operator, "POST", PID, "/webhooks/redeliver", headers=OPERATOR)
    assert status == 202 and body["event_id"] == webhook_events.event_id_for(PID, "refunded") and body["chain"] == 1
    pipeline.run()
    events = [assert_signed(r)["event"] for r in receiver.requests]
    assert events == ["payment.completed", "payment.refunded", "payment.refunded"]
    view = payments.get_payment(PID)
    assert view.webhook_status == "delivered" and view.webhook_attempts == 2  # the refund's two


def test_retries_and_redeliver_queued_before_this_layout_still_run(
    pipeline: Pipeline, receiver: Receiver, merchant, operator
):
    """A deploy must not drop what the previous layout left in flight: attempt claims without
    ``at`` and an ``event#`` item holding the full event with its chain counter."""
    receiver.plan = lambda request, n: Reply(500) if n == 1 else Reply(200)
    batch = _paid_batch(pipeline, merchant, operator, receiver.url())
    assert pipeline.invoke(batch) == {"batchItemFailures": []}  # attempt 1 failed, attempt 2 queued
    admin = boto3.client("dynamodb")
    event_id = webhook_events.event_id_for(PID, "paid")
    key = {"payment_id": {"S": PID}, "sk": {"S": store.attempt_sk(event_id, 0, 1)}}
    admin.update_item(
        TableName="WebhookLogs", Key=key, UpdateExpression="REMOVE #at", ExpressionAttributeNames={"#at": "at"}
    )
    first = admin.get_item(TableName="WebhookLogs", Key=key)["Item"]
    legacy_event = {
        "payment_id": first["payment_id"],
        "sk": {"S": store.event_sk(event_id)},
        "event_id": first["event_id"],
        "event_type": first["event"],
        "status": {"S": "paid"},
        "url": first["url"],
        "payload": first["payload"],
        "chains": {"N": "3"},  # three redeliveries already made under the old layout
    }
    admin.put_item(TableName="WebhookLogs", Item=legacy_event)

    pipeline.run()  # the queued attempt 2 reads the event from the old claim
    assert [r.answered for r in receiver.requests] == [500, 200]
    status, body, _ = on_payment(operator, "POST", PID, "/webhooks/redeliver", headers=OPERATOR)
    assert status == 202 and body["chain"] == 4  # the old counter goes on: no chain reused
    pipeline.run()
    assert len(receiver.requests) == 3 and len({r.body for r in receiver.requests}) == 1
