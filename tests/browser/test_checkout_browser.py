"""The hosted checkout in a real Chromium, served by the real handlers over HTTP."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from playwright.sync_api import expect

from paysandbox import cards
from sandbox.gateway import Gateway
from tests.browser.layout import layout_problems
from tests.support import invoice_body, v2_body

pytestmark = pytest.mark.browser

DECLINE_CARDS = [card for card in cards.CATALOGUE if card.decline_code]


def _post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def _invoice(gateway: Gateway, prefix: str = "", **overrides: Any) -> dict[str, Any]:
    return _post_json(f"{gateway.url}{prefix}/api/create-invoice", invoice_body(**overrides))


def _status(gateway: Gateway, payment_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{gateway.url}/api/payments/{payment_id}", timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def _fill_card(page: Any, number: str, email: str = "") -> None:
    if email:
        page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Card number", exact=True).fill(number)
    page.get_by_label("Expiry (MM/YY)", exact=True).fill("12/30")
    page.get_by_label("CVV", exact=True).fill("123")
    page.get_by_role("button", name="Pay", exact=True).click()


def _enter_code(page: Any, code: str) -> None:
    page.get_by_label("One-time code", exact=True).fill(code)
    page.get_by_role("button", name="Confirm", exact=True).click()


@pytest.mark.parametrize("prefix", ["", "/dev"], ids=["root", "stage"])
def test_otp_card_code_from_the_page_then_paid_and_back_to_the_merchant(
    gateway: Gateway, page: Any, artifacts: Path, prefix: str
) -> None:
    """At the root and behind the stage (a deployed API's URL shape), every step keeps the prefix."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    created = _invoice(gateway, prefix, amount=249_900, reference="order-4444")
    assert created["pageUrl"] == f"{gateway.url}{prefix}/checkout/{created['payment_id']}"
    page.goto(created["pageUrl"])
    assert page.locator(".amount").inner_text() == "2,499.00 UAH"
    expect(page.get_by_text("order-4444")).to_be_visible()
    page.screenshot(path=str(artifacts / "checkout-card-page.png"), full_page=True)

    _fill_card(page, "4444 4444 4444 4444")
    code = page.get_by_test_id("sandbox-otp").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    assert _status(gateway, created["payment_id"])["status"] == "waiting_for_otp"
    page.screenshot(path=str(artifacts / "checkout-otp-page.png"), full_page=True)
    _enter_code(page, code)

    page.get_by_role("heading", name="Payment successful").wait_for()
    href = page.get_by_role("link", name="Return to merchant").get_attribute("href")
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://merchant.example.com/thanks"
    assert parse_qs(parts.query) == {"payment_id": [created["payment_id"]], "status": ["paid"]}
    view = _status(gateway, created["payment_id"])
    assert (view["status"], view["card_mask"]) == ("paid", "**** 4444")
    page.screenshot(path=str(artifacts / "checkout-paid-page.png"), full_page=True)

    page.reload()  # Post/Redirect/Get: a refresh shows the result again and posts nothing
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    # Every page, form post and redirect the browser followed stayed on the payment's checkout path.
    checkout = created["pageUrl"]
    assert requested and all(url in (checkout, f"{checkout}/otp") for url in requested), requested


def test_4242_is_paid_at_once(gateway: Gateway, page: Any) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])
    _fill_card(page, "4242424242424242")
    page.get_by_role("heading", name="Payment successful").wait_for()
    assert _status(gateway, created["payment_id"])["status"] == "paid"


@pytest.mark.parametrize("card", DECLINE_CARDS, ids=lambda c: f"{c.number}-{c.decline_code}")
def test_each_decline_card_shows_payment_declined(gateway: Gateway, page: Any, card: cards.Card) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])
    _fill_card(page, card.display)
    if card.outcome.needs_otp:
        _enter_code(page, page.get_by_test_id("sandbox-otp").inner_text())
    page.get_by_role("heading", name="Payment declined").wait_for()
    expect(page.get_by_text(cards.decline_reason(card.decline_code))).to_be_visible()
    view = _status(gateway, created["payment_id"])
    assert (view["status"], view["decline_code"]) == ("failed", card.decline_code)


def test_three_wrong_codes_fail_the_payment(gateway: Gateway, page: Any) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])
    _fill_card(page, "4000 0000 0000 3220")
    code = page.get_by_test_id("sandbox-otp").inner_text()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    _enter_code(page, wrong)
    expect(page.get_by_role("alert").filter(has_text="2 attempts left")).to_be_visible()
    _enter_code(page, wrong)
    expect(page.get_by_role("alert").filter(has_text="1 attempt left")).to_be_visible()
    _enter_code(page, wrong)
    page.get_by_role("heading", name="Payment declined").wait_for()
    view = _status(gateway, created["payment_id"])
    assert (view["status"], view["decline_code"]) == ("failed", "authentication_failed")


