"""Test helpers: expire now and retry the pending webhook now — over HTTP through
the local sandbox with their webhooks, and the retry-now race against the scheduled retry
played on the real pipeline (moto stream and queues, real receiver)."""

from __future__ import annotations

import json
from typing import Any

from standardwebhooks import Webhook

from harness.receiver import Received, Receiver, Reply
from harness.sandbox_process import SECRET, TOKEN, Sandbox
from sandbox.lambda_events import sqs_messages_to_event
from tests.integration.conftest import Pipeline
from tests.support import OPERATOR, Api, invoice_body, v2_body, view_of, wait_for

SANDBOX_OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


def _verified(request: Received) -> dict[str, Any]:
    """A delivery from the sandbox, its Standard Webhooks signature checked with its secret."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    Webhook(SECRET.encode()).verify(request.body, headers)
    return dict(json.loads(request.body))


def _helper(sandbox: Sandbox, payment_id: str, action: str) -> tuple[int, Any]:
    path = f"/api/test-helpers/payments/{payment_id}/{action}"
    return sandbox.request("POST", path, {}, headers=SANDBOX_OPERATOR)


def test_expire_now_and_retry_now_through_the_local_sandbox(sandbox_factory: Any, receiver: Receiver) -> None:
    # Retries an hour apart: only retry-now can make the second attempt happen within the test.
    sandbox: Sandbox = sandbox_factory(WEBHOOK_RETRY_DELAYS="3600", WEBHOOK_MAX_ATTEMPTS="3")
    status, created = sandbox.request("POST", "/api/create-invoice", invoice_body(webhook_url=receiver.url("/inv")))
    assert status == 200, created
    pid = created["payment_id"]

    status, view = _helper(sandbox, pid, "expire")
    assert status == 200 and view["status"] == "expired" and view["payment_id"] == pid
    expired = wait_for(lambda: receiver.requests and _verified(receiver.requests[0]))
    assert expired["event"] == "payment.expired" and expired["payment_id"] == pid
    status, error = _helper(sandbox, pid, "expire")
    assert status == 409 and error["error"]["code"] == "payment_not_open"
    assert _helper(sandbox, "inv_nope", "expire")[0] == 404
    assert sandbox.request("POST", f"/api/test-helpers/payments/{pid}/expire", {})[0] == 401
    # Delivered, so nothing is pending.
    wait_for(lambda: sandbox.request("GET", f"/api/payments/{pid}")[1]["webhook_status"] == "delivered")
    status, error = _helper(sandbox, pid, "webhooks/retry-now")
    assert status == 409 and error["error"]["code"] == "no_pending_retry"

    receiver.plan = lambda request, n: Reply(status=503 if request.path == "/v2" and n == 1 else 200)
    body = v2_body(tx_id="tx-retry-now", callback_url=receiver.url("/v2"))
    pid = sandbox.request("POST", "/api/v2/payments", body)[1]["payment_id"]
    assert sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": pid}, headers=SANDBOX_OPERATOR)[0] == 200
    wait_for(lambda: sandbox.request("GET", f"/api/payments/{pid}")[1]["webhook_status"] == "retrying")
    to_v2 = [r for r in receiver.requests if r.path == "/v2"]
    assert [r.answered for r in to_v2] == [503]

    status, accepted = _helper(sandbox, pid, "webhooks/retry-now")
    assert status == 202 and accepted["attempt"] == 2
    wait_for(lambda: sandbox.request("GET", f"/api/payments/{pid}")[1]["webhook_status"] == "delivered")
    to_v2 = [r for r in receiver.requests if r.path == "/v2"]
    assert [r.answered for r in to_v2] == [503, 200]
    assert _verified(to_v2[1])["event_id"] == _verified(to_v2[0])["event_id"]


def _retry_now(operator: Api, payment_id: str) -> tuple[int, Any, dict[str, str]]:
    resource = "/api/test-helpers/payments/{payment_id}/webhooks/retry-now"
    path = resource.replace("{payment_id}", payment_id)
    params = {"payment_id": payment_id}
    return operator.call("POST", path, {}, headers=OPERATOR, resource=resource, path_parameters=params)


def test_retry_now_then_the_scheduled_retry_delivers_once(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    receiver.plan = lambda request, n: Reply(status=503 if n == 1 else 200)
    merchant.call("POST", "/api/v2/payments", v2_body(tx_id="tx-race", callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-race"}, headers=OPERATOR)
    pipeline.pump_stream()  # attempt 1 fails; attempt 2 is scheduled
    assert [r.answered for r in receiver.requests] == [503]

    status, _, _ = _retry_now(operator, "pay_tx-race")
    assert status == 202
    messages = pipeline.receive("WebhookRetryQueue")
    assert len(messages) == 2
    scheduled, now = sorted(messages, key=lambda m: -json.loads(m["Body"])["not_before"])
    arn = pipeline.queues["WebhookRetryQueue"]["arn"]

    assert pipeline.invoke(sqs_messages_to_event([now], arn)) == {"batchItemFailures": []}
    assert [r.answered for r in receiver.requests] == [503, 200]
    pipeline.clock.advance_to(json.loads(scheduled["Body"])["not_before"])  # the scheduled one fires too
    assert pipeline.invoke(sqs_messages_to_event([scheduled], arn)) == {"batchItemFailures": []}

    assert [r.answered for r in receiver.requests] == [503, 200]  # no second delivery
    view = view_of(merchant, "pay_tx-race")
    assert (view["webhook_status"], view["webhook_attempts"]) == ("delivered", 2)
    status, error, _ = _retry_now(operator, "pay_tx-race")
    assert status == 409 and error["error"]["code"] == "no_pending_retry"
