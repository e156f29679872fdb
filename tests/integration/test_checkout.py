"""The hosted checkout handler under moto: every catalogue row, every state's page, CSRF,
form errors, the code step, expiry, headers, and that no card data reaches logs or the table."""

from __future__ import annotations

import base64
import io
import logging
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

import boto3
import pytest

from paysandbox import cards, checkout, expiry, otp, payment_display, payments
from paysandbox.cards import Outcome
from paysandbox.repository import payments as store
from paysandbox.settings import get_settings
from sandbox.apigw import LambdaContext, proxy_event
from tests.support import Api, invoice_body, load_handler, terminal_transitions, v2_body
from tests.support import dynamodb_requests as recorded_requests

FORM = "application/x-www-form-urlencoded"


@dataclass
class Page:
    status: int
    html: str
    headers: dict[str, str]

    def field(self, name: str) -> str:
        found = re.search(rf'name="{name}" value="([^"]*)"', self.html)
        assert found, f"no {name} field"
        return found.group(1)

    @property
    def code(self) -> str | None:
        found = re.search(r'data-testid="sandbox-otp">(\d{6})<', self.html)
        return found.group(1) if found else None


class Customer:
    """One browser's worth of requests to the checkout handler: keeps its cookies."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def _call(self, method: str, path: str, resource: str, payment_id: str, body: str | None = None, **kw: Any) -> Page:
        headers = dict(kw.pop("headers", {}) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        event = proxy_event(
            method, path, resource=resource, path_parameters={"payment_id": payment_id}, headers=headers, body=body
        )
        if kw.get("base64") and event["body"] is not None:
            event["body"] = base64.b64encode(event["body"].encode()).decode()
            event["isBase64Encoded"] = True
        response = load_handler("checkout").lambda_handler(event, LambdaContext(function_name="checkout"))
        out = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            out[name] = values[-1] if name.lower() != "set-cookie" else values
        for cookie in out.get("Set-Cookie", []) if isinstance(out.get("Set-Cookie"), list) else []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Page(response["statusCode"], response.get("body") or "", out)

    def get(self, payment_id: str) -> Page:
        return self._call("GET", f"/checkout/{payment_id}", "/checkout/{payment_id}", payment_id)

    def post_card(self, payment_id: str, fields: dict[str, str], **kw: Any) -> Page:
        headers = {"Content-Type": FORM, **kw.pop("headers", {})}
        path = f"/checkout/{payment_id}"
        return self._call("POST", path, "/checkout/{payment_id}", payment_id, urlencode(fields), headers=headers, **kw)

    def post_otp(self, payment_id: str, fields: dict[str, str]) -> Page:
        path = f"/checkout/{payment_id}/otp"
        body = urlencode(fields)
        return self._call("POST", path, "/checkout/{payment_id}/otp", payment_id, body, headers={"Content-Type": FORM})

    def pay(self, payment_id: str, number: str, email: str = "", cvv: str = "123") -> Page:
        """Open the card page, submit it, follow the redirect: the page that follows."""
        token = self.get(payment_id).field("csrf_token")
        fields = {"email": email, "card_number": number, "expiry": "12/30", "cvv": cvv, "csrf_token": token}
        posted = self.post_card(payment_id, fields)
        assert posted.status == 303, posted.html
        assert posted.headers["Location"] == f"/checkout/{payment_id}"
        return self.get(payment_id)

    def enter_code(self, payment_id: str, code: str) -> Page:
        token = self.get(payment_id).field("csrf_token")
        posted = self.post_otp(payment_id, {"otp": code, "csrf_token": token})
        assert posted.status == 303, posted.html
        return self.get(payment_id)


def _create(merchant: Api, **overrides: Any) -> str:
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body(**overrides))
    assert status == 200
    return str(body["payment_id"])


def _item(payment_id: str) -> dict[str, Any]:
    item = store.get(payment_id)
    assert item is not None
    return item


def _card_fields(payment_id: str, **overrides: str) -> dict[str, str]:
    fields = {
        "email": "",
        "card_number": "4242 4242 4242 4242",
        "expiry": "12/30",
        "cvv": "123",
        "csrf_token": checkout.csrf_token(payment_id, checkout.CARD_FORM),
    }
    fields.update(overrides)
    return fields


# ------------------------------------------------------------------ pages


def test_card_page_shows_the_payment_the_labels_and_the_security_headers(merchant: Api) -> None:
    payment_id = _create(merchant, amount=1_234_567, currency="usd", reference="order-<1001>")
    page = Customer().get(payment_id)
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "12,345.67" in page.html and "USD" in page.html
    assert "order-&lt;1001&gt;" in page.html  # escaped, never raw markup
    for label in ("Email", "Card number", "Expiry (MM/YY)", "CVV"):
        assert re.search(rf"<label for=\"\w+\">{re.escape(label)}</label>", page.html), label
    assert '<button type="submit">Pay</button>' in page.html
    for card in cards.CATALOGUE:  # the help text is the catalogue
        assert card.display in page.html

    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'<script nonce="{nonce.group(1)}">' in page.html
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert nonce.group(1) not in Customer().get(payment_id).headers["Content-Security-Policy"]  # fresh per response


def test_unknown_payment_gets_a_404_page_with_headers(aws: None) -> None:
    page = Customer().get("inv_does_not_exist")
    assert page.status == 404
    assert "Payment not found" in page.html
    assert page.headers["X-Frame-Options"] == "DENY"
    posted = Customer().post_card("inv_does_not_exist", _card_fields("inv_does_not_exist"))
    assert posted.status == 404


# ------------------------------------------------------------------ the catalogue


@pytest.mark.parametrize("card", cards.CATALOGUE, ids=lambda c: c.number)
def test_every_catalogue_card_ends_as_the_spec_says(merchant: Api, card: cards.Card) -> None:
    payment_id = _create(merchant)
    customer = Customer()
    page = customer.pay(payment_id, card.display)
    if card.outcome.needs_otp:
        assert _item(payment_id)["status"] == "waiting_for_otp"
        assert "One-time code" in page.html and '<button type="submit">Confirm</button>' in page.html
        assert page.code is not None
        page = customer.enter_code(payment_id, page.code)
    item = _item(payment_id)
    assert item["card_mask"] == cards.mask(card.number)
    assert "otp_hash" not in item
    if card.outcome in (Outcome.PAID, Outcome.OTP_THEN_PAID):
        assert item["status"] == "paid" and item["paid_at"]
        assert "Payment successful" in page.html
        assert f"Paid with card **** {card.number[-4:]}" in page.html
    else:
        assert item["status"] == "failed"
        assert item["decline_code"] == card.decline_code
        assert "Payment declined" in page.html
        assert cards.decline_reason(card.decline_code).replace("'", "&#x27;") in page.html
    assert item["webhook_status"] == "pending"  # a terminal transition: the webhook sender picks it up
    assert "due_pk" not in item


def test_any_other_luhn_valid_card_is_declined_for_insufficient_funds(merchant: Api) -> None:
    payment_id = _create(merchant)
    page = Customer().pay(payment_id, "5555 5555 5555 4444")
    assert "Payment declined" in page.html and "insufficient funds" in page.html
    assert _item(payment_id)["decline_code"] == "insufficient_funds"


def test_success_page_links_back_to_the_merchant_with_id_and_status(merchant: Api) -> None:
    payment_id = _create(merchant, redirect_url="https://shop.example.com/done?order=7&status=stale")
    page = Customer().pay(payment_id, "4242424242424242")
    link = re.search(r'<a class="button" href="([^"]+)">Return to merchant</a>', page.html)
    assert link
    expected = f"https://shop.example.com/done?order=7&amp;payment_id={payment_id}&amp;status=paid"
    assert link.group(1) == expected


@pytest.mark.parametrize("order_id", ["order-1001", 123], ids=["string", "integer"])
def test_v2_payment_has_a_checkout_page_showing_the_order_id(merchant: Api, order_id: str | int) -> None:
    status, created, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id="tx-checkout", order_id=order_id))
    assert status == 200
    payment_id = created["payment_id"]
    link = created["checkout_url"].rsplit("/checkout/", 1)[1]
    assert "tx-checkout" not in link  # nobody who only knows the tx_id can open the checkout
    customer = Customer()
    assert f">{order_id}<" in customer.get(link).html
    page = customer.pay(link, "4242424242424242")
    assert "Payment successful" in page.html
    assert "Return to merchant" not in page.html  # v2 payments have no redirect_url
    _, view, _ = merchant.call("GET", f"/api/payments/{payment_id}")
    assert view["status"] == "PAYMENT_COMPLETED" and view["card_mask"] == "**** 4242"


def test_checkout_link_of_a_tx_id_with_url_special_characters_works(merchant: Api) -> None:
    _, created, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id="a?b#c"))
    encoded = created["checkout_url"].rsplit("/", 1)[1]
    assert encoded == quote(encoded, safe="")  # one path segment, nothing to escape
    # API Gateway hands over the raw path and the decoded path parameter.
    page = Customer()._call("GET", f"/checkout/{encoded}", "/checkout/{payment_id}", unquote(encoded))
    assert page.status == 200
    assert "Card number" in page.html


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("card_number", "4242 4242 4242 4241"),  # Luhn-invalid
        ("card_number", "4242"),
        ("card_number", "4242-abcd-4242-4242"),
        ("card_number", ""),
        ("expiry", "13/30"),
        ("expiry", "1230"),
        ("expiry", "12/2030"),
        ("cvv", "12"),
        ("cvv", "12345"),
        ("cvv", "abc"),
        ("email", "not-an-email"),
    ],
)
def test_malformed_input_is_a_form_error_next_to_its_field_and_changes_nothing(
    merchant: Api, field: str, value: str
) -> None:
    payment_id = _create(merchant)
    before = _item(payment_id)
    page = Customer().post_card(payment_id, _card_fields(payment_id, **{field: value}))
    assert page.status == 422
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*{field}-error', page.html)
    assert re.search(rf'<p class="error" id="{field}-error" role="alert">', page.html)
    assert _item(payment_id) == before
    # The card number and CVV typed are never echoed back into the page.
    for secret_field in ("card_number", "cvv"):
        tag = re.search(rf'<input id="{secret_field}"[^>]*>', page.html)
        assert tag and "value=" not in tag.group(0)
    assert "4242424242424241" not in page.html and "4242 4242 4242 4241" not in page.html


def test_form_body_base64_encoded_by_api_gateway_is_read(merchant: Api) -> None:
    payment_id = _create(merchant)
    page = Customer().post_card(payment_id, _card_fields(payment_id), base64=True)
    assert page.status == 303
    assert _item(payment_id)["status"] == "paid"


def test_non_form_content_type_is_refused(merchant: Api) -> None:
    payment_id = _create(merchant)
    page = Customer().post_card(payment_id, _card_fields(payment_id), headers={"Content-Type": "application/json"})
    assert page.status == 400
    assert _item(payment_id)["status"] == "pending"


@pytest.mark.parametrize("token", ["", "forged", "other-payment", "otp-form"])
def test_post_without_a_valid_csrf_token_is_403_and_changes_nothing(merchant: Api, token: str) -> None:
    payment_id = _create(merchant)
    other_id = _create(merchant, reference="another")
    tokens = {
        "": "",
        "forged": "A" * 43,
        "other-payment": checkout.csrf_token(other_id, checkout.CARD_FORM),
        "otp-form": checkout.csrf_token(payment_id, checkout.OTP_FORM),
    }
    fields = _card_fields(payment_id, csrf_token=tokens[token])
    if not token:
        del fields["csrf_token"]
    page = Customer().post_card(payment_id, fields)
    assert page.status == 403
    assert page.headers["Content-Security-Policy"]
    assert _item(payment_id)["status"] == "pending"


# ------------------------------------------------------------------ code step


def _waiting(merchant: Api, customer: Customer, **overrides: Any) -> tuple[str, str]:
    payment_id = _create(merchant, **overrides)
    page = customer.pay(payment_id, "4000 0000 0000 3220")
    assert page.code
    return payment_id, page.code


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_three_wrong_codes_fail_the_payment(merchant: Api) -> None:
    customer = Customer()
    payment_id, code = _waiting(merchant, customer)
    page = customer.enter_code(payment_id, _wrong(code))
    assert "2 attempts left" in page.html and 'role="alert"' in page.html
    page = customer.enter_code(payment_id, _wrong(code))
    assert "1 attempt left" in page.html
    page = customer.enter_code(payment_id, _wrong(code))
    assert "Payment declined" in page.html
    assert "entered incorrectly too many times" in page.html
    item = _item(payment_id)
    assert (item["status"], item["decline_code"], item["otp_attempts"]) == ("failed", "authentication_failed", 3)
    # The right code is useless now.
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    assert customer.post_otp(payment_id, {"otp": code, "csrf_token": token}).status == 303
    assert _item(payment_id)["status"] == "failed"


def test_right_code_after_two_wrong_ones_pays_and_malformed_codes_do_not_count(merchant: Api) -> None:
    customer = Customer()
    payment_id, code = _waiting(merchant, customer)
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    malformed = customer.post_otp(payment_id, {"otp": "12ab", "csrf_token": token})
    assert malformed.status == 422 and 'aria-invalid="true"' in malformed.html
    customer.enter_code(payment_id, _wrong(code))
    customer.enter_code(payment_id, _wrong(code))
    assert _item(payment_id)["otp_attempts"] == 2
    assert "Payment successful" in customer.enter_code(payment_id, code).html


def test_code_post_needs_the_code_forms_csrf_token(merchant: Api) -> None:
    customer = Customer()
    payment_id, code = _waiting(merchant, customer)
    card_token = checkout.csrf_token(payment_id, checkout.CARD_FORM)
    assert customer.post_otp(payment_id, {"otp": code, "csrf_token": card_token}).status == 403
    assert _item(payment_id)["status"] == "waiting_for_otp"


def test_code_is_shown_only_to_the_browser_that_entered_the_card_and_only_while_enabled(
    merchant: Api, settings_env: pytest.MonkeyPatch
) -> None:
    customer = Customer()
    payment_id, _ = _waiting(merchant, customer)
    assert Customer().get(payment_id).code is None  # another browser: no cookie, no code
    settings_env.setenv("SANDBOX_SHOW_OTP", "false")
    get_settings.cache_clear()
    hidden = Customer()
    other_id = _create(merchant, reference="hidden")
    page = hidden.pay(other_id, "4444 4444 4444 4444")
    assert page.code is None and 'data-testid="sandbox-otp"' not in page.html
    assert not hidden.cookies


def test_double_submitted_card_form_moves_the_payment_once(merchant: Api) -> None:
    customer = Customer()
    payment_id, _ = _waiting(merchant, customer)
    first_hash = _item(payment_id)["otp_hash"]
    again = customer.post_card(payment_id, _card_fields(payment_id, card_number="4000000000000002"))
    assert again.status == 303
    item = _item(payment_id)
    assert item["status"] == "waiting_for_otp" and item["otp_hash"] == first_hash and item["card_mask"] == "**** 3220"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("4444444444444444", "4242424242424242"),
        ("4242424242424242", "4000000000000002"),
        ("4000000000000002", "4444444444444444"),
    ],
)
def test_racing_card_posts_make_exactly_one_transition(merchant: Api, first: str, second: str) -> None:
    # Two browsers post cards for one payment. moto applies requests without DynamoDB's
    # per-item serialisation, so racing threads against it prove nothing either way; the
    # guarantee is the conditional write on `pending`, played here in the order DynamoDB
    # would serialise it: the second post's write arrives after the first one's.
    payment_id = _create(merchant)
    won = checkout.pay_by_card(payment_id, _card_fields(payment_id, card_number=first)).checkout.page
    lost = checkout.pay_by_card(payment_id, _card_fields(payment_id, card_number=second)).checkout.page
    # The loser is shown the winner's outcome, and the table holds the winner's card only.
    assert lost == won
    assert _item(payment_id)["card_mask"] == cards.mask(first)


# ------------------------------------------------------------------ expiry


def _expire_clock(payment_id: str) -> None:
    """Put expires_at in the past, as if the TTL ran out before the expirer did."""
    boto3.client("dynamodb").update_item(
        TableName="Payments",
        Key={"payment_id": {"S": payment_id}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )


def test_payment_past_its_expiry_shows_expired_and_refuses_a_card(merchant: Api) -> None:
    payment_id = _create(merchant)
    customer = Customer()
    token = customer.get(payment_id).field("csrf_token")
    _expire_clock(payment_id)
    page = customer.get(payment_id)
    assert "Payment expired" in page.html
    assert "status=expired" in page.html  # the return link already says expired
    posted = customer.post_card(payment_id, _card_fields(payment_id, csrf_token=token))
    assert posted.status == 303
    assert _item(payment_id)["status"] == "pending"  # unchanged; the expirer will move it
    assert "Payment expired" in customer.get(payment_id).html


def test_code_step_past_expiry_refuses_the_right_code(merchant: Api) -> None:
    customer = Customer()
    payment_id, code = _waiting(merchant, customer)
    _expire_clock(payment_id)
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    customer.post_otp(payment_id, {"otp": code, "csrf_token": token})
    assert _item(payment_id)["status"] == "waiting_for_otp"
    assert "Payment expired" in customer.get(payment_id).html


def test_expired_status_page(merchant: Api) -> None:
    payment_id = _create(merchant)
    _expire_clock(payment_id)

    assert expiry.expire_due(lambda: True).expired == 1
    assert "Payment expired" in Customer().get(payment_id).html


# ------------------------------------------------------------------ secrets stay secret


def _use_ses_sender(env: pytest.MonkeyPatch, sender: str) -> None:
    """Configure SES_SENDER and verify it in moto's SES, as a real account must."""
    env.setenv("SES_SENDER", sender)
    get_settings.cache_clear()
    boto3.client("ses").verify_email_identity(EmailAddress=sender)


