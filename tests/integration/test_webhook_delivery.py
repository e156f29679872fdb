"""Webhook delivery end to end: payment transition -> moto stream (get_records) -> sender ->
real HTTP receiver on 127.0.0.1, verified with all three signature schemes."""

from __future__ import annotations

import json
from datetime import datetime

from harness.receiver import Receiver, Reply
from tests.integration.conftest import Pipeline, assert_signed
from tests.support import OPERATOR, invoice_body, on_payment, v2_body, view_of


def _webhooks(operator, pid):
    return on_payment(operator, "GET", pid, "/webhooks", headers=OPERATOR)


def test_invoice_paid_is_delivered_once_signed_three_ways(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    status, created, _ = merchant.call("POST", "/api/create-invoice", invoice_body(webhook_url=receiver.url()))
    assert status == 200, created
    pid = created["payment_id"]
    assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": pid}, headers=OPERATOR)[0] == 200

    pipeline.run(duplicate=True)  # every stream batch handed to the sender twice

    assert len(receiver.requests) == 1
    payload = assert_signed(receiver.requests[0])
    # The raw body is exactly the sorted-keys serialisation all three schemes sign.
    assert receiver.requests[0].body == json.dumps(payload, sort_keys=True).encode()
    assert set(payload) == {
        "payment_id",
        "reference",
        "amount",
        "status",
        "timestamp",
        "card_mask",
        "event_id",
        "event",
    }
    assert payload["status"] == "paid" and payload["event"] == "payment.completed"
    assert payload["payment_id"] == pid and payload["amount"] == 12_500 and payload["reference"] == "order-1001"
    assert payload["timestamp"].endswith("Z")

    view = view_of(merchant, pid)
    assert view["webhook_status"] == "delivered" and view["webhook_attempts"] == 1

    status, log, _ = _webhooks(operator, pid)
    assert status == 200
    (entry,) = log["deliveries"]
    assert entry["success"] is True and entry["response_status"] == 200 and entry["attempt_number"] == 1
    assert entry["event_id"] == payload["event_id"] and entry["url"] == receiver.url()
    assert entry["payload"] == payload and entry["response_body"] == "ok"
    assert entry["signature_headers"]["X-Signature"] == receiver.requests[0].headers["X-Signature"]
    assert isinstance(entry["duration_ms"], int) and entry["timestamp"].endswith("Z")
    assert "test-webhook-secret" not in json.dumps(log)


def test_v2_events_in_v2_flavour(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    merchant.call("POST", "/api/v2/payments", v2_body(tx_id="tx-ok", callback_url=receiver.url("/ok")))
    merchant.call("POST", "/api/v2/payments", v2_body(tx_id="tx-no", callback_url=receiver.url("/no")))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-ok"}, headers=OPERATOR)
    operator.call("POST", "/api/v2/fail-payment", {"payment_id": "pay_tx-no"}, headers=OPERATOR)

    pipeline.run()

    by_path = {r.path: assert_signed(r) for r in receiver.requests}
    paid, failed = by_path["/ok"], by_path["/no"]
    keys = {"event", "event_id", "payment_id", "tx_id", "order_id", "user_id", "amount", "status", "confirmed_at"}
    assert set(paid) == keys | {"timestamp"}
    assert set(failed) == keys | {"timestamp", "decline_code", "reason"}
    assert (failed["decline_code"], failed["reason"]) == ("declined_by_operator", "")
    assert paid["status"] == "PAYMENT_COMPLETED" and paid["event"] == "payment.completed"
    assert paid["confirmed_at"] == view_of(merchant, "pay_tx-ok")["paid_at"]
    assert failed["status"] == "PAYMENT_FAILED" and failed["event"] == "payment.failed"
    assert failed["confirmed_at"] is None
    assert paid["event_id"] != failed["event_id"]
    assert receiver.requests[0].headers["X-Payment-Event"] in ("payment.completed", "payment.failed")


def test_failed_bodies_say_why_and_ids_keep_their_json_type(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    invoice = merchant.call("POST", "/api/create-invoice", invoice_body(webhook_url=receiver.url("/inv")))[1]
    merchant.call(
        "POST", "/api/v2/payments", v2_body(tx_id="tx-int", order_id=123, user_id=1, callback_url=receiver.url("/v2"))
    )
    fail = {"payment_id": invoice["payment_id"], "reason": "fraud check"}
    assert operator.call("POST", "/api/v2/fail-payment", fail, headers=OPERATOR)[0] == 200
    assert operator.call("POST", "/api/v2/fail-payment", {"payment_id": "pay_tx-int"}, headers=OPERATOR)[0] == 200

    pipeline.run()

    by_path = {r.path: (assert_signed(r), r.headers) for r in receiver.requests}
    (inv, inv_headers), (v2, v2_headers) = by_path["/inv"], by_path["/v2"]
    assert (inv["status"], inv["decline_code"], inv["reason"], inv["card_mask"]) == (
        "failed",
        "declined_by_operator",
        "fraud check",
        "",
    )
    assert (v2["order_id"], v2["user_id"], v2["decline_code"]) == (123, 1, "declined_by_operator")
    assert inv_headers["X-Payment-ID"] == invoice["payment_id"] and v2_headers["X-Payment-ID"] == "pay_tx-int"


def test_500_twice_then_200_retries_with_the_schedule(pipeline: Pipeline, receiver: Receiver, merchant, operator):
    receiver.plan = lambda request, n: Reply(500, b"boom") if n <= 2 else Reply(200)
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)

    pipeline.run(duplicate=True)  # duplicate SQS deliveries too

    assert [r.answered for r in receiver.requests] == [500, 500, 200]
    ids = {assert_signed(r)["event_id"] for r in receiver.requests}
    assert len(ids) == 1  # one event, three attempts
    assert [d["delay"] for d in pipeline.delays] == [10, 60]
    view = view_of(merchant, "pay_tx-1001")
    assert view["webhook_status"] == "delivered" and view["webhook_attempts"] == 3
    log = _webhooks(operator, "pay_tx-1001")[1]["deliveries"]
    assert [(e["attempt_number"], e["success"], e["response_status"]) for e in log] == [
        (1, False, 500),
        (2, False, 500),
        (3, True, 200),
    ]
    assert log[0]["response_body"] == "boom"
    # Each failed attempt says when the next one is due (the console shows it while pending).
    assert [e["next"] for e in log] == ["retry", "retry", "none"] and log[2]["next_attempt_at"] is None
    for failed, delay in ((log[0], 10), (log[1], 60)):
        due = datetime.fromisoformat(failed["next_attempt_at"].replace("Z", "+00:00"))
        sent = datetime.fromisoformat(failed["timestamp"].replace("Z", "+00:00"))
        assert delay <= (due - sent).total_seconds() < delay + 5
    assert pipeline.dead_letters() == []


def test_always_500_ends_in_the_dlq_after_max_attempts(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, capsys
):
    receiver.plan = lambda request, n: Reply(500)
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)

    pipeline.run()

    assert len(receiver.requests) == 5  # WEBHOOK_MAX_ATTEMPTS default
    retry_url = pipeline.queues["WebhookRetryQueue"]["url"]
    retry_sends = [(d["delay"], json.loads(d["job"])["attempt"]) for d in pipeline.delays if d["queue"] == retry_url]
    # 10, 60, 300, then 1800 s: over SQS's 900 s limit, so 900 + a 900 s hop of the same job.
    assert retry_sends == [(10, 2), (60, 3), (300, 4), (900, 5), (900, 5)]
    (job,) = pipeline.dead_letters()
    assert job["payment_id"] == "pay_tx-1001" and job["attempt"] == 5 and job["final"]["outcome"] == "failed"
    view = view_of(merchant, "pay_tx-1001")
    assert view["webhook_status"] == "failed" and view["webhook_attempts"] == 5
    log = _webhooks(operator, "pay_tx-1001")[1]["deliveries"]
    assert [e["next"] for e in log] == ["retry"] * 4 + ["dead_letter"] and log[4]["next_attempt_at"] is None
    # Powertools EMF metrics on stdout; and the secret never reaches a log line.
    out = capsys.readouterr().out
    metrics = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    assert sum(sum(m.get("Failed", [])) for m in metrics) == 5
    assert sum(sum(m.get("DeadLettered", [])) for m in metrics) == 1
    assert any("DeliveryLatency" in m for m in metrics)
    assert "test-webhook-secret" not in out
    assert receiver.requests[0].headers["X-Signature"] not in out


def test_configured_schedule_and_attempts(pipeline: Pipeline, receiver: Receiver, merchant, operator, settings_env):
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", "3")
    settings_env.setenv("WEBHOOK_RETRY_DELAYS", "2,7")
    from paysandbox.settings import get_settings

    get_settings.cache_clear()
    receiver.plan = lambda request, n: Reply(503)
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    pipeline.run()
    assert len(receiver.requests) == 3
    assert [d["delay"] for d in pipeline.delays][:2] == [2, 7]
    assert len(pipeline.dead_letters()) == 1
