"""Payment Server v2 README, example by example (put the README beside this file and tick off).

Each test is named after the README section it covers and quotes where its example is. The
request bodies are the README's JSON, pasted as text and sent as it parses (``order_id: 123``
and ``user_id: 1`` stay integers). Two things the README cannot fix for a sandbox are
replaced, and nothing else: where a webhook must be *received*, ``callback_url`` points at
our receiver instead of ``https://ops/...``; and operator calls carry
``Authorization: Bearer <SERVICE_AUTH_TOKEN>`` (optional on the old server, always set here).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from harness.receiver import Receiver
from tests.conformance.conftest import OPERATOR, SECRET, TOKEN, Sandbox, json_type
from tests.conformance.seed_receivers import payment_server_verify
from tests.support import wait_for

# "## 📡 API 엔드포인트 / ### 결제 생성"
CREATE_REQUEST = """
{
  "version": "v2",
  "tx_id": "tx_1001",
  "order_id": 123,
  "user_id": 1,
  "amount": 1000,
  "callback_url": "https://ops/api/orders/payment/webhook/v2/tx_1001"
}
"""
# its "**응답:**"
CREATE_RESPONSE = """
{
  "ok": true,
  "tx_id": "tx_1001",
  "status": "PENDING",
  "payment_id": "pay_tx_1001"
}
"""
# "### 결제 완료"
CONFIRM_REQUEST = """
{
  "payment_id": "pay_tx_1001"
}
"""
# its "**응답:**"
CONFIRM_RESPONSE = """
{
  "ok": true,
  "payment_id": "pay_tx_1001",
  "status": "PAYMENT_COMPLETED",
  "confirmed_at": "2024-01-01T12:00:00Z"
}
"""
# "### 결제 목록 조회 / **응답:**"
LIST_RESPONSE = """
{
  "pending_count": 2,
  "completed_count": 5,
  "payments": {
    "pay_tx_1001": {
      "payment_id": "pay_tx_1001",
      "order_id": 123,
      "tx_id": "tx_1001",
      "user_id": 1,
      "amount": 1000,
      "status": "PENDING",
      "created_at": "2024-01-01T12:00:00Z",
      "confirmed_at": null,
      "callback_url": "https://ops/api/orders/payment/webhook/v2/tx_1001"
    }
  }
}
"""
TIMESTAMP_FIELDS = {"created_at", "confirmed_at"}  # values differ by nature; their type does not


def assert_like(example: Any, actual: Any, where: str = "") -> None:
    """Every field of the README example is there with the same JSON type, and the same value
    unless it is a timestamp (then an ISO 8601 UTC string with ``Z``). Extra fields are allowed."""
    if isinstance(example, dict):
        assert isinstance(actual, dict), where
        for key, value in example.items():
            assert key in actual, f"{where}.{key} missing"
            assert_like(value, actual[key], f"{where}.{key}")
        return
    assert json_type(actual) == json_type(example), f"{where}: {actual!r} is not of {example!r}'s type"
    if where.rsplit(".", 1)[-1] in TIMESTAMP_FIELDS and isinstance(example, str):
        assert actual.endswith("Z") and datetime.fromisoformat(actual[:-1]), where
    else:
        assert actual == example, f"{where}: {actual!r} != {example!r}"


def create(sandbox: Sandbox, **replace: Any) -> tuple[int, Any]:
    return sandbox.request("POST", "/api/v2/payments", {**json.loads(CREATE_REQUEST), **replace})


def confirm(sandbox: Sandbox, payment_id: str) -> tuple[int, Any]:
    return sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": payment_id}, OPERATOR)


def listing(sandbox: Sandbox, query: str = "") -> dict[str, Any]:
    status, body = sandbox.request("GET", "/api/v2/pending-payments" + query, headers=OPERATOR)
    assert status == 200, body
    return dict(body)


# ------------------------------------------------------------------ API 엔드포인트


def test_payment_create(sandbox: Sandbox) -> None:
    # README "### 결제 생성": POST /api/v2/payments with the body as printed -> "**응답:**".
    status, body = create(sandbox)
    assert status == 200
    assert_like(json.loads(CREATE_RESPONSE), body)
    assert json_type(body["ok"]) == "boolean"


def test_payment_confirm(sandbox: Sandbox) -> None:
    # README "### 결제 완료": POST /api/v2/confirm-payment {"payment_id": "pay_tx_1001"} -> "**응답:**".
    assert create(sandbox)[0] == 200
    status, body = sandbox.request("POST", "/api/v2/confirm-payment", json.loads(CONFIRM_REQUEST), OPERATOR)
    assert status == 200
    assert_like(json.loads(CONFIRM_RESPONSE), body)


def test_payment_list(sandbox: Sandbox) -> None:
    # README "### 결제 목록 조회": GET /api/v2/pending-payments (no status: "모든 결제 현황 조회").
    # The example's own numbers: tx_1001 and one more pending, five completed.
    assert create(sandbox)[0] == 200
    for n in range(1002, 1008):
        tx_id = f"tx_{n}"
        status, body = create(sandbox, tx_id=tx_id, order_id=n, callback_url=f"https://ops/webhook/v2/{tx_id}")
        assert status == 200, body
        if n != 1002:
            assert confirm(sandbox, f"pay_{tx_id}")[0] == 200
    body = listing(sandbox)
    assert_like(json.loads(LIST_RESPONSE), body)
    assert len(body["payments"]) == 7  # every status: the completed ones are listed too
    assert {p["status"] for p in body["payments"].values()} == {"PENDING", "PAYMENT_COMPLETED"}


# ------------------------------------------------------------------ 웹훅 보안 + 워크플로우


def test_webhook_security_headers_and_signature_verification(sandbox: Sandbox, receiver: Receiver) -> None:
    # README "## 🔐 웹훅 보안": headers X-Payment-Event: payment.completed, X-Payment-Signature
    # (HMAC-SHA256, Base64), Content-Type: application/json; "### 서명 검증": the function, verbatim.
    # README "## 🎯 워크플로우" 1-5: create, PENDING, manual confirm, webhook to callback_url, PAYMENT_COMPLETED.
    verify_webhook_signature = payment_server_verify()
    assert create(sandbox, callback_url=receiver.url("/api/orders/payment/webhook/v2/tx_1001"))[0] == 200
    assert listing(sandbox)["payments"]["pay_tx_1001"]["status"] == "PENDING"
    assert confirm(sandbox, "pay_tx_1001")[0] == 200

    request = wait_for(lambda: receiver.requests[:1])[0]
    assert request.headers["X-Payment-Event"] == "payment.completed"
    assert request.headers["Content-Type"] == "application/json"
    assert verify_webhook_signature(request.body, request.headers["X-Payment-Signature"], SECRET) is True
    assert verify_webhook_signature(request.body, request.headers["X-Payment-Signature"], "other") is False
    payload = json.loads(request.body)
    assert (payload["order_id"], payload["user_id"], payload["amount"]) == (123, 1, 1000)  # integers, as sent
    assert (payload["tx_id"], payload["payment_id"]) == ("tx_1001", "pay_tx_1001")
    assert (payload["event"], payload["status"]) == ("payment.completed", "PAYMENT_COMPLETED")
    assert wait_for(lambda: listing(sandbox)["payments"]["pay_tx_1001"]["status"] == "PAYMENT_COMPLETED")


def test_webhook_security_secret_from_payment_webhook_secret(start: Any, receiver: Receiver) -> None:
    # README "### 환경 변수 (.env)": PAYMENT_WEBHOOK_SECRET=... (paysandbox's WEBHOOK_SECRET alias).
    sandbox = start(WEBHOOK_SECRET="", PAYMENT_WEBHOOK_SECRET="your_webhook_secret_key")
    assert create(sandbox, callback_url=receiver.url())[0] == 200
    assert confirm(sandbox, "pay_tx_1001")[0] == 200
    request = wait_for(lambda: receiver.requests[:1])[0]
    signature = request.headers["X-Payment-Signature"]
    assert payment_server_verify()(request.body, signature, "your_webhook_secret_key") is True


# ------------------------------------------------------------------ 개발 노트


def test_dev_notes_idempotency_same_tx_id_returns_the_existing_payment(sandbox: Sandbox) -> None:
    # README "## 📝 개발 노트": "멱등성: 동일한 tx_id로 재요청 시 기존 결제 정보 반환".
    first = create(sandbox)
    assert create(sandbox) == first
    # A retry whose order_id differs only in its JSON type is the same payment, echoed as first sent.
    assert create(sandbox, order_id="123") == first
    assert listing(sandbox)["payments"]["pay_tx_1001"]["order_id"] == 123
    assert listing(sandbox)["pending_count"] == 1


def test_dev_notes_payment_completes_even_when_the_webhook_fails(sandbox: Sandbox) -> None:
    # README "## 📝 개발 노트": "웹훅 전송 실패 시에도 결제는 완료 처리됨". The example's own
    # callback_url (https://ops/...) resolves nowhere: the webhook fails, the payment is completed.
    assert create(sandbox)[0] == 200
    status, body = confirm(sandbox, "pay_tx_1001")
    assert (status, body["status"]) == (200, "PAYMENT_COMPLETED")
    status, view = sandbox.request("GET", "/api/payments/pay_tx_1001")
    assert view["status"] == "PAYMENT_COMPLETED"
    assert wait_for(lambda: sandbox.request("GET", "/api/payments/pay_tx_1001")[1]["webhook_attempts"] >= 1)
    assert sandbox.request("GET", "/api/payments/pay_tx_1001")[1]["webhook_status"] in ("retrying", "failed")


# ------------------------------------------------------------------ 관리 콘솔 (streamlit_app2.py), via the API


def test_console_create_list_by_status_with_counts_and_one_click_confirm(sandbox: Sandbox) -> None:
    # README "### streamlit_app2.py (관리 콘솔)" and "## 🔍 관리 콘솔 기능": 새 결제 요청 (create from
    # the sidebar), 결제 현황: 대기 중/완료/실패 상태별 목록 (lists by status with counts), 원클릭 완료
    # (confirm a pending payment in one click); 인증 토큰: SERVICE_AUTH_TOKEN.
    for n, order_id in ((1001, 123), (1002, "A-1002"), (1003, 125)):
        status, _ = create(sandbox, tx_id=f"tx_{n}", order_id=order_id, user_id=1)
        assert status == 200
    fail = sandbox.request("POST", "/api/v2/fail-payment", {"payment_id": "pay_tx_1003"}, OPERATOR)
    assert fail[0] == 200

    everything = listing(sandbox)
    by_status = {
        name: [p for p in everything["payments"].values() if p["status"] == v2]
        for name, v2 in (("pending", "PENDING"), ("completed", "PAYMENT_COMPLETED"), ("failed", "PAYMENT_FAILED"))
    }
    assert {k: len(v) for k, v in by_status.items()} == {"pending": 2, "completed": 0, "failed": 1}
    assert (everything["pending_count"], everything["completed_count"], everything["failed_count"]) == (2, 0, 1)
    assert [p["order_id"] for p in by_status["pending"]] == ["A-1002", 123]  # newest first, types kept
    assert list(listing(sandbox, "?status=pending")["payments"]) == ["pay_tx_1002", "pay_tx_1001"]

    # One click on the first pending row.
    status, body = confirm(sandbox, by_status["pending"][-1]["payment_id"])
    assert (status, body["status"]) == (200, "PAYMENT_COMPLETED")
    after = listing(sandbox)
    assert (after["pending_count"], after["completed_count"], after["failed_count"]) == (1, 1, 1)
    assert list(listing(sandbox, "?status=completed")["payments"]) == ["pay_tx_1001"]
    # The console's token setting is the operator token; without it the lists are closed.
    assert sandbox.request("GET", "/api/v2/pending-payments")[0] == 401
    assert TOKEN in OPERATOR["Authorization"]
