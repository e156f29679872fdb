"""The operator console in Chromium at the root and behind the stage, as a deployed API serves it.

A deployed REST API answers only under ``/{Stage}/``; a console that fetched ``/api/...`` from
the host's root would load there and then fail every call. The local sandbox serves the root
too, so the test also checks that every request the page made stayed under the prefix.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from harness.receiver import Receiver
from harness.sandbox_process import TOKEN, Sandbox
from tests.support import v2_body, wait_for

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("prefix", ["", "/dev"], ids=["root", "stage"])
def test_console_saves_token_lists_confirms_shows_deliveries_and_redelivers(
    sandbox_factory: Any,
    browser: Browser,
    receiver: Receiver,
    prefix: str,
) -> None:
    sandbox: Sandbox = sandbox_factory()
    tx_id = f"console-{prefix.strip('/') or 'root'}"
    status, created = sandbox.request(
        "POST", f"{prefix}/api/v2/payments", v2_body(tx_id=tx_id, callback_url=receiver.url("/ok"))
    )
    assert status == 200
    payment_id = created["payment_id"]
    assert created["checkout_url"].startswith(f"{sandbox.url}{prefix}/checkout/")  # the stage prefix is kept

    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{sandbox.url}{prefix}/console")
    page.get_by_label("Operator token").fill(TOKEN)
    page.get_by_role("button", name="Save").click()

    row = page.locator(f'#payments tbody tr[data-payment-id="{payment_id}"]')
    row.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("PAYMENT_COMPLETED")
    wait_for(lambda: len(receiver.to("/ok")) == 1)

    page.get_by_role("button", name="Completed").click()
    row.get_by_role("button", name="Deliveries").click()
    chains = page.locator("#chains .chain")
    expect(chains).to_have_count(1)
    expect(chains.first).to_contain_text("Delivered after 1 attempt")

    page.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Redelivery of {payment_id} queued")
    wait_for(lambda: len(receiver.to("/ok")) == 2)
    expect(chains).to_have_count(2)  # the console's auto-refresh reloads the open log
    expect(chains.nth(1)).to_contain_text("redelivery 1")
    page.close()

    api_calls = [url for url in requested if "/api/" in url]
    assert api_calls, requested
    assert all(url.startswith(f"{sandbox.url}{prefix}/api/") for url in api_calls), api_calls
    assert sandbox.stop() == 0
