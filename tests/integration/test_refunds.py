"""Refunds through the operator handler, with their webhooks delivered by the real
pipeline (moto stream, filter from the template, sender) to a real receiver."""

from __future__ import annotations

import pytest

from harness.receiver import Receiver
from paysandbox import payments, refund_events, refunds, test_helpers
from paysandbox.models import RefundRequest
from tests.integration.conftest import Pipeline, assert_signed
from tests.integration.test_checkout import Customer
from tests.support import OPERATOR, Api, invoice_body, on_payment, v2_body, view_of


def _refund(operator: Api, pid: str, body: dict | None = None, headers: dict | None = None):
    return on_payment(operator, "POST", pid, "/refunds", body=body or {}, headers={**OPERATOR, **(headers or {})})


def _refunds(operator: Api, pid: str) -> list[dict]:
    status, body, _ = on_payment(operator, "GET", pid, "/refunds", headers=OPERATOR)
    assert status == 200, body
    return list(body["refunds"])


def _paid_invoice(merchant: Api, operator: Api, url: str, amount: int = 10_000) -> str:
    status, created, _ = merchant.call("POST", "/api/create-invoice", invoice_body(amount=amount, webhook_url=url))
    assert status == 200, created
    pid = str(created["payment_id"])
    assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": pid}, headers=OPERATOR)[0] == 200
    return pid