def _standalone(secret: str, text: str) -> bool:
    """``secret`` as a value of its own, not digits inside a timestamp, float or hex id (those
    would make a random 6-digit code or a 4-digit CVV match by chance)."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text) is not None


def test_no_card_number_cvv_or_code_reaches_logs_or_the_table(
    merchant: Api,
    settings_env: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    stream_handler_output: io.StringIO,
) -> None:
    # Everything at DEBUG except botocore's wire log: that one prints request bodies, and the
    # e-mail carrying the code is one by design (it is off unless someone turns it on).
    settings_env.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    _use_ses_sender(settings_env, "codes@paysandbox.example")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="botocore")
    customer = Customer()
    payment_id = _create(merchant, customer_email="buyer@example.com")
    page = customer.pay(payment_id, "4444 4444 4444 4444", email="buyer@example.com", cvv="9731")
    code = page.code
    assert code
    assert "Payment successful" in customer.enter_code(payment_id, code).html

    captured = capfd.readouterr()
    output = captured.out + captured.err + caplog.text + stream_handler_output.getvalue()
    # The capture did see the checkout's structured logs (with their fields).
    assert re.search(rf'"message":"card step".*"payment_id":"{payment_id}"', output)
    assert '"card_mask":"**** 4444"' in output
    for secret in ("4444444444444444", "4444 4444 4444 4444", "9731", code):
        assert not _standalone(secret, output), secret
    item = _item(payment_id)
    stored = repr(item)
    for secret in ("4444444444444444", "9731", code):
        assert not _standalone(secret, stored), secret
    assert item["card_mask"] == "**** 4444"


def test_code_is_emailed_through_ses_when_a_sender_is_configured(
    merchant: Api, settings_env: pytest.MonkeyPatch
) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sender = "codes@paysandbox.example"
    _use_ses_sender(settings_env, sender)
    customer = Customer()
    payment_id = _create(merchant, reference="order-mail", customer_email="buyer@example.com")
    page = customer.pay(payment_id, "4444444444444444")
    assert "b***@example.com" in page.html

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
    assert len(sent) == 1
    message = sent[0]
    assert message.source == sender and message.destinations["ToAddresses"] == ["buyer@example.com"]
    emailed = re.search(r"one-time code for the payment of 125\.00 UAH \(order-mail\) is (\d{6})", message.body)
    assert emailed and emailed.group(1) == page.code
    assert "Payment successful" in customer.enter_code(payment_id, emailed.group(1)).html


def test_no_email_without_a_sender_or_without_an_address(merchant: Api, settings_env: pytest.MonkeyPatch) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    Customer().pay(_create(merchant), "4444444444444444", email="buyer@example.com")  # no SES_SENDER
    _use_ses_sender(settings_env, "codes@paysandbox.example")
    Customer().pay(_create(merchant, reference="no-mail"), "4444444444444444")  # no address
    assert ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages == []


def test_ses_failure_still_leaves_the_code_step_usable(merchant: Api, settings_env: pytest.MonkeyPatch) -> None:
    # The sender is NOT verified in moto, so SES refuses the message like the real service.
    settings_env.setenv("SES_SENDER", "unverified@paysandbox.example")
    get_settings.cache_clear()
    customer = Customer()
    payment_id = _create(merchant, customer_email="buyer@example.com")
    page = customer.pay(payment_id, "4444444444444444")
    assert page.code
    assert _item(payment_id)["otp_emails"] == 1  # the refused send was attempted (and counted)
    assert "Payment successful" in customer.enter_code(payment_id, page.code).html


def test_amount_formatting_follows_the_currency_minor_unit() -> None:
    assert payment_display.format_amount(12_500, "UAH") == "125.00 UAH"
    assert payment_display.format_amount(5, "EUR") == "0.05 EUR"
    assert payment_display.format_amount(1500, "JPY") == "1,500 JPY"
    assert payment_display.format_amount(1234, "KWD") == "1.234 KWD"


def test_an_unexpected_failure_is_a_500_page_that_logs_no_card_data(
    merchant: Api, monkeypatch: pytest.MonkeyPatch, stream_handler_output: io.StringIO
) -> None:
    payment_id = _create(merchant)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("card 4242424242424242 cvv 123")  # a message that must not be logged

    monkeypatch.setattr(checkout, "transition", broken)
    page = Customer().post_card(payment_id, _card_fields(payment_id))
    assert page.status == 500 and "Something went wrong" in page.html
    assert page.headers["X-Frame-Options"] == "DENY"
    logged = stream_handler_output.getvalue()
    assert "checkout request crashed" in logged and "RuntimeError" in logged
    assert "4242424242424242" not in logged


def test_a_new_code_replaces_the_old_one_without_resetting_attempts(merchant: Api) -> None:
    first_browser = Customer()
    payment_id, old_code = _waiting(merchant, first_browser)
    first_browser.enter_code(payment_id, _wrong(old_code))

    other_browser = Customer()  # e.g. the customer moved to their phone: no code shown there
    assert other_browser.get(payment_id).code is None
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    resent = other_browser.post_otp(payment_id, {"action": "resend", "csrf_token": token})
    assert resent.status == 303
    page = other_browser.get(payment_id)
    # The resend button skips the browser's check of the (empty) code field; the page says what it did.
    assert 'name="action" value="resend" formnovalidate>Send a new code</button>' in page.html
    assert "Here is your new code. Codes sent before it no longer work." in page.html
    new_code = page.code
    assert new_code
    assert first_browser.get(payment_id).code is None  # the old code is dead and no longer shown
    item = _item(payment_id)
    assert (item["status"], item["otp_attempts"], item["otp_resends"]) == ("waiting_for_otp", 1, 1)
    if new_code != old_code:  # 1 in 10^6 they coincide
        assert "1 attempt left" in other_browser.enter_code(payment_id, old_code).html
    assert "Payment successful" in other_browser.enter_code(payment_id, new_code).html


def test_new_codes_are_capped_and_need_the_csrf_token(merchant: Api) -> None:
    customer = Customer()
    payment_id, _ = _waiting(merchant, customer)
    assert customer.post_otp(payment_id, {"action": "resend", "csrf_token": "forged"}).status == 403
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    hashes = set()
    for _ in range(otp.MAX_RESENDS + 2):
        assert customer.post_otp(payment_id, {"action": "resend", "csrf_token": token}).status == 303
        hashes.add(_item(payment_id)["otp_hash"])
    assert _item(payment_id)["otp_resends"] == otp.MAX_RESENDS
    assert len(hashes) == otp.MAX_RESENDS
    assert "Send a new code" not in customer.get(payment_id).html


# ------------------------------------------------------------------ DynamoDB requests per post


@contextmanager
def dynamodb_requests() -> Iterator[Counter[str]]:
    """Every request the product's DynamoDB client makes in this block, by operation (filled
    in when the block ends); the test's own reads (``_item``) must stay outside it."""
    seen: Counter[str] = Counter()
    with recorded_requests() as requests:
        yield seen
    seen.update(r.operation for r in requests)


