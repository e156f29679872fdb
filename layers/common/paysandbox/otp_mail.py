"""The one-time code by e-mail (docs/checkout.md): counted, capped, never failing the payment."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from paysandbox import otp
from paysandbox.models import Payment
from paysandbox.payment_display import format_amount, reference_of
from paysandbox.repository import ConditionFailed
from paysandbox.repository import payments as store
from paysandbox.settings import get_settings
from paysandbox.states import Status

logger = Logger(child=True)


def email_code(payment: Payment, code: str, now: float) -> None:
    """E-mail the code to the merchant's ``customer_email``, at most ``otp.MAX_EMAILS`` times.

    Each send is counted first with a conditional write (``otp_emails`` below the cap), so
    racing resends cannot pass it either; a send that then fails still counts.
    """
    sender = get_settings().ses_sender
    if not sender or not payment.customer_email:
        return
    try:
        store.update_if(
            payment.payment_id,
            from_statuses={Status.WAITING_FOR_OTP.value},
            set_values={"updated_at": now},
            add={"otp_emails": 1},
            require={"otp_emails": store.Below(otp.MAX_EMAILS)},
        )
    except ConditionFailed:
        logger.info("one-time code not e-mailed: limit reached", extra={"payment_id": payment.payment_id})
        return
    from paysandbox import mailer  # only this path needs SES

    try:
        message_id = mailer.send_otp(
            sender,
            payment.customer_email,
            code,
            reference=reference_of(payment),
            amount_text=format_amount(payment.amount, payment.currency),
        )
    except Exception as error:  # the page still shows the code in the sandbox; never fail the payment
        logger.warning(
            "one-time code e-mail failed", extra={"payment_id": payment.payment_id, "error": type(error).__name__}
        )
        return
    logger.info("one-time code e-mailed", extra={"payment_id": payment.payment_id, "ses_message_id": message_id})


def code_was_emailed(payment: Payment) -> bool:
    return bool(get_settings().ses_sender and payment.customer_email)