def test_partial_partial_full_each_step_and_three_signed_webhooks(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    pid = _paid_invoice(merchant, operator, receiver.url("/hooks"))
    pipeline.run()
    assert [assert_signed(r)["event"] for r in receiver.requests] == ["payment.completed"]

    steps = [(3_000, "paid", 3_000), (2_500, "paid", 5_500), (None, "refunded", 10_000)]
    made = []
    for amount, status_after, refunded_after in steps:
        status, refund, headers = _refund(operator, pid, {"amount": amount} if amount else {"reason": "rest"})
        assert status == 200, refund
        assert "Idempotent-Replayed" not in headers
        assert refund["status"] == "succeeded" and refund["payment_id"] == pid
        assert refund["refund_id"].startswith("re_") and refund["failure_reason"] is None
        view = view_of(merchant, pid)
        assert (view["status"], view["amount_refunded"]) == (status_after, refunded_after)
        pipeline.run()
        made.append(refund)
    assert made[2]["amount"] == 4_500 and made[2]["reason"] == "rest"  # the default: what remained

    bodies = [assert_signed(r) for r in receiver.requests[1:]]
    assert [b["event"] for b in bodies] == ["payment.refunded"] * 3
    assert [b["refund_id"] for b in bodies] == [r["refund_id"] for r in made]
    assert [b["refund_amount"] for b in bodies] == [3_000, 2_500, 4_500]
    assert [b["amount_refunded"] for b in bodies] == [3_000, 5_500, 10_000]
    assert [b["status"] for b in bodies] == ["paid", "paid", "refunded"]
    assert len({b["event_id"] for b in bodies}) == 3  # one event per refund, none for the move itself
    assert [r["refund_id"] for r in _refunds(operator, pid)] == [r["refund_id"] for r in made]
    assert view_of(merchant, pid)["webhook_status"] == "delivered"

    status, error, _ = _refund(operator, pid, {"amount": 1})
    assert status == 409 and error["error"]["code"] == "payment_not_refundable"


def test_each_refund_passes_the_stream_filter_once_and_bookkeeping_never(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    pid = _paid_invoice(merchant, operator, receiver.url())
    pipeline.run()
    for amount in (1_000, 2_000):
        assert _refund(operator, pid, {"amount": amount})[0] == 200
        passed = pipeline.next_batch()["Records"]
        assert [refund_events.refund_id_of(r) is not None for r in passed] == [True]
        pipeline.invoke({"Records": passed})  # delivered: the sender's bookkeeping write follows
        assert pipeline.next_batch()["Records"] == []  # ...and does not pass
    assert len(receiver.requests) == 3


def test_v2_full_refund_is_payment_refunded_in_v2_flavour(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    merchant.call("POST", "/api/v2/payments", v2_body(tx_id="tx-r", callback_url=receiver.url()))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-r"}, headers=OPERATOR)
    assert _refund(operator, "pay_tx-r")[0] == 200
    pipeline.run()
    refunded = assert_signed(receiver.requests[-1])
    assert refunded["status"] == "PAYMENT_REFUNDED" and refunded["event"] == "payment.refunded"
    assert (refunded["tx_id"], refunded["refund_amount"], refunded["amount_refunded"]) == ("tx-r", 4_990, 4_990)
    assert view_of(merchant, "pay_tx-r")["status"] == "PAYMENT_REFUNDED"
    assert len(receiver.requests) == 2


def test_over_refund_is_409_with_the_remaining_amount_and_changes_nothing(merchant: Api, operator: Api) -> None:
    pid = _paid_invoice(merchant, operator, "https://merchant.example.com/hooks")
    assert _refund(operator, pid, {"amount": 7_000})[0] == 200
    status, error, _ = _refund(operator, pid, {"amount": 3_001})
    assert status == 409 and error["error"]["code"] == "refund_exceeds_amount"
    assert error["error"]["details"][0]["remaining"] == 3_000
    assert view_of(merchant, pid)["amount_refunded"] == 7_000 and len(_refunds(operator, pid)) == 1


@pytest.mark.parametrize("how", ["pending", "failed", "expired"])
def test_only_a_paid_payment_is_refundable(merchant: Api, operator: Api, how: str) -> None:
    created = merchant.call("POST", "/api/create-invoice", invoice_body())[1]
    pid = created["payment_id"]
    if how == "failed":
        payments.fail(pid, "no")
    elif how == "expired":
        test_helpers.expire_now(pid)
    status, error, _ = _refund(operator, pid, {"amount": 1})
    assert status == 409 and error["error"]["code"] == "payment_not_refundable"
    assert _refunds(operator, pid) == [] and view_of(merchant, pid)["amount_refunded"] == 0


@pytest.mark.parametrize(
    "body", [{"amount": 0}, {"amount": -5}, {"amount": 1.5}, {"amount": "100"}, {"amout": 100}, {"reason": "a\x00b"}]
)
def test_bad_refund_bodies_are_422_and_change_nothing(merchant: Api, operator: Api, body: dict) -> None:
    pid = _paid_invoice(merchant, operator, "https://merchant.example.com/hooks")
    status, error, _ = _refund(operator, pid, body)
    assert status == 422, error
    assert _refunds(operator, pid) == [] and view_of(merchant, pid)["amount_refunded"] == 0


def test_refunds_need_the_operator_token_and_an_existing_payment(merchant: Api, operator: Api) -> None:
    pid = _paid_invoice(merchant, operator, "https://merchant.example.com/hooks")
    assert on_payment(operator, "POST", pid, "/refunds", body={})[0] == 401
    assert on_payment(operator, "GET", pid, "/refunds")[0] == 401
    assert _refund(operator, "inv_nope")[0] == 404
    assert on_payment(operator, "GET", "inv_nope", "/refunds", headers=OPERATOR)[0] == 404


def test_two_refunds_that_together_exceed_the_amount_exactly_one_wins(merchant: Api, operator: Api) -> None:
    """Both requests read the payment before either writes; then the writes land in order."""
    pid = _paid_invoice(merchant, operator, "https://merchant.example.com/hooks")
    seen_by_both = payments.get_payment(pid)
    winner = refunds.create(pid, RefundRequest(amount=6_000), None)[0]

    real_get = refunds.get_payment
    refunds.get_payment = lambda _pid, _team="default": seen_by_both  # the loser's read happened before the win
    try:
        with pytest.raises(Exception) as lost:
            refunds.create(pid, RefundRequest(amount=6_000), None)
    finally:
        refunds.get_payment = real_get
    assert getattr(lost.value, "code", None) == "refund_exceeds_amount"
    assert lost.value.details[0]["remaining"] == 4_000  # judged on the item the failed write returned
    view = view_of(merchant, pid)
    assert (view["status"], view["amount_refunded"]) == ("paid", 6_000)
    assert [r["refund_id"] for r in _refunds(operator, pid)] == [winner["refund_id"]]


def test_a_stale_partial_refund_that_still_fits_becomes_the_full_one(merchant: Api, operator: Api) -> None:
    pid = _paid_invoice(merchant, operator, "https://merchant.example.com/hooks")
    seen_by_both = payments.get_payment(pid)
    refunds.create(pid, RefundRequest(amount=6_000), None)
    real_get = refunds.get_payment
    refunds.get_payment = lambda _pid, _team="default": seen_by_both
    try:
        refunds.create(pid, RefundRequest(amount=4_000), None)
    finally:
        refunds.get_payment = real_get
    view = view_of(merchant, pid)
    assert (view["status"], view["amount_refunded"]) == ("refunded", 10_000)


def test_idempotent_refund_replay_and_reuse_with_another_body(merchant: Api, operator: Api) -> None:
    pid = _paid_invoice(merchant, operator, "https://merchant.example.com/hooks")
    key = {"Idempotency-Key": "refund-1"}
    first = _refund(operator, pid, {"amount": 1_000}, key)
    again = _refund(operator, pid, {"amount": 1_000}, key)
    assert first[0] == again[0] == 200
    assert again[1] == first[1] and again[2]["Idempotent-Replayed"] == "true"
    other = _refund(operator, pid, {"amount": 2_000}, key)
    assert other[0] == 409 and other[1]["error"]["code"] == "idempotency_key_reused"
    assert view_of(merchant, pid)["amount_refunded"] == 1_000 and len(_refunds(operator, pid)) == 1


def test_the_failing_refund_card_refunds_fail_and_emit_refund_failed(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    pid = merchant.call("POST", "/api/create-invoice", invoice_body(webhook_url=receiver.url()))[1]["payment_id"]
    assert "Payment successful" in Customer().pay(pid, "4000 0000 0000 5126").html  # pays like 4242
    status, refund, _ = _refund(operator, pid, {"amount": 500})
    assert status == 200 and refund["status"] == "failed" and refund["failure_reason"] == "refund_failed"
    view = view_of(merchant, pid)
    assert (view["status"], view["amount_refunded"]) == ("paid", 0)
    pipeline.run()
    failed = assert_signed(receiver.requests[-1])
    assert failed["event"] == "refund.failed" and failed["refund_id"] == refund["refund_id"]
    assert (failed["refund_amount"], failed["amount_refunded"], failed["status"]) == (500, 0, "paid")
    assert receiver.requests[-1].headers["X-Payment-Event"] == "refund.failed"
