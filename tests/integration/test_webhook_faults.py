"""Fault injection through the real receiver: timeouts, redirects, 410, Retry-After, huge
bodies, connection refused."""

from __future__ import annotations

import pytest

from harness.receiver import Receiver, Reply
from harness.sandbox_process import free_port
from tests.integration.conftest import Pipeline, assert_signed
from tests.support import OPERATOR, on_payment, v2_body, view_of


def _paid(merchant, operator, url: str, tx: str = "tx-1001") -> str:
    assert merchant.call("POST", "/api/v2/payments", v2_body(tx_id=tx, callback_url=url))[0] == 200
    assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": f"pay_{tx}"}, headers=OPERATOR)[0] == 200
    return f"pay_{tx}"


def _log(operator, pid):
    status, body, _ = on_payment(operator, "GET", pid, "/webhooks", headers=OPERATOR)
    assert status == 200
    return body["deliveries"]


def _retry_delays(pipeline: Pipeline) -> list[int]:
    url = pipeline.queues["WebhookRetryQueue"]["url"]
    return [d["delay"] for d in pipeline.delays if d["queue"] == url]


def test_slow_receiver_times_out_and_is_retried(pipeline, receiver: Receiver, merchant, operator, settings_env):
    settings_env.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.3")
    receiver.plan = lambda request, n: Reply(200, sleep=1.0) if n == 1 else Reply(200)
    pid = _paid(merchant, operator, receiver.url())
    pipeline.run()
    log = _log(operator, pid)
    assert [e["success"] for e in log] == [False, True]
    assert log[0]["response_status"] is None and "timed out" in log[0]["error"]
    assert _retry_delays(pipeline) == [10]
    assert view_of(merchant, pid)["webhook_status"] == "delivered"


def test_redirect_is_a_failure_and_not_followed(pipeline, receiver: Receiver, merchant, operator, settings_env):
    def plan(request, n):
        if request.path == "/hook":
            return Reply(302, b"", {"Location": receiver.url("/elsewhere")})
        return Reply(200)

    receiver.plan = plan
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", "2")
    pid = _paid(merchant, operator, receiver.url("/hook"))
    pipeline.run()
    assert [r.path for r in receiver.requests] == ["/hook", "/hook"]  # /elsewhere never requested
    assert [e["response_status"] for e in _log(operator, pid)] == [302, 302]
    assert view_of(merchant, pid)["webhook_status"] == "failed"
    assert len(pipeline.dead_letters()) == 1


def test_410_stops_the_chain_as_gone(pipeline, receiver: Receiver, merchant, operator):
    receiver.plan = lambda request, n: Reply(410, b"unsubscribed")
    pid = _paid(merchant, operator, receiver.url())
    pipeline.run()
    assert len(receiver.requests) == 1
    assert _retry_delays(pipeline) == []
    view = view_of(merchant, pid)
    assert view["webhook_status"] == "gone" and view["webhook_attempts"] == 1
    (job,) = pipeline.dead_letters()  # never silently dropped: the operator finds it in the DLQ
    assert job["final"]["outcome"] == "gone"
    assert _log(operator, pid)[0]["outcome"] == "gone"


@pytest.mark.parametrize(
    ("status", "retry_after", "expected_delays"),
    [
        (429, "120", [120]),  # later than the schedule's 10 s: honoured
        (503, "3", [10]),  # sooner than the schedule: the schedule wins
        (429, "3000", [900, 900, 900, 300]),  # beyond the schedule's max (1800 s): still honoured
        (503, "3600", [900, 900, 900, 900]),  # exactly the one-hour ceiling
        (429, "99999", [900, 900, 900, 900]),  # beyond the ceiling: retried at the ceiling (1 h)
        (503, "not-a-date", [10]),
    ],
)
def test_retry_after_is_honoured_up_to_the_one_hour_ceiling(
    pipeline, receiver: Receiver, merchant, operator, status, retry_after, expected_delays
):
    receiver.plan = lambda request, n: Reply(status, b"slow down", {"Retry-After": retry_after}) if n == 1 else Reply()
    pid = _paid(merchant, operator, receiver.url())
    pipeline.run()
    assert _retry_delays(pipeline) == expected_delays
    assert [e["response_status"] for e in _log(operator, pid)] == [status, 200]