def test_expired_payment_shows_payment_expired(gateway: Gateway, page: Any) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])  # the customer opened the page in time...
    boto3.client("dynamodb").update_item(  # ...and the payment's time ran out while they typed
        TableName="Payments",
        Key={"payment_id": {"S": created["payment_id"]}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )
    _fill_card(page, "4242424242424242")
    page.get_by_role("heading", name="Payment expired").wait_for()
    assert "status=expired" in (page.get_by_role("link", name="Return to merchant").get_attribute("href") or "")
    assert _status(gateway, created["payment_id"])["status"] == "pending"  # nothing was charged


def test_keyboard_only_checkout(gateway: Gateway, page: Any) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])
    order = []
    for text in ("buyer@example.com", "4444444444444444", "1230", "123"):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
        page.keyboard.type(text)
    assert order == ["email", "card_number", "expiry", "cvv"]
    assert page.get_by_label("Card number", exact=True).input_value() == "4444 4444 4444 4444"  # spaced as typed
    assert page.get_by_label("Expiry (MM/YY)", exact=True).input_value() == "12/30"
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "[document.activeElement.textContent, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Pay", "solid"]  # the focus is visible
    page.keyboard.press("Enter")

    code = page.get_by_test_id("sandbox-otp").inner_text()
    assert page.evaluate("document.activeElement.id") == "otp"  # the code field has the focus
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Payment successful").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Return to merchant"
    assert _status(gateway, created["payment_id"])["status"] == "paid"


def test_the_browser_names_each_wrong_field_before_sending_the_form(gateway: Gateway, page: Any) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.get_by_label("Card number", exact=True).fill("4242 4242")
    page.get_by_label("Expiry (MM/YY)", exact=True).fill("13/30")
    page.get_by_label("CVV", exact=True).fill("12")
    page.get_by_role("button", name="Pay", exact=True).click()

    for label, message in (
        ("Card number", "Enter a card number of 12 to 19 digits."),
        ("Expiry (MM/YY)", "Enter the expiry date as MM/YY, for example 12/30."),
        ("CVV", "Enter the 3 or 4 digit security code."),
    ):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        described = (field.get_attribute("aria-describedby") or "").split()
        assert page.locator(f"#{described[-1]}[role=alert]").inner_text() == message
    assert page.evaluate("document.activeElement.id") == "card_number"  # the first wrong field has the focus
    page.get_by_label("CVV", exact=True).fill("123")
    expect(page.get_by_label("CVV", exact=True)).not_to_have_attribute("aria-invalid", "true")  # fixed: cleared
    assert posts == []  # nothing was sent
    assert _status(gateway, created["payment_id"])["status"] == "pending"


def test_a_form_error_keeps_email_and_expiry_but_never_the_card_number(gateway: Gateway, page: Any) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])
    page.get_by_label("Email", exact=True).fill("buyer@example.com")
    number = page.get_by_label("Card number", exact=True)
    number.press_sequentially("4242424242424241")  # well formed, but not a valid card number
    expect(page.get_by_text("This card number doesn't look right.")).to_be_visible()  # client-side Luhn hint
    page.get_by_label("Expiry (MM/YY)", exact=True).fill("11/31")
    page.get_by_label("CVV", exact=True).fill("321")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Pay", exact=True).click()
    assert answer.value.status == 422  # the server's verdict, after the round trip

    expect(page.get_by_text("This card number is not valid")).to_be_visible()
    field = page.get_by_label("Card number", exact=True)
    assert field.get_attribute("aria-invalid") == "true"
    described = (field.get_attribute("aria-describedby") or "").split()
    assert any(page.locator(f"#{i}[role=alert]").count() for i in described)
    assert page.get_by_label("Email", exact=True).input_value() == "buyer@example.com"
    assert page.get_by_label("Expiry (MM/YY)", exact=True).input_value() == "11/31"
    assert page.get_by_label("Card number", exact=True).input_value() == ""  # never echoed back
    assert page.get_by_label("CVV", exact=True).input_value() == ""
    html = page.content()
    assert "4242424242424241" not in html and "321" not in html
    assert _status(gateway, created["payment_id"])["status"] == "pending"


def _glyphs_needing_a_symbol_font(page: Any) -> list[str]:
    """Characters past General Punctuation (arrows, dingbats, emoji...) in the visible text."""
    text: str = page.evaluate("document.body.innerText")
    return sorted({ch for ch in text if ord(ch) >= 0x2190})


