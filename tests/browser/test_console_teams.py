"""The operator console with teams, in Chromium: the admin token gets a team
selector and sees the chosen team's payments only; a team key shows that team, no selector."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from harness.sandbox_process import TOKEN, Sandbox
from tests.support import v2_body

pytestmark = pytest.mark.browser


def test_admin_picks_a_team_and_a_team_key_sees_its_own(sandbox_factory: Any, browser: Browser) -> None:
    sandbox: Sandbox = sandbox_factory()
    status, shop = sandbox.request("POST", "/api/teams", {"team_id": "shop"}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 201
    key = {"Authorization": f"Bearer {shop['api_key']}"}
    assert sandbox.request("POST", "/api/v2/payments", v2_body(tx_id="default-only"))[0] == 200
    assert sandbox.request("POST", "/api/v2/payments", v2_body(tx_id="shop-only"), key)[0] == 200

    page = browser.new_page()
    page.goto(f"{sandbox.url}/console")
    page.get_by_label("Operator token").fill(TOKEN)
    page.get_by_role("button", name="Save").click()
    expect(page.locator('#payments tbody tr[data-payment-id="pay_default-only"]')).to_be_visible()
    page.get_by_label("Team").select_option("shop")
    expect(page.locator('#payments tbody tr[data-payment-id="pay_shop-only"]')).to_be_visible()
    expect(page.locator('#payments tbody tr[data-payment-id="pay_default-only"]')).to_have_count(0)
    expect(page.locator("#whsec")).to_have_value(shop["whsec"])

    page.get_by_label("Operator token").fill(shop["api_key"])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Team")).to_be_hidden()
    expect(page.locator('#payments tbody tr[data-payment-id="pay_shop-only"]')).to_be_visible()
    expect(page.locator('#payments tbody tr[data-payment-id="pay_default-only"]')).to_have_count(0)
    page.close()
