"""What `make run` prints: a readable line per request and per webhook attempt,
quiet expirer runs, and the raw Powertools JSON with LOG_FORMAT=json."""

from __future__ import annotations

import json
from typing import Any

from harness.receiver import Receiver, Reply
from harness.sandbox_process import TOKEN, Sandbox
from tests.support import v2_body, wait_for

OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
FAST = {"WEBHOOK_RETRY_DELAYS": "1", "WEBHOOK_MAX_ATTEMPTS": "2", "EXPIRER_INTERVAL_SECONDS": "1"}


def _paid_with_a_failing_receiver(sandbox: Sandbox, receiver: Receiver, tx_id: str) -> str:
    receiver.plan = lambda request, n: Reply(status=503)
    status, created = sandbox.request("POST", "/api/v2/payments", v2_body(tx_id=tx_id, callback_url=receiver.url()))
    assert status == 200, created
    payment_id = str(created["payment_id"])
    assert sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": payment_id}, headers=OPERATOR)[0] == 200
    return payment_id


def _lines(sandbox: Sandbox, prefix: str) -> list[str]:
    return [line for line in sandbox.output().splitlines() if line.startswith(prefix)]


def test_the_terminal_shows_one_readable_line_per_request_and_webhook_attempt(
    sandbox_factory: Any,
    receiver: Receiver,
) -> None:
    sandbox: Sandbox = sandbox_factory(PAYMENT_TTL_SECONDS="3", **FAST)
    assert sandbox.request("POST", "/api/create-invoice", {"amount": "12500"})[0] == 422
    payment_id = _paid_with_a_failing_receiver(sandbox, receiver, "tx-terminal")
    target = receiver.url()

    attempts = wait_for(lambda: len(_lines(sandbox, "[webhook]")) == 2 and _lines(sandbox, "[webhook]"))
    assert attempts == [
        f"[webhook] payment.completed {payment_id} -> {target}: attempt 1 failed (503), retry in 1 s",
        f"[webhook] payment.completed {payment_id} -> {target}: attempt 2 failed (503), dead-lettered",
    ]
    requests = _lines(sandbox, "[api]")
    assert requests[:3] == [
        "[api] POST /api/create-invoice 422 validation_error",
        "[api] POST /api/v2/payments 200",
        "[api] POST /api/v2/confirm-payment 200",
    ]

    # The expirer runs every second; only the run that expires something says so.
    status, pending = sandbox.request("POST", "/api/v2/payments", v2_body(tx_id="tx-expires", callback_url=target))
    assert status == 200, pending
    wait_for(lambda: _lines(sandbox, "[expirer]"), timeout=30)
    assert _lines(sandbox, "[expirer]") == ["[expirer] expired 1 payment(s)"]
    assert not [line for line in sandbox.output().splitlines() if line.startswith("{")]  # no raw JSON


def test_log_format_json_gives_the_powertools_lines_with_each_functions_context(
    sandbox_factory: Any,
    receiver: Receiver,
) -> None:
    sandbox: Sandbox = sandbox_factory(LOG_FORMAT="json", **FAST)
    payment_id = _paid_with_a_failing_receiver(sandbox, receiver, "tx-json")

    def records() -> list[dict[str, Any]]:
        return [json.loads(line) for line in sandbox.output().splitlines() if line.startswith("{")]

    attempts = wait_for(lambda: [r for r in records() if r["message"] == "webhook attempt"])
    assert attempts[0]["payment_id"] == payment_id and attempts[0]["function_name"] == "WebhookSenderFunction"
    assert attempts[0]["outcome"] == "failed" and attempts[0]["next"] == "retry" and attempts[0]["retry_in_s"] == 1
    expirer_runs = wait_for(lambda: [r for r in records() if r["message"] == "expirer run"])
    assert expirer_runs[0]["function_name"] == "ExpirerFunction" and expirer_runs[0]["expired"] == 0