def test_each_page_reads_once_and_each_form_post_writes_once_or_twice(merchant: Api) -> None:
    payment_id = _create(merchant)
    customer = Customer()
    with dynamodb_requests() as card_page:
        token = customer.get(payment_id).field("csrf_token")
    fields = {"email": "", "card_number": "4444 4444 4444 4444", "expiry": "12/30", "cvv": "123", "csrf_token": token}
    with dynamodb_requests() as card_post:
        assert customer.post_card(payment_id, fields).status == 303
    with dynamodb_requests() as code_page:
        page = customer.get(payment_id)
    assert page.code
    with dynamodb_requests() as code_post:
        posted = customer.post_otp(payment_id, {"otp": page.code, "csrf_token": page.field("csrf_token")})
    assert posted.status == 303
    with dynamodb_requests() as result_page:
        assert "Payment successful" in customer.get(payment_id).html
    assert [card_page, card_post, code_page, code_post, result_page] == [
        {"GetItem": 1},
        {"UpdateItem": 1},
        {"GetItem": 1},
        {"UpdateItem": 2},  # the attempt is reserved (counted) before the code is compared, then paid
        {"GetItem": 1},
    ]
    assert terminal_transitions(payment_id) == ["paid"]


def test_a_card_that_pays_at_once_is_one_write(merchant: Api) -> None:
    payment_id = _create(merchant)
    with dynamodb_requests() as requests:
        assert Customer().post_card(payment_id, _card_fields(payment_id)).status == 303
    assert requests == {"UpdateItem": 1}
    assert _item(payment_id)["status"] == "paid"


