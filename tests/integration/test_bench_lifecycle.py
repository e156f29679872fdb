"""Figure 3's harness (bench/lifecycle_requests.py): that it counts every DynamoDB request the
product makes and nothing of its own, and that one lifecycle really completes. Counts are
measured, not asserted: the handlers are being optimised, the benchmark must follow."""

from __future__ import annotations

import boto3
import pytest

from bench import cost_model, cost_pricing, lifecycle_requests
from bench.lifecycle_counting import CountedSteps


def test_a_step_counts_product_clients_and_clients_created_during_it(aws):
    from paysandbox.repository import payments as store

    with CountedSteps(boto3.client("dynamodb")) as steps, steps.step("two reads"):
        store.get("nope")
        boto3.client("dynamodb").get_item(TableName="Payments", Key={"payment_id": {"S": "x"}})
    assert steps.last["reads"] == 2 and steps.last["total"] == 2


def test_a_step_fails_when_a_request_escaped_the_counter(aws):
    stray = boto3.client("dynamodb")  # created before the step, held by no product module
    with (
        CountedSteps(boto3.client("dynamodb")) as steps,
        pytest.raises(RuntimeError, match="moto served 1 DynamoDB requests, the counters saw 0"),
        steps.step("stray read"),
    ):
        stray.get_item(TableName="Payments", Key={"payment_id": {"S": "x"}})


def test_the_benchmarks_own_reads_are_not_counted(aws):
    admin = boto3.client("dynamodb")
    with CountedSteps(admin) as steps, steps.step("bench only"):
        admin.get_item(TableName="Payments", Key={"payment_id": {"S": "x"}})
    assert steps.last["total"] == 0


def test_full_lifecycle_is_counted_per_step_and_priced_by_the_cost_model(monkeypatch):
    monkeypatch.setattr(lifecycle_requests, "TIMED_LIFECYCLES", 1)
    figure = lifecycle_requests.run()  # raises if not paid, not one signed webhook, not delivered
    data = figure.data
    steps = data["steps"]
    assert [s["function"] for s in steps] == ["CreatePaymentFunction"] + ["CheckoutFunction"] * 5 + [
        "WebhookSenderFunction"
    ]
    assert sum(s["snapshot"]["total"] for s in steps) == data["total"]["total"]
    assert data["total"]["total"] == sum(data["total"][k] for k in ("reads", "writes", "queries", "scans"))
    total = data["total"]
    # by-status holds keys only: of the payment's four writes only creation (1) and the move
    # to paid (delete + put) touch it, plus by-expiry's put and delete, plus by-reference's put
    # at creation (keys only; no later write changes a reference): 6 on the Payments table. The
    # event's record in WebhookLogs enters by-team and by-event with the claim; both project
    # only what the claim writes once, so the attempt's result touches neither: 2 more, 8 in all.
    assert total["index_write_units"] == 8
    refund, refund_webhook = (s["snapshot"] for s in data["refund_path"]["steps"])
    # A refund: the finder's read and ONE conditional write; its webhook as any webhook.
    assert refund["requests"] == {"GetItem": 1, "UpdateItem": 1}
    assert refund_webhook["writes"] == 3 and refund_webhook["reads"] == 0
    assert "refund path 2 (1 read, 1 conditional write)" in figure.measured
    assert figure.met == (total["total"] <= 8 and total["write_units"] <= 11 and total["scans"] == 0)
    # Lambda's stream reads: once for the payment, once more for the sender's own write (filtered out)
    assert data["stream_calls"]["GetRecords"] == 2
    expirer = data["expirer_path"]["snapshot"]
    assert expirer["queries"] >= 1 and expirer["scans"] == 0
    # priced on the real images: 1 table + by-status key change (delete + put) + leaving by-expiry
    assert expirer["write_units"] == 4

    profile = cost_pricing.LifecycleProfile.from_dict(data["profile"])
    calls = {i.function: i.per_lifecycle for i in profile.invocations}
    assert calls == {"CreatePaymentFunction": 1, "CheckoutFunction": 5, "WebhookSenderFunction": 1}
    assert profile.dynamodb_write_units == data["total"]["write_units"] >= data["total"]["writes"]
    assert not profile.partial
    priced = cost_model.run({"lifecycle_requests": figure})
    assert priced.partial is False and priced.data["profile"] == data["profile"]
    assert priced.data["per_million_usd"]["API Gateway (REST)"] == pytest.approx(6 * 3.50)
