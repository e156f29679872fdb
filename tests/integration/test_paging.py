"""Everything that reads a DynamoDB query follows every page, and the expirer stays bounded.

DynamoDB cuts a query's answer at 1 MB and hands back ``LastEvaluatedKey``; moto never
cuts, so these tests make the pages small (``dynamodb_pages_of``) to see code that stops
after the first one.
"""

from __future__ import annotations

from harness.receiver import Receiver, Reply
from paysandbox import clock, expiry
from paysandbox.repository import payments as store
from sandbox.apigw import LambdaContext
from sandbox.lambda_events import scheduled_event
from tests.integration.conftest import Pipeline
from tests.support import EXPIRER_RULE, OPERATOR, Api, dynamodb_pages_of, load_handler, on_payment, v2_body, view_of


def _due_payments(merchant: Api, count: int) -> list[str]:
    ids = []
    for i in range(count):
        status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id=f"due-{i}"))
        assert status == 200, body
        store.update_if(body["payment_id"], from_statuses={"pending"}, set_values={"expires_at": clock.now_epoch() - 5})
        ids.append(str(body["payment_id"]))
    return ids


def test_the_expirer_expires_due_payments_beyond_the_first_page(merchant: Api) -> None:
    ids = _due_payments(merchant, 5)
    context = LambdaContext(function_name="ExpirerFunction", timeout_seconds=60)

    with dynamodb_pages_of(2):
        result = load_handler("expirer").lambda_handler(scheduled_event(EXPIRER_RULE), context)

    assert result == {"expired": 5, "lost_races": 0, "complete": True}
    assert {view_of(merchant, i)["status"] for i in ids} == {"PAYMENT_EXPIRED"}


def test_one_expirer_run_is_bounded_and_the_next_run_finishes(merchant: Api) -> None:
    _due_payments(merchant, 5)

    first = expiry.expire_due(lambda: True, page_size=2, max_per_run=3)
    assert (first.expired, first.complete) == (3, False)

    second = expiry.expire_due(lambda: True, page_size=2, max_per_run=3)
    assert (second.expired, second.complete) == (2, True)


def test_status_counts_add_up_every_page(merchant: Api, operator: Api) -> None:
    for i in range(5):
        assert merchant.call("POST", "/api/v2/payments", v2_body(tx_id=f"tx-{i}"))[0] == 200

    with dynamodb_pages_of(2):
        status, body, _ = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR)

    assert status == 200, body
    assert body["pending_count"] == 5


def test_the_delivery_log_shows_attempts_beyond_the_first_page(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api, settings_env
) -> None:
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", "3")
    receiver.plan = lambda request, n: Reply(500)
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    pipeline.run()
    assert len(receiver.requests) == 3

    with dynamodb_pages_of(1):
        status, body, _ = on_payment(operator, "GET", "pay_tx-1001", "/webhooks", headers=OPERATOR)

    assert status == 200, body
    assert [d["attempt_number"] for d in body["deliveries"]] == [1, 2, 3]