def test_the_card_that_declines_after_its_code_takes_a_second_write_and_fails_once(merchant: Api) -> None:
    customer = Customer()
    payment_id = _create(merchant)
    code = customer.pay(payment_id, "4000 0084 0000 1629").code
    assert code
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    with dynamodb_requests() as requests:
        assert customer.post_otp(payment_id, {"otp": code, "csrf_token": token}).status == 303
    assert requests == {"UpdateItem": 2}  # the attempt reserved, then failed with the stored decline
    # The same right code posted again (a double submit) changes nothing.
    assert customer.post_otp(payment_id, {"otp": code, "csrf_token": token}).status == 303
    item = _item(payment_id)
    assert (item["status"], item["decline_code"], item["otp_attempts"]) == ("failed", "card_declined", 1)
    assert terminal_transitions(payment_id) == ["failed"]
    assert "Your card was declined." in customer.get(payment_id).html


def test_a_stale_card_post_cannot_change_a_payment_that_moved_on(merchant: Api) -> None:
    payment_id = _create(merchant)
    customer = Customer()
    token = customer.get(payment_id).field("csrf_token")  # the card page was open ...
    payments.fail(payment_id, "operator")  # ... when the operator declined the payment
    fields = _card_fields(payment_id, csrf_token=token)
    with dynamodb_requests() as requests:
        posted = customer.post_card(payment_id, fields)
    assert posted.status == 303
    assert requests == {"UpdateItem": 1}  # refused; the item it handed back decided the page
    item = _item(payment_id)
    assert (item["status"], item["decline_code"]) == ("failed", "declined_by_operator")
    assert "card_mask" not in item
    assert terminal_transitions(payment_id) == ["failed"]
    assert "Payment declined" in customer.get(payment_id).html
    # A form error on it now is no form to correct: the post just leads to the payment's page.
    invalid = customer.post_card(payment_id, {**fields, "cvv": "1"})
    assert (invalid.status, invalid.headers["Location"]) == (303, f"/checkout/{payment_id}")