def test_cancel_link_amount_paid_and_drawn_icons(gateway: Gateway, page: Any) -> None:
    created = _invoice(gateway, amount=12_500)
    page.goto(created["pageUrl"])
    assert page.locator(".summary .label").inner_text() == "Amount due"
    cancel = page.get_by_role("link", name="Cancel and return to merchant")
    parts = urlsplit(cancel.get_attribute("href") or "")
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://merchant.example.com/thanks"
    assert parse_qs(parts.query) == {"payment_id": [created["payment_id"]], "status": ["pending"]}
    assert _glyphs_needing_a_symbol_font(page) == []

    _fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("heading", name="Payment successful").wait_for()
    assert page.locator(".summary .label").inner_text() == "Amount paid"
    assert page.locator(".icon svg").count() == 1 and page.locator(".icon").inner_text() == ""
    assert _glyphs_needing_a_symbol_font(page) == []
    assert page.get_by_role("link", name="Cancel and return to merchant").count() == 0

    declined = _invoice(gateway)
    page.goto(declined["pageUrl"])
    _fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("heading", name="Payment declined").wait_for()
    assert page.locator(".summary .label").inner_text() == "Amount"
    assert page.locator(".icon svg").count() == 1 and _glyphs_needing_a_symbol_font(page) == []


def test_v2_card_page_has_no_cancel_link_without_a_redirect_url(gateway: Gateway, page: Any) -> None:
    created = _post_json(f"{gateway.url}/api/v2/payments", v2_body(tx_id="tx-no-redirect"))
    page.goto(created["checkout_url"])
    expect(page.get_by_label("Card number", exact=True)).to_be_visible()
    assert page.get_by_role("link", name="Cancel and return to merchant").count() == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_every_checkout_page_fits_the_screen(gateway: Gateway, browser: Any, artifacts: Path, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        created = _invoice(gateway, reference="order-with-a-rather-long-reference-1234567890", amount=123_456_789_00)
        page.goto(created["pageUrl"])
        page.get_by_role("button", name="Pay", exact=True).click()  # empty form: every error shown
        expect(page.get_by_text("Enter your card number.")).to_be_visible()
        page.screenshot(path=str(artifacts / f"checkout-card-{width}.png"), full_page=True)
        assert layout_problems(page) == [], "card"
        _fill_card(page, "4444 4444 4444 4444", email="buyer@example.com")
        page.get_by_role("button", name="Send a new code").click()
        expect(page.locator(".notice")).to_be_visible()
        page.screenshot(path=str(artifacts / f"checkout-otp-{width}.png"), full_page=True)
        assert layout_problems(page) == [], "otp"
        _enter_code(page, page.get_by_test_id("sandbox-otp").inner_text())
        page.get_by_role("heading", name="Payment successful").wait_for()
        page.screenshot(path=str(artifacts / f"checkout-paid-{width}.png"), full_page=True)
        assert layout_problems(page) == [], "paid"
    finally:
        context.close()


def test_v2_payment_checkout_on_a_phone_screen(gateway: Gateway, browser: Any, artifacts: Path) -> None:
    created = _post_json(f"{gateway.url}/api/v2/payments", v2_body(tx_id="tx-phone"))
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(created["checkout_url"])
        expect(page.get_by_text("order-1001")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
        page.screenshot(path=str(artifacts / "checkout-card-page-mobile.png"), full_page=True)
        _fill_card(page, "4242424242424242")
        page.get_by_role("heading", name="Payment successful").wait_for()
        assert page.get_by_role("link", name="Return to merchant").count() == 0
    finally:
        context.close()
    assert _status(gateway, created["payment_id"])["status"] == "PAYMENT_COMPLETED"


def test_a_second_device_can_ask_for_a_new_code(gateway: Gateway, page: Any, browser: Any) -> None:
    created = _invoice(gateway)
    page.goto(created["pageUrl"])
    _fill_card(page, "4444 4444 4444 4444")
    old_code = page.get_by_test_id("sandbox-otp").inner_text()

    phone = browser.new_context()
    try:
        other = phone.new_page()
        other.goto(created["pageUrl"])
        assert other.get_by_test_id("sandbox-otp").count() == 0  # the code was shown to the first device only
        other.get_by_role("button", name="Send a new code").click()
        expect(other.get_by_role("status").filter(has_text="Here is your new code.")).to_contain_text(
            "Codes sent before it no longer work."
        )
        new_code = other.get_by_test_id("sandbox-otp").inner_text()
        assert re.fullmatch(r"\d{6}", new_code)
        other.get_by_label("One-time code", exact=True).fill(new_code)
        other.get_by_label("One-time code", exact=True).press("Enter")  # Enter confirms, never resends
        other.get_by_role("heading", name="Payment successful").wait_for()
    finally:
        phone.close()
    assert old_code  # shown on the first device before the new one replaced it
    assert _status(gateway, created["payment_id"])["status"] == "paid"
