"""State across restarts of the local sandbox: a clean stop and start loses nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import requests

from harness.receiver import Receiver, Reply
from harness.sandbox_process import TOKEN, Sandbox
from tests.support import invoice_body, v2_body, wait_for

OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


class Customer:
    """One browser on the hosted checkout, over real HTTP: keeps its cookies across restarts."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def page(self, payment_id: str) -> str:
        response = self.session.get(f"{self.base}/checkout/{payment_id}", timeout=15)
        assert response.status_code == 200, response.text
        return response.text

    def post(self, path: str, fields: dict[str, str]) -> None:
        response = self.session.post(f"{self.base}{path}", data=fields, allow_redirects=False, timeout=15)
        assert response.status_code == 303, response.text

    def enter_card(self, payment_id: str, number: str) -> str:
        """Submit the card form; the one-time code the next page shows."""
        token = _field(self.page(payment_id), "csrf_token")
        fields = {"email": "", "card_number": number, "expiry": "12/30", "cvv": "123", "csrf_token": token}
        self.post(f"/checkout/{payment_id}", fields)
        found = re.search(r'data-testid="sandbox-otp">(\d{6})<', self.page(payment_id))
        assert found, "no one-time code on the page"
        return found.group(1)

    def enter_code(self, payment_id: str, code: str) -> None:
        token = _field(self.page(payment_id), "csrf_token")
        self.post(f"/checkout/{payment_id}/otp", {"otp": code, "csrf_token": token})


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} field"
    return found.group(1)


def _attempts(sandbox: Sandbox, payment_id: str) -> list[dict[str, Any]]:
    status, body = sandbox.request("GET", f"/api/payments/{payment_id}/webhooks", headers=OPERATOR)
    assert status == 200, body
    return list(body["deliveries"])


def _status(sandbox: Sandbox, payment_id: str) -> str:
    status, body = sandbox.request("GET", f"/api/payments/{payment_id}")
    assert status == 200, body
    return str(body["status"])


def test_a_clean_stop_and_start_keeps_payments_half_way_checkouts_and_pending_retries(
    tmp_path: Path,
    receiver: Receiver,
    sandbox_factory: Any,
) -> None:
    state = tmp_path / "kept-state"
    env = {"SANDBOX_STATE_DIR": str(state), "WEBHOOK_RETRY_DELAYS": "2"}
    receiver.plan = lambda request, n: Reply(status=503)  # the merchant is down while the first run lasts

    # Given a run with a confirmed payment whose webhook failed (its retry waits on the queue)
    first: Sandbox = sandbox_factory(**env)
    status, created = first.request("POST", "/api/v2/payments", v2_body(callback_url=receiver.url("/v2")))
    assert status == 200, created
    confirmed_id = created["payment_id"]
    assert first.request("POST", "/api/v2/confirm-payment", {"payment_id": confirmed_id}, headers=OPERATOR)[0] == 200
    wait_for(lambda: [a for a in _attempts(first, confirmed_id) if a["outcome"] not in ("sending",)])
    assert [a["success"] for a in _attempts(first, confirmed_id)] == [False]

    # and a checkout stopped half-way: card entered, at the one-time-code step
    status, created = first.request("POST", "/api/create-invoice", invoice_body(webhook_url=receiver.url("/inv")))
    assert status == 200, created
    half_way_id = created["payment_id"]
    customer = Customer(first.url)
    code = customer.enter_card(half_way_id, "4444 4444 4444 4444")
    assert _status(first, half_way_id) == "waiting_for_otp"

    # When it stops cleanly (SIGTERM) and starts again on the same state directory
    assert first.stop() == 0
    assert json.loads((state / "state.json").read_text())["format"] == 1
    receiver.plan = lambda request, n: Reply(status=200)  # the merchant is back
    second: Sandbox = sandbox_factory(**env)
    assert "state restored" in second.output()

    # Then the retry that fell due while it was stopped is delivered
    delivered = wait_for(lambda: [a for a in _attempts(second, confirmed_id) if a["success"]])
    assert delivered[0]["attempt_number"] == 2
    assert [r.answered for r in receiver.requests if r.path == "/v2"] == [503, 200]

    # and the checkout continues where it stopped: the same code pays, and its webhook goes out
    customer.base = second.url
    customer.enter_code(half_way_id, code)
    assert _status(second, half_way_id) == "paid"
    wait_for(lambda: [r for r in receiver.requests if r.path == "/inv" and r.answered == 200])
    assert _status(second, confirmed_id) == "PAYMENT_COMPLETED"
    assert second.stop() == 0