@pytest.mark.parametrize("posted", ["right", "wrong", "malformed"])
def test_a_stale_code_post_cannot_change_a_payment_that_moved_on(merchant: Api, posted: str) -> None:
    customer = Customer()
    payment_id, code = _waiting(merchant, customer)
    payments.confirm(payment_id)  # the operator confirmed while the code page was open
    otp_value = {"right": code, "wrong": _wrong(code), "malformed": "12ab"}[posted]
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    answer = customer.post_otp(payment_id, {"otp": otp_value, "csrf_token": token})
    assert (answer.status, answer.headers["Location"]) == (303, f"/checkout/{payment_id}")
    item = _item(payment_id)
    assert (item["status"], item["otp_attempts"]) == ("paid", 0)  # not failed, no attempt counted
    assert terminal_transitions(payment_id) == ["paid"]
    assert "Payment successful" in customer.get(payment_id).html


def test_the_right_code_cannot_pay_once_the_attempts_are_used_up(merchant: Api) -> None:
    # Three wrong codes counted, but the payment not yet failed (the Lambda stopped between
    # the two writes): the right code must not pay it, the post finishes the failure instead.
    customer = Customer()
    payment_id, code = _waiting(merchant, customer)
    boto3.client("dynamodb").update_item(
        TableName="Payments",
        Key={"payment_id": {"S": payment_id}},
        UpdateExpression="SET otp_attempts = :used",
        ExpressionAttributeValues={":used": {"N": str(otp.MAX_ATTEMPTS)}},
    )
    assert "entered incorrectly too many times" in customer.enter_code(payment_id, code).html
    item = _item(payment_id)
    assert (item["status"], item["decline_code"]) == ("failed", "authentication_failed")
    assert terminal_transitions(payment_id) == ["failed"]


