"""Merchant-supplied text is shown as text, never markup, in the checkout and the console
(a regression guard from the adversarial pass: XSS payloads in every field were inert).

The ``page`` fixture also fails a test on any Content-Security-Policy violation, which an
injected inline handler would cause."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from sandbox.gateway import Gateway
from tests.support import invoice_body, v2_body

pytestmark = pytest.mark.browser

MARKUP_REFERENCE = '<img src=x onerror="window.__xss=1"><i>ref</i>'
MARKUP_TX_ID = "<i>tx-xss<i>"  # tx_id allows no '/' or whitespace; still markup if unescaped


def _post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def test_checkout_shows_a_markup_reference_as_text(gateway: Gateway, page: Any) -> None:
    created = _post_json(f"{gateway.url}/api/create-invoice", invoice_body(reference=MARKUP_REFERENCE))
    page.goto(created["pageUrl"])
    expect(page.get_by_text(MARKUP_REFERENCE, exact=False)).to_be_visible()
    assert page.locator("main img, main i").count() == 0
    assert page.evaluate("window.__xss") is None


def test_console_shows_a_markup_payment_id_as_text(gateway: Gateway, page: Any) -> None:
    created = _post_json(f"{gateway.url}/api/v2/payments", v2_body(tx_id=MARKUP_TX_ID))
    page.goto(f"{gateway.url}/console")
    page.get_by_label("Operator token", exact=True).fill("test-operator-token")
    page.get_by_role("button", name="Save", exact=True).click()
    row = page.locator(f'#payments tbody tr[data-payment-id="{created["payment_id"]}"]')
    expect(row).to_contain_text(created["payment_id"])
    assert row.locator("i").count() == 0
    assert page.evaluate("window.__xss") is None
