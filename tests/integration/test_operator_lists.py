"""``GET /api/v2/pending-payments``: every status without ``status=`` (the Payment Server v2
README's "all payments" list), narrowed by ``status=``, and one merchant's payment found by
``reference=`` or ``tx_id=`` — all without a Scan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import OPERATOR, Api, invoice_body, v2_body

LIST = "/api/v2/pending-payments"


def _v2(merchant: Api, tx_id: str) -> str:
    status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id=tx_id))
    assert status == 200, body
    return str(body["payment_id"])


def _invoice(merchant: Api, reference: str) -> str:
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body(reference=reference))
    assert status == 200, body
    return str(body["payment_id"])


def _act(operator: Api, action: str, payment_id: str) -> None:
    status, body, _ = operator.call("POST", f"/api/v2/{action}-payment", {"payment_id": payment_id}, headers=OPERATOR)
    assert status == 200, body


def _list(operator: Api, query: str = "") -> dict[str, Any]:
    status, body, _ = operator.call("GET", LIST, headers=OPERATOR, query=query)
    assert status == 200, body
    return dict(body)


def _pages(operator: Api, query: str) -> Iterator[dict[str, Any]]:
    page = _list(operator, query)
    yield page
    for _ in range(50):  # a cursor that does not advance fails here instead of looping
        if not page["next_cursor"]:
            return
        page = _list(operator, f"{query}&cursor={page['next_cursor']}")
        yield page
    raise AssertionError("paging did not end")


@pytest.fixture
def mixed(merchant: Api, operator: Api) -> list[str]:
    """Seven payments, oldest first: two completed, one failed, four pending (two invoices)."""
    ids = [_v2(merchant, f"tx-{i}") for i in range(5)] + [_invoice(merchant, "shop-1"), _invoice(merchant, "shop-2")]
    _act(operator, "confirm", ids[0])
    _act(operator, "confirm", ids[3])
    _act(operator, "fail", ids[1])
    return ids


def test_without_status_every_status_is_listed_newest_first_with_every_count(operator: Api, mixed: list[str]) -> None:
    page = _list(operator)
    assert list(page["payments"]) == mixed[::-1]
    assert {p["status"] for p in page["payments"].values()} >= {"PENDING", "PAYMENT_COMPLETED", "PAYMENT_FAILED"}
    counts = {k: v for k, v in page.items() if k.endswith("_count")}
    assert counts == {
        "pending_count": 4,
        "completed_count": 2,
        "failed_count": 1,
        "expired_count": 0,
        "refunded_count": 0,
    }
    assert page["next_cursor"] is None


@pytest.mark.parametrize("limit", [1, 2, 3, 6])
def test_paging_through_every_status_returns_each_payment_once_in_order(
    operator: Api, mixed: list[str], limit: int
) -> None:
    seen = [pid for page in _pages(operator, f"limit={limit}") for pid in page["payments"]]
    assert seen == mixed[::-1]


def test_payments_created_in_the_same_instant_are_never_lost_between_pages(
    merchant: Api, operator: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paysandbox import clock

    monkeypatch.setattr(clock, "now_epoch", lambda: 1_900_000_000.0)
    # Both creation orders, so the index's order among equal keys cannot hide a lost payment.
    ids = [_v2(merchant, f"tie-{i}") for i in range(5)] + [_v2(merchant, f"tie-{i}") for i in range(9, 4, -1)]
    _act(operator, "confirm", ids[1])
    _act(operator, "fail", ids[3])
    _act(operator, "fail", ids[8])
    for limit in (1, 2, 3):
        seen = [pid for page in _pages(operator, f"limit={limit}") for pid in page["payments"]]
        assert sorted(seen) == sorted(ids) and len(seen) == len(ids)


def test_status_narrows_the_list(operator: Api, mixed: list[str]) -> None:
    assert list(_list(operator, "status=completed")["payments"]) == [mixed[3], mixed[0]]
    assert list(_list(operator, "status=PAYMENT_FAILED")["payments"]) == [mixed[1]]


def test_reference_and_tx_id_find_one_merchants_payment(merchant: Api, operator: Api, mixed: list[str]) -> None:
    again = _invoice(merchant, "shop-1")  # references need not be unique: newest first
    assert list(_list(operator, "reference=shop-1")["payments"]) == [again, mixed[5]]
    assert list(_list(operator, "reference=shop-1&limit=1")["payments"]) == [again]
    first = _list(operator, "reference=shop-1&limit=1")
    assert list(_list(operator, f"reference=shop-1&limit=1&cursor={first['next_cursor']}")["payments"]) == [mixed[5]]
    found = _list(operator, "tx_id=tx-3")
    assert list(found["payments"]) == [mixed[3]]
    assert found["payments"][mixed[3]]["tx_id"] == "tx-3"
    assert found["completed_count"] == 2  # the same shape as every list
    assert _list(operator, "tx_id=tx-3&status=pending")["payments"] == {}
    assert _list(operator, "tx_id=nope")["payments"] == {}
    assert _list(operator, "reference=nope")["payments"] == {}
    assert _list(operator, "reference=shop-2&tx_id=tx-3")["payments"] == {}


def test_lookups_and_lists_never_scan(operator: Api, mixed: list[str]) -> None:
    from paysandbox.repository import dynamodb

    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    try:
        for query in ("", "limit=2", "status=failed", "tx_id=tx-1", "reference=shop-1"):
            _list(operator, query)
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.*")
    assert "Scan" not in calls
    assert {"Query", "BatchGetItem"} <= set(calls)


@pytest.mark.parametrize(
    "query",
    [
        "reference=",
        "tx_id=",
        "reference=" + "r" * 129,
        "tx_id=" + "t" * 129,
        # an every-status cursor whose created_at is a string: {"created_at":"x","payment_id":"p"}
        "cursor=eyJjcmVhdGVkX2F0IjoieCIsInBheW1lbnRfaWQiOiJwIn0=",
    ],
)
def test_bad_lookups_are_422_and_not_a_server_error(operator: Api, mixed: list[str], query: str) -> None:
    status, body, _ = operator.call("GET", LIST, headers=OPERATOR, query=query)
    assert status == 422, body
    assert body["error"]["code"] in ("validation_error", "invalid_cursor")