def test_retry_after_http_date(pipeline, receiver: Receiver, merchant, operator):
    from email.utils import formatdate

    def plan(request, n):
        if n == 1:
            return Reply(503, b"", {"Retry-After": formatdate(pipeline.clock.now() + 400, usegmt=True)})
        return Reply()

    receiver.plan = plan
    _paid(merchant, operator, receiver.url())
    pipeline.run()
    (delay,) = _retry_delays(pipeline)
    assert 398 <= delay <= 401


def test_huge_response_body_is_read_bounded(pipeline, receiver: Receiver, merchant, operator):
    receiver.plan = lambda request, n: Reply(200, b"\xc3\xa9" * (4 * 1024 * 1024))  # 8 MB of 'é'
    pid = _paid(merchant, operator, receiver.url())
    pipeline.run()
    (entry,) = _log(operator, pid)
    assert entry["success"] is True
    assert entry["response_body"] == "é" * 1000


def test_connection_refused_is_retried(pipeline, receiver: Receiver, merchant, operator, settings_env):
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", "2")
    pid = _paid(merchant, operator, f"http://127.0.0.1:{free_port()}/hook")  # nothing listens there
    pipeline.run()
    log = _log(operator, pid)
    assert len(log) == 2 and all(e["response_status"] is None for e in log)
    assert all("connection failed" in e["error"] for e in log)
    assert view_of(merchant, pid)["webhook_status"] == "failed"
    assert [j["attempt"] for j in pipeline.dead_letters()] == [2]


def test_redeliver_starts_a_new_chain_for_the_latest_event(pipeline, receiver: Receiver, merchant, operator):
    pid = _paid(merchant, operator, receiver.url())
    pipeline.run()
    status, body, _ = on_payment(operator, "POST", pid, "/webhooks/redeliver", headers=OPERATOR)
    assert status == 202, body
    assert body["chain"] == 1
    pipeline.run()
    assert len(receiver.requests) == 2
    first, second = (assert_signed(r) for r in receiver.requests)
    assert first == second  # the same event, the same body, the same webhook-id
    log = _log(operator, pid)
    assert [(e["chain"], e["attempt_number"], e["success"]) for e in log] == [(0, 1, True), (1, 1, True)]
    view = view_of(merchant, pid)
    assert view["webhook_status"] == "delivered" and view["webhook_attempts"] == 2


def test_redeliver_errors(pipeline, merchant, operator):
    def redeliver(pid, headers=OPERATOR):
        return on_payment(operator, "POST", pid, "/webhooks/redeliver", headers=headers)

    status, body, _ = redeliver("pay_nope")
    assert status == 404 and body["error"]["code"] == "payment_not_found"
    merchant.call("POST", "/api/v2/payments", v2_body())
    status, body, _ = redeliver("pay_tx-1001")
    assert status == 409 and body["error"]["code"] == "no_webhook_event"
    assert redeliver("pay_tx-1001", headers={})[0] == 401
    status, body, _ = on_payment(operator, "GET", "pay_nope", "/webhooks", headers=OPERATOR)
    assert status == 404
    assert pipeline.receive("WebhookRetryQueue") == []  # nothing was enqueued


def test_a_retry_job_whose_event_retention_removed_is_dropped_quietly(pipeline, receiver: Receiver, merchant, operator):
    """The first attempt failed; before the retry runs, the event's log items expire (TTL).
    The job is consumed - not failed back to SQS to crash again until the DLQ - and nothing
    is sent."""
    import boto3

    receiver.plan = lambda request, n: Reply(500)
    pid = _paid(merchant, operator, receiver.url())
    pipeline.pump_stream()
    assert len(receiver.requests) == 1
    logs = boto3.client("dynamodb")
    for item in logs.query(
        TableName="WebhookLogs",
        KeyConditionExpression="payment_id = :p",
        ExpressionAttributeValues={":p": {"S": pid}},
    )["Items"]:
        logs.delete_item(TableName="WebhookLogs", Key={"payment_id": item["payment_id"], "sk": item["sk"]})

    assert pipeline.pump_retries() == 1  # asserts the sender reported no batch item failure

    assert len(receiver.requests) == 1
    assert pipeline.receive("WebhookRetryQueue") == [] and pipeline.dead_letters() == []
