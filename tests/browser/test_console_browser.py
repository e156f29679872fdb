"""The operator console in Chromium against ``python -m sandbox``: a failing-then-recovering
webhook as the operator sees it, search, major units, both payment flavours, and a layout
that fits a laptop (1280 px) and a phone (390 px) without sideways scrolling or overlap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from harness.receiver import Receiver
from harness.sandbox_process import TOKEN, Sandbox
from tests.browser.layout import layout_problems
from tests.support import invoice_body, v2_body, wait_for

pytestmark = pytest.mark.browser

WIDTHS = {"laptop": (1280, 900), "phone": (390, 844)}


def open_console(browser: Browser, sandbox: Sandbox, width: int, height: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(15_000)
    page.goto(f"{sandbox.url}/dev/console")
    page.get_by_label("Operator token").fill(TOKEN)
    page.get_by_role("button", name="Save").click()
    return page


def row_of(page: Page, payment_id: str) -> Any:
    return page.locator(f'#payments tbody tr[data-payment-id="{payment_id}"]')


def test_a_failing_then_recovering_webhook_shows_its_chain_payload_and_next_retry(
    sandbox_factory: Any,
    browser: Browser,
    receiver: Receiver,
    artifacts: Path,
) -> None:
    # Given a receiver that answers 500 once, then 200, and a retry 12 s after a failure (time
    # enough to look at the pending retry on a loaded machine)
    sandbox: Sandbox = sandbox_factory(WEBHOOK_RETRY_DELAYS="12")
    status, created = sandbox.request(
        "POST", "/api/v2/payments", v2_body(tx_id="tx-flaky", amount=249_900, callback_url=receiver.url("/flaky"))
    )
    assert status == 200
    payment_id = created["payment_id"]
    page = open_console(browser, sandbox, *WIDTHS["laptop"])
    row = row_of(page, payment_id)
    expect(row).to_contain_text("2,499.00 UAH")  # major units with the currency

    # When the operator confirms it and opens its deliveries
    row.get_by_role("button", name="Confirm").click()
    wait_for(lambda: len(receiver.to("/flaky")) == 1)
    page.get_by_role("button", name="Completed").click()
    row.get_by_role("button", name="Deliveries").click()

    # Then the chain says when the next attempt is due, and attempt 1 shows what was sent
    chain = page.locator("#chains .chain")
    expect(chain).to_have_count(1)
    expect(chain).to_contain_text("payment.completed · original delivery")
    expect(chain.locator(".chain-state")).to_contain_text("Attempt 2 is due at")
    first = chain.locator("details.attempt").first
    expect(first.locator("summary")).to_contain_text("HTTP 500")
    first.locator("summary").click()
    sent = json.loads(receiver.to("/flaky")[0].body)
    body = json.loads(first.locator("pre").first.inner_text())
    assert body == sent  # the request body exactly as the receiver got it
    headers = first.locator("pre").nth(1).inner_text()
    assert f"X-Signature: {receiver.to('/flaky')[0].headers['X-Signature']}" in headers
    assert "webhook-signature: v1," in headers
    expect(first.locator("dl")).to_contain_text("Next attempt")
    page.screenshot(path=str(artifacts / "console-retry-pending-1280.png"), full_page=True)
    assert layout_problems(page, "#side") == []

    # And once the retry succeeds the same chain shows it delivered, the first attempt still open
    expect(chain.locator(".chain-state")).to_contain_text("Delivered after 2 attempts", timeout=45_000)
    expect(chain.locator("details.attempt")).to_have_count(2)
    assert first.evaluate("d => d.open")  # auto-refresh keeps what the operator expanded

    # A redelivery is a visibly new chain
    page.get_by_role("button", name="Redeliver").click()
    expect(chain).to_have_count(2, timeout=30_000)
    expect(chain.nth(1)).to_contain_text("payment.completed · redelivery 1")
    expect(chain.nth(1).locator(".chain-state")).to_contain_text("Delivered after 1 attempt", timeout=30_000)
    page.screenshot(path=str(artifacts / "console-chains-1280.png"), full_page=True)
    assert layout_problems(page, "#side") == []

    page.set_viewport_size({"width": WIDTHS["phone"][0], "height": WIDTHS["phone"][1]})
    page.screenshot(path=str(artifacts / "console-chains-390.png"), full_page=True)
    assert layout_problems(page, "#side") == []
    page.close()
    assert sandbox.stop() == 0


@pytest.mark.parametrize("size", list(WIDTHS), ids=list(WIDTHS))
def test_search_new_payment_of_both_flavours_and_the_layout(
    sandbox_factory: Any,
    browser: Browser,
    receiver: Receiver,
    artifacts: Path,
    size: str,
) -> None:
    sandbox: Sandbox = sandbox_factory()
    page = open_console(browser, sandbox, *WIDTHS[size])
    new = page.locator("#new-payment")

    # An invoice from the form: the amount is typed in major units of its currency
    new.get_by_label("Invoice").check()
    new.get_by_label("Reference").fill("order-search-7")
    new.get_by_label("Currency").fill("JPY")
    new.get_by_label("Amount (JPY)").fill("1500")
    new.get_by_label("Webhook URL").fill(receiver.url("/ok"))
    new.get_by_label("Redirect URL").fill("https://merchant.example.com/thanks")
    new.get_by_role("button", name="Create payment").click()
    expect(page.locator("#new-status")).to_contain_text("Created inv_")
    invoice_id = page.locator("#new-status").inner_text().split()[1].rstrip(":")
    status, view = sandbox.request("GET", f"/api/payments/{invoice_id}")
    assert status == 200 and (view["amount"], view["currency"], view["reference"]) == (1500, "JPY", "order-search-7")

    # A v2 payment from the same form
    new.get_by_label("Payments v2").check()
    new.get_by_label("Transaction id (tx_id)").fill("tx-search-7")
    new.get_by_label("Order id").fill("order-7")
    new.get_by_label("User id").fill("user-7")
    new.get_by_label("Amount (UAH)").fill("49.90")
    new.get_by_role("button", name="Create payment").click()
    expect(page.locator("#new-status")).to_contain_text("Created pay_tx-search-7")
    status, view = sandbox.request("GET", "/api/payments/pay_tx-search-7")
    assert status == 200 and view["amount"] == 4990 and view["tx_id"] == "tx-search-7"

    # Too many decimals for the currency is refused in the page and creates nothing
    new.get_by_label("Transaction id (tx_id)").fill("tx-search-8")
    new.get_by_label("Amount (UAH)").fill("1.234")
    new.get_by_role("button", name="Create payment").click()
    expect(page.locator("#new-status")).to_contain_text("at most 2 decimals")
    assert sandbox.request("GET", "/api/payments/pay_tx-search-8")[0] == 404

    # Another merchant's payment, already settled, is found by search too
    status, other = sandbox.request("POST", "/api/create-invoice", invoice_body(reference="order-elsewhere"))
    assert status == 200
    sandbox.request(
        "POST", "/api/v2/fail-payment", {"payment_id": other["payment_id"]}, {"Authorization": f"Bearer {TOKEN}"}
    )
    rows = page.locator("#payments tbody tr")
    search = page.get_by_label("Search by payment id, reference or tx_id")
    search.fill("order-search-7")
    expect(rows).to_have_count(1)
    expect(row_of(page, invoice_id)).to_contain_text("1,500 JPY")
    search.fill("tx-search-7")
    expect(rows).to_have_count(1)
    expect(row_of(page, "pay_tx-search-7")).to_contain_text("49.90 UAH")
    search.fill("order-elsewhere")
    expect(row_of(page, other["payment_id"])).to_contain_text("failed")
    expect(rows).to_have_count(1)
    search.fill("nothing-like-this")
    expect(rows).to_have_count(0)
    expect(page.locator("#payments-empty")).to_contain_text("No payment among the newest")

    search.fill("")
    expect(rows).to_have_count(2)  # the pending list again
    row_of(page, "pay_tx-search-7").get_by_role("button", name="Deliveries").click()
    expect(page.locator("#deliveries-empty")).to_be_visible()
    width = WIDTHS[size][0]
    page.screenshot(path=str(artifacts / f"console-pending-{width}.png"), full_page=True)
    assert layout_problems(page, "#side") == []
    page.close()
    assert sandbox.stop() == 0


def test_with_auto_refresh_off_the_list_still_follows_actions_and_errors(
    sandbox_factory: Any,
    browser: Browser,
) -> None:
    sandbox: Sandbox = sandbox_factory()
    operator = {"Authorization": f"Bearer {TOKEN}"}
    for tx_id in ("tx-a", "tx-b"):
        assert sandbox.request("POST", "/api/v2/payments", v2_body(tx_id=tx_id))[0] == 200
    page = open_console(browser, sandbox, *WIDTHS["laptop"])
    page.get_by_label("Auto-refresh (every 2 s)").uncheck()
    rows = page.locator("#payments tbody tr")
    expect(rows).to_have_count(2)

    # An action: the confirmed payment leaves the pending list at once
    row_of(page, "pay_tx-a").get_by_role("button", name="Confirm").click()
    expect(rows).to_have_count(1)
    expect(page.locator('[data-count="completed"]')).to_have_text("1")

    # An error: someone else failed tx-b meanwhile; the refused confirm still refreshes the list
    sandbox.request("POST", "/api/v2/fail-payment", {"payment_id": "pay_tx-b"}, operator)
    row_of(page, "pay_tx-b").get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("Cannot confirm a payment that is failed")
    expect(rows).to_have_count(0)
    expect(page.locator('[data-count="failed"]')).to_have_text("1")
    page.close()
    assert sandbox.stop() == 0