def test_a_replaced_code_is_a_wrong_code(merchant: Api) -> None:
    customer = Customer()
    payment_id, old_code = _waiting(merchant, customer)
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    assert customer.post_otp(payment_id, {"action": "resend", "csrf_token": token}).status == 303
    new_code = customer.get(payment_id).code
    while new_code == old_code:  # 1 in 10^6: ask for another
        assert customer.post_otp(payment_id, {"action": "resend", "csrf_token": token}).status == 303
        new_code = customer.get(payment_id).code
    assert new_code
    with dynamodb_requests() as requests:
        customer.post_otp(payment_id, {"otp": old_code, "csrf_token": token})
    assert requests == {"UpdateItem": 1}  # the attempt reserved; the code did not match its hash
    assert (_item(payment_id)["status"], _item(payment_id)["otp_attempts"]) == ("waiting_for_otp", 1)
    assert "Payment successful" in customer.enter_code(payment_id, new_code).html


def test_unknown_payment_is_404_whatever_the_token(aws: None) -> None:
    missing = "inv_does_not_exist"
    with dynamodb_requests() as requests:
        assert Customer().post_card(missing, _card_fields(missing)).status == 404
    assert requests == {"UpdateItem": 1}  # refused with no item: there is no such payment
    assert store.get(missing) is None  # and the refused update created none
    assert Customer().post_card(missing, _card_fields(missing, csrf_token="forged")).status == 404
    token = checkout.csrf_token(missing, checkout.OTP_FORM)
    assert Customer().post_otp(missing, {"otp": "123456", "csrf_token": token}).status == 404
    assert Customer().post_otp(missing, {"otp": "123456", "csrf_token": "forged"}).status == 404
    assert store.get(missing) is None
