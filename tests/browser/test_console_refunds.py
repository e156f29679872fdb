"""The console's refunds: an amount (default: what remains) and a Refund button on paid
payments, the refunds shown on the payment, the Refunded list and its count — in Chromium
against the real handlers behind the sandbox's API Gateway stand-in."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from sandbox.gateway import Gateway
from tests.support import v2_body

pytestmark = pytest.mark.browser
OPERATOR = {"Authorization": "Bearer test-operator-token"}


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def test_refund_part_then_the_rest_from_the_console(gateway: Gateway, page: Any) -> None:
    pid = _post(f"{gateway.url}/api/v2/payments", v2_body(tx_id="tx-console-refund"))["payment_id"]
    _post(f"{gateway.url}/api/v2/confirm-payment", {"payment_id": pid}, OPERATOR)
    page.goto(f"{gateway.url}/console")
    page.get_by_label("Operator token", exact=True).fill("test-operator-token")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Completed").click()

    amount = page.get_by_label(f"Refund amount for {pid}")
    expect(amount).to_have_value("49.90")  # the default: all of it, in major units
    amount.fill("10.00")
    page.locator(f'#payments tbody tr[data-payment-id="{pid}"]').get_by_role("button", name="Refund").click()
    expect(page.locator("#status")).to_contain_text(f"{pid}: refund of 10.00 UAH succeeded")
    expect(page.locator("#refunds li")).to_have_count(1)
    expect(page.locator("#refunds")).to_contain_text("1000 (minor units) succeeded")
    row = page.locator(f'#payments tbody tr[data-payment-id="{pid}"]')
    expect(row).to_contain_text("refunded 10.00 UAH")
    expect(page.get_by_label(f"Refund amount for {pid}")).to_have_value("39.90")  # what remains

    row.get_by_role("button", name="Refund").click()
    expect(page.locator("#refunds li")).to_have_count(2)
    expect(row).to_have_count(0)  # no longer in Completed
    expect(page.locator('[data-count="refunded"]')).to_have_text("1")
    page.get_by_role("button", name="Refunded").click()
    expect(page.locator(f'#payments tbody tr[data-payment-id="{pid}"]')).to_contain_text("refunded 49.90 UAH")
    expect(page.get_by_label(f"Refund amount for {pid}")).to_have_count(0)  # nothing left to refund
