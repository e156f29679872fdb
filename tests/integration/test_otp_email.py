"""One-time codes by e-mail through moto's SES: only to the address the merchant
gave at creation, and a bounded number of times per payment.

An adversarial pass sent 18 e-mails to one victim from 3 anonymous payments, by typing the
victim's address into the public card form and asking for new codes. The card form's e-mail
field no longer chooses the recipient, and sends are counted on the payment.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from paysandbox import checkout, checkout_code, otp
from paysandbox.repository import payments as store
from tests.support import Api, invoice_body

SENDER = "codes@psp.example"
BUYER = "buyer@shop.example"
VICTIM = "victim@elsewhere.example"


@pytest.fixture
def ses(aws: None, settings_env: pytest.MonkeyPatch) -> Any:
    settings_env.setenv("SES_SENDER", SENDER)
    client = boto3.client("ses")
    client.verify_email_identity(EmailAddress=SENDER)
    return client


def _sent(ses: Any) -> int:
    return int(ses.get_send_quota()["SentLast24Hours"])


def _recipients() -> list[str]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
    return [address for message in backend.sent_messages for address in message.destinations["ToAddresses"]]


def _create(merchant: Api, **fields: Any) -> str:
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body(**fields))
    assert status == 200, body
    return str(body["payment_id"])


def _pay_with_4444(payment_id: str, email: str) -> checkout.CardResult:
    form = {
        "email": email,
        "card_number": "4444 4444 4444 4444",
        "expiry": "12/30",
        "cvv": "123",
        "csrf_token": checkout.csrf_token(payment_id, checkout.CARD_FORM),
    }
    result = checkout.pay_by_card(payment_id, form)
    assert result.checkout.page is checkout.Page.OTP
    return result


def test_the_checkout_function_mails_the_code_when_the_card_form_is_posted(merchant: Api, ses: Any) -> None:
    """Through the checkout handler, as a browser posts the card form: the function's own
    ses:SendEmail is what the test run's IAM check holds against its template grant."""
    payment_id = _create(merchant, customer_email=BUYER)
    form = {
        "email": BUYER,
        "card_number": "4444 4444 4444 4444",
        "expiry": "12/30",
        "cvv": "123",
        "csrf_token": checkout.csrf_token(payment_id, checkout.CARD_FORM),
    }
    status, _, _ = Api("checkout").call(
        "POST",
        f"/checkout/{payment_id}",
        raw_body=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        resource="/checkout/{payment_id}",
        path_parameters={"payment_id": payment_id},
    )
    assert status == 303
    assert _recipients() == [BUYER]


def test_the_code_goes_to_the_merchants_customer_email_not_the_forms(merchant: Api, ses: Any) -> None:
    payment_id = _create(merchant, customer_email=BUYER)
    _pay_with_4444(payment_id, email=VICTIM)
    assert _sent(ses) == 1
    assert _recipients() == [BUYER]
    item = store.get(payment_id)
    assert item is not None and item["customer_email"] == BUYER


def test_without_a_customer_email_from_the_merchant_nothing_is_sent(merchant: Api, ses: Any) -> None:
    payment_id = _create(merchant)
    result = _pay_with_4444(payment_id, email=VICTIM)
    assert result.code  # still shown on the page while SANDBOX_SHOW_OTP is on
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    checkout_code.resend_otp(payment_id, token)
    assert _sent(ses) == 0
    item = store.get(payment_id)
    assert item is not None and "customer_email" not in item


def test_sends_per_payment_are_capped_and_counted(merchant: Api, ses: Any) -> None:
    payment_id = _create(merchant, customer_email=BUYER)
    _pay_with_4444(payment_id, email="")
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    codes = set()
    for _ in range(otp.MAX_RESENDS):
        resent = checkout_code.resend_otp(payment_id, token)
        assert resent.code  # a new code each time, shown on the page
        codes.add(resent.code)
    assert _sent(ses) == otp.MAX_EMAILS == 3
    assert _recipients() == [BUYER] * otp.MAX_EMAILS
    item = store.get(payment_id)
    assert item is not None
    assert (item["otp_emails"], item["otp_resends"]) == (otp.MAX_EMAILS, otp.MAX_RESENDS)
    assert len(codes) > 1


def test_without_the_code_on_the_page_no_new_code_is_made_once_no_e_mail_can_carry_it(
    merchant: Api, ses: Any, settings_env: pytest.MonkeyPatch
) -> None:
    """With SANDBOX_SHOW_OTP off the e-mail is the only way to the code: a resend past the
    e-mail cap would replace the code with one nobody can read, so it is not offered."""
    settings_env.setenv("SANDBOX_SHOW_OTP", "false")
    payment_id = _create(merchant, customer_email=BUYER)
    _pay_with_4444(payment_id, email="")
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)
    for _ in range(otp.MAX_EMAILS - 1):
        assert checkout_code.resend_otp(payment_id, token).code
    mailed_hash = (store.get(payment_id) or {})["otp_hash"]
    assert not checkout.load(payment_id).can_resend  # the page shows no "Send a new code"
    assert checkout_code.resend_otp(payment_id, token).code is None
    item = store.get(payment_id)
    assert item is not None
    assert (item["otp_hash"], item["otp_emails"]) == (mailed_hash, otp.MAX_EMAILS)
    assert _sent(ses) == otp.MAX_EMAILS
