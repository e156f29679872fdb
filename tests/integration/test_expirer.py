"""The scheduled expirer: only due payments, open states only, bounded, idempotent."""

from __future__ import annotations

from typing import Any

import pytest

from paysandbox import clock, expiry, payments
from paysandbox.repository import payments as store
from paysandbox.states import Status
from sandbox.apigw import LambdaContext
from sandbox.lambda_events import scheduled_event
from tests.support import (
    EXPIRER_RULE,
    Api,
    dynamodb_requests,
    load_handler,
    stored_payments,
    terminal_transitions,
    v2_body,
    view_of,
)


def _create(merchant: Api, tx_id: str) -> str:
    _, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id=tx_id))
    return str(body["payment_id"])


def _make_due(payment_id: str, status: str = "pending") -> None:
    store.update_if(payment_id, from_statuses={status}, set_values={"expires_at": clock.now_epoch() - 5})


def _run_expirer(timeout_seconds: float = 60) -> dict[str, Any]:
    context = LambdaContext(function_name="ExpirerFunction", timeout_seconds=timeout_seconds)
    return dict(load_handler("expirer").lambda_handler(scheduled_event(EXPIRER_RULE), context))


def test_only_due_open_payments_are_expired(merchant: Api) -> None:
    due = _create(merchant, "due")
    not_due = _create(merchant, "not-due")
    settled = _create(merchant, "settled")
    payments.confirm(settled)
    _make_due(due)
    before = {p["payment_id"]: p for p in stored_payments()}

    assert _run_expirer() == {"expired": 1, "lost_races": 0, "complete": True}

    assert view_of(merchant, due)["status"] == "PAYMENT_EXPIRED"
    after = {p["payment_id"]: p for p in stored_payments()}
    assert after[not_due] == before[not_due]
    assert after[settled] == before[settled]
    assert "due_pk" not in after[due]  # left the sparse index
    assert terminal_transitions(due) == ["expired"]


def test_waiting_for_otp_payments_expire_too(merchant: Api) -> None:
    payment_id = _create(merchant, "otp")
    payments.transition(payment_id, Status.WAITING_FOR_OTP)
    _make_due(payment_id, "waiting_for_otp")
    assert _run_expirer()["expired"] == 1
    assert view_of(merchant, payment_id)["status"] == "PAYMENT_EXPIRED"


def test_a_second_run_finds_nothing_to_do(merchant: Api) -> None:
    _make_due(_create(merchant, "a"))
    assert _run_expirer()["expired"] == 1
    assert _run_expirer() == {"expired": 0, "lost_races": 0, "complete": True}


def test_it_reads_only_the_sparse_index_never_scans(merchant: Api) -> None:
    for i in range(5):
        payments.confirm(_create(merchant, f"settled-{i}"))
    _make_due(_create(merchant, "due"))
    with dynamodb_requests() as requests:
        assert _run_expirer()["expired"] == 1
    assert [(r.operation, r.index) for r in requests] == [("Query", "by-expiry"), ("UpdateItem", None)]


def test_a_run_stops_when_lambda_time_runs_out(merchant: Api) -> None:
    for i in range(3):
        _make_due(_create(merchant, f"due-{i}"))
    # 4 s left is inside the expirer's safety margin: it must not start any update.
    assert _run_expirer(timeout_seconds=4) == {"expired": 0, "lost_races": 0, "complete": False}
    assert _run_expirer()["expired"] == 3


def test_a_payment_settled_after_the_index_read_is_a_lost_race_not_an_error(
    merchant: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment_id = _create(merchant, "due")
    _make_due(payment_id)
    # A DynamoDB GSI is eventually consistent (moto's is not): the expirer may read a payment
    # that another run - or a customer - settled a moment ago. Replay that stale read.
    stale_page = store.query_due(clock.now_epoch(), 50)
    payments.transition(payment_id, Status.EXPIRED)  # the other run wins
    monkeypatch.setattr(store, "query_due", lambda *args, **kwargs: stale_page)

    run = expiry.expire_due(lambda: True)

    assert (run.expired, run.lost_races, run.due_seen) == (0, 1, 1)
    assert terminal_transitions(payment_id) == ["expired"]


def test_expiry_does_not_touch_payment_retention(merchant: Api) -> None:
    payment_id = _create(merchant, "due")
    ttl_before = next(p["ttl"] for p in stored_payments() if p["payment_id"] == payment_id)
    _make_due(payment_id)
    _run_expirer()
    item = next(p for p in stored_payments() if p["payment_id"] == payment_id)
    assert item["ttl"] == ttl_before
    assert item["ttl"] == pytest.approx(item["created_at"] + 30 * 86400, abs=1)
