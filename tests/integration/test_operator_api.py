"""Operator routes (function confirm): auth, confirm, fail, and the lists by status."""

from __future__ import annotations

import pytest

from paysandbox import clock
from paysandbox.repository import payments as store
from tests.support import OPERATOR, Api, dynamodb_requests, invoice_body, v2_body, view_of


def _create_v2(merchant: Api, tx_id: str = "tx-1", **fields) -> str:
    status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id=tx_id, **fields))
    assert status == 200, body
    return body["payment_id"]


def _confirm(operator: Api, payment_id: str, headers: dict | None = None):
    return operator.call(
        "POST", "/api/v2/confirm-payment", {"payment_id": payment_id}, headers=OPERATOR if headers is None else headers
    )


def _fail(operator: Api, payment_id: str, reason: str | None = None):
    body = {"payment_id": payment_id} | ({"reason": reason} if reason else {})
    return operator.call("POST", "/api/v2/fail-payment", body, headers=OPERATOR)


def _backdate_expiry(payment_id: str) -> None:
    """Make a payment past its expiry without the expirer having run (test set-up only)."""
    store.update_if(payment_id, from_statuses={"pending"}, set_values={"expires_at": clock.now_epoch() - 1})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "test-operator-token"},
        {"Authorization": "Basic dGVzdA=="},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong", "no scheme", "basic", "empty"],
)
def test_operator_routes_need_the_bearer_token(merchant: Api, operator: Api, headers: dict) -> None:
    payment_id = _create_v2(merchant)
    for method, path, body in [
        ("POST", "/api/v2/confirm-payment", {"payment_id": payment_id}),
        ("POST", "/api/v2/fail-payment", {"payment_id": payment_id}),
        ("GET", "/api/v2/pending-payments", None),
    ]:
        status, answer, _ = operator.call(method, path, body, headers=headers)
        assert status == 401
        assert answer["error"]["code"] in ("missing_token", "invalid_token")
    assert view_of(merchant, payment_id)["status"] == "PENDING"


def test_confirm_completes_a_pending_payment(merchant: Api, operator: Api) -> None:
    payment_id = _create_v2(merchant)
    status, body, _ = _confirm(operator, payment_id)
    assert status == 200
    assert body["ok"] is True
    assert body["payment_id"] == payment_id
    assert body["status"] == "PAYMENT_COMPLETED"
    assert body["confirmed_at"].endswith("Z")
    view = view_of(merchant, payment_id)
    assert view["status"] == "PAYMENT_COMPLETED"
    assert view["paid_at"] == body["confirmed_at"]
    assert view["webhook_status"] == "pending"


def test_confirming_twice_returns_the_same_body(merchant: Api, operator: Api) -> None:
    payment_id = _create_v2(merchant)
    _, first, _ = _confirm(operator, payment_id)
    status, second, _ = _confirm(operator, payment_id)
    assert status == 200
    assert second == first


def test_invoice_payments_can_be_confirmed_too(merchant: Api, operator: Api) -> None:
    _, created, _ = merchant.call("POST", "/api/create-invoice", invoice_body())
    assert _confirm(operator, created["payment_id"])[0] == 200
    view = view_of(merchant, created["payment_id"])
    assert view["status"] == "paid"


def test_confirm_after_fail_is_a_conflict_and_changes_nothing(merchant: Api, operator: Api) -> None:
    payment_id = _create_v2(merchant)
    status, body, _ = _fail(operator, payment_id, reason="customer asked")
    assert (status, body) == (200, {"ok": True, "payment_id": payment_id, "status": "PAYMENT_FAILED"})
    status, body, _ = _confirm(operator, payment_id)
    assert status == 409
    assert body["error"]["code"] == "invalid_state"
    view = view_of(merchant, payment_id)
    assert view["status"] == "PAYMENT_FAILED"
    assert view["decline_code"] == "declined_by_operator"


def test_fail_after_confirm_is_a_conflict(merchant: Api, operator: Api) -> None:
    payment_id = _create_v2(merchant)
    _confirm(operator, payment_id)
    assert _fail(operator, payment_id)[0] == 409


def test_failing_twice_returns_the_same_body(merchant: Api, operator: Api) -> None:
    payment_id = _create_v2(merchant)
    first = _fail(operator, payment_id)[:2]
    assert first[0] == 200
    assert _fail(operator, payment_id)[:2] == first


def test_confirm_or_fail_past_expiry_is_refused_before_the_expirer_runs(merchant: Api, operator: Api) -> None:
    payment_id = _create_v2(merchant)
    _backdate_expiry(payment_id)
    for action in (_confirm, _fail):
        status, body, _ = action(operator, payment_id)
        assert status == 409
        assert body["error"]["code"] == "payment_expired"
    view = view_of(merchant, payment_id)
    assert view["status"] == "PENDING"


def test_unknown_payment_is_404_and_bad_bodies_are_4xx(operator: Api) -> None:
    status, body, _ = _confirm(operator, "pay_nope")
    assert (status, body["error"]["code"]) == (404, "payment_not_found")
    status, body, _ = operator.call("POST", "/api/v2/confirm-payment", {}, headers=OPERATOR)
    assert status == 422
    status, body, _ = operator.call("POST", "/api/v2/confirm-payment", raw_body="{", headers=OPERATOR)
    assert status == 400
    status, body, _ = operator.call(
        "POST", "/api/v2/fail-payment", {"payment_id": "x", "reason": "r" * 501}, headers=OPERATOR
    )
    assert status == 422


def test_lists_are_newest_first_with_counts_and_cursor_paging(merchant: Api, operator: Api) -> None:
    ids = [_create_v2(merchant, f"tx-{i}") for i in range(5)]
    _confirm(operator, ids[0])
    _fail(operator, ids[1])

    status, page, _ = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR, query="status=pending&limit=2")
    assert status == 200
    assert (page["pending_count"], page["completed_count"], page["failed_count"], page["expired_count"]) == (3, 1, 1, 0)
    assert list(page["payments"]) == [ids[4], ids[3]]
    assert page["payments"][ids[4]]["status"] == "PENDING"

    query = f"status=pending&limit=2&cursor={page['next_cursor']}"
    _, rest, _ = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR, query=query)
    assert list(rest["payments"]) == [ids[2]]
    assert rest["next_cursor"] is None

    _, completed, _ = operator.call(
        "GET", "/api/v2/pending-payments", headers=OPERATOR, query="status=PAYMENT_COMPLETED"
    )
    assert list(completed["payments"]) == [ids[0]]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "limit=abc", "limit=-1", "status=nope", "cursor=garbage", "cursor=eyJhIjoxfQ"]
)
def test_bad_list_parameters_are_422(operator: Api, query: str) -> None:
    status, body, _ = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR, query=query)
    assert status == 422
    assert body["error"]["code"] in ("validation_error", "invalid_cursor")


def test_a_cursor_from_another_list_is_refused(merchant: Api, operator: Api) -> None:
    for i in range(2):
        _create_v2(merchant, f"tx-{i}")
    _, page, _ = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR, query="limit=1")
    status, _, _ = operator.call(
        "GET", "/api/v2/pending-payments", headers=OPERATOR, query=f"status=failed&cursor={page['next_cursor']}"
    )
    assert status == 422


def test_listing_never_scans_the_table(merchant: Api, operator: Api) -> None:
    _create_v2(merchant)
    with dynamodb_requests() as requests:
        operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR)
    operations = {r.operation for r in requests}
    assert "Query" in operations
    assert "Scan" not in operations
