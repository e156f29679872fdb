"""``Paysandbox-Simulate`` on the merchant routes: forced statuses change nothing
and leave no idempotency record; latency delays the real answer; nonsense is a 422."""

from __future__ import annotations

import time

import pytest

from tests.support import Api, invoice_body, stored_payments, v2_body, view_of


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_a_simulated_status_answers_it_and_creates_nothing(merchant: Api, status: int) -> None:
    key = {"Idempotency-Key": f"order-{status}"}
    got, body, headers = merchant.call(
        "POST", "/api/create-invoice", invoice_body(), headers={**key, "Paysandbox-Simulate": f"status={status}"}
    )
    assert got == status and body["error"]["code"] == "simulated_failure" and body["error"]["message"]
    assert headers.get("Retry-After") == ("1" if status in (429, 503) else None)
    assert stored_payments() == []
    # The merchant's retry with the same key now creates the payment: no record was left.
    created, _, replay = merchant.call("POST", "/api/create-invoice", invoice_body(), headers=key)
    assert created == 200 and "Idempotent-Replayed" not in replay
    assert len(stored_payments()) == 1


def test_v2_create_and_status_read_are_simulated_too(merchant: Api) -> None:
    simulate = {"Paysandbox-Simulate": "status=502"}
    assert merchant.call("POST", "/api/v2/payments", v2_body(), headers=simulate)[0] == 502
    assert stored_payments() == []
    pid = merchant.call("POST", "/api/v2/payments", v2_body())[1]["payment_id"]
    assert merchant.call("GET", f"/api/payments/{pid}", headers=simulate)[0] == 502
    assert view_of(merchant, pid)["status"] == "PENDING"


def test_latency_delays_the_real_answer_and_combines_with_a_status(merchant: Api) -> None:
    started = time.monotonic()
    status, _, _ = merchant.call(
        "POST", "/api/create-invoice", invoice_body(), headers={"Paysandbox-Simulate": "latency_ms=300"}
    )
    assert status == 200 and time.monotonic() - started >= 0.3
    assert len(stored_payments()) == 1
    started = time.monotonic()
    status, _, headers = merchant.call(
        "POST", "/api/create-invoice", invoice_body(), headers={"Paysandbox-Simulate": "status=503, latency_ms=200"}
    )
    assert status == 503 and headers["Retry-After"] == "1" and time.monotonic() - started >= 0.2
    assert len(stored_payments()) == 1


@pytest.mark.parametrize(
    "value",
    [
        "status=418",
        "status=200",
        "latency_ms=10001",
        "latency_ms=-1",
        "latency_ms=fast",
        "chaos=1",
        "status",
        "",
        "status=500,status=503",
        "status=500;latency_ms=1",
        "latency_ms=\uff11\uff10",  # full-width digits
    ],
)
def test_nonsense_is_a_422_that_changes_nothing(merchant: Api, value: str) -> None:
    status, body, _ = merchant.call(
        "POST", "/api/create-invoice", invoice_body(), headers={"Paysandbox-Simulate": value}
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "Paysandbox-Simulate"
    assert stored_payments() == []
