"""What a customer does on the hosted checkout: the page, CSRF, the card step.

The code step is in ``checkout_code``, the code e-mail in ``otp_mail``; how amounts and
references read, in ``payment_display``.

Every state change is one conditional write through ``transitions.apply`` (so are the code
step's attempt counter and a resend: guarded changes within ``waiting_for_otp``), so a
double-submitted form, an operator confirming at the same moment or the expirer racing the
customer can never move a payment twice. Posts for a payment that is no longer waiting for
that form change nothing and just show its page.

A form post does not read the payment first: its CSRF token is stateless and the write's
condition is the check. A refused write hands back the item as it was
(``ConditionFailed.existing``), which is all the page needs; a successful one hands back the
new item. So the card form costs one request, a code two at most: its attempt is reserved
(counted) in one conditional write before it is compared, so no number of guesses in flight
gets more than 3 compared.

The card number and CVV live only in the arguments of ``pay_by_card``: the payment keeps
``card_mask``; the one-time code is kept only as a keyed hash (``otp``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from paysandbox import cards, clock, keys, otp, otp_mail
from paysandbox.errors import Forbidden, NotFound, ValidationFailed
from paysandbox.models import Payment
from paysandbox.payments import MAX_ID_LENGTH
from paysandbox.repository import ConditionFailed
from paysandbox.repository import payments as store
from paysandbox.settings import get_settings
from paysandbox.states import Status
from paysandbox.transitions import apply as transition  # returns the moved item: nothing is re-read

logger = Logger(child=True)

CARD_FORM = "card"
OTP_FORM = "otp"
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EXPIRY_RE = re.compile(r"(0[1-9]|1[0-2]) ?/ ?([0-9]{2})")
CVV_RE = re.compile(r"[0-9]{3,4}")


class Page(StrEnum):
    """Which page a payment shows."""

    CARD = "card"
    OTP = "otp"
    PAID = "paid"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class FormInvalid(ValidationFailed):
    """A form field is wrong; ``errors`` maps field name to the message shown next to it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Some fields need attention.", code="invalid_form")
        self.errors = errors


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__("The form has expired or was not sent from this page.", code="csrf_rejected")


# ------------------------------------------------------------------ reading


@dataclass
class Checkout:
    """A payment as the checkout sees it: the stored model plus the code-step bookkeeping."""

    payment: Payment
    otp_attempts: int
    page: Page
    otp_hash: str | None = None
    otp_resends: int = 0
    otp_emails: int = 0

    @property
    def can_resend(self) -> bool:
        """A new code can be had: fewer than MAX_RESENDS so far, and someone can read it.

        When the e-mail is the only way to the code (SANDBOX_SHOW_OTP off), no new code is
        made once the e-mail cap is reached: it would replace the mailed one unseen.
        """
        if self.page is not Page.OTP or self.otp_resends >= otp.MAX_RESENDS:
            return False
        settings = get_settings()
        mail_only = bool(settings.ses_sender and self.payment.customer_email) and not settings.sandbox_show_otp
        return not (mail_only and self.otp_emails >= otp.MAX_EMAILS)

    def shows_code(self, code: str | None) -> bool:
        """Whether ``code`` (e.g. from the browser that entered the card) is this payment's live code."""
        return self.page is Page.OTP and code is not None and otp.matches(self.payment.payment_id, code, self.otp_hash)

    @property
    def attempts_left(self) -> int:
        return max(0, otp.MAX_ATTEMPTS - self.otp_attempts)


def page_for(payment: Payment, now: float) -> Page:
    """The page for a payment's state; an open payment past its expiry is already expired."""
    status = payment.status
    if status in (Status.PENDING, Status.WAITING_FOR_OTP) and payment.is_past_expiry(now):
        return Page.EXPIRED
    return {
        Status.PENDING: Page.CARD,
        Status.WAITING_FOR_OTP: Page.OTP,
        Status.PAID: Page.PAID,
        Status.FAILED: Page.DECLINED,
        Status.EXPIRED: Page.EXPIRED,
        Status.REFUNDED: Page.REFUNDED,
    }[status]


def checkout_of(item: dict[str, Any], now: float) -> Checkout:
    payment = Payment.model_validate(item)
    return Checkout(
        payment,
        otp_attempts=int(item.get("otp_attempts") or 0),
        page=page_for(payment, now),
        otp_hash=item.get("otp_hash"),
        otp_resends=int(item.get("otp_resends") or 0),
        otp_emails=int(item.get("otp_emails") or 0),
    )


def _not_found(payment_id: str) -> NotFound:
    return NotFound(f"No payment {payment_id!r}.", code="payment_not_found")


def load_item(payment_id: str) -> dict[str, Any]:
    item = store.get(payment_id) if 0 < len(payment_id) <= MAX_ID_LENGTH else None
    if item is None:
        raise _not_found(payment_id)
    return item


def load(payment_id: str) -> Checkout:
    return checkout_of(load_item(payment_id), clock.now_epoch())


# ------------------------------------------------------------------ CSRF


def csrf_token(payment_id: str, form: str) -> str:
    """Stateless token for one form of one payment: HMAC(csrf key, form ":" payment_id).

    Bound to the form too, so the card form's token cannot post a code. It needs no storage;
    the payment's own state machine stops replays from doing anything twice.
    """
    mac = hmac.new(keys.derived_key(keys.CSRF), f"{form}:{payment_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def check_csrf(payment_id: str, form: str, token: str | None) -> None:
    if not token or not hmac.compare_digest(csrf_token(payment_id, form).encode(), token.encode()):
        raise CsrfRejected()


# ------------------------------------------------------------------ card step


@dataclass
class CardResult:
    checkout: Checkout
    code: str | None = None  # the new one-time code, for the page to show while SANDBOX_SHOW_OTP


def _validate_card_form(form: Mapping[str, str]) -> str:
    """The card digits, or FormInvalid naming every bad field.

    The e-mail field is checked for form but never used: one-time codes go only to the
    ``customer_email`` the merchant gave at creation, never to an address typed on this
    public form (anyone could make the sandbox mail a stranger).
    """
    errors: dict[str, str] = {}
    email = form.get("email", "").strip() or None
    if email is not None and (len(email) > 254 or not EMAIL_RE.fullmatch(email)):
        errors["email"] = "Enter an e-mail address like name@example.com, or leave it empty."
    digits = cards.normalise(form.get("card_number", ""))
    if not digits:
        errors["card_number"] = "Enter your card number."
    elif not cards.is_well_formed(digits):
        errors["card_number"] = f"Enter a card number of {cards.MIN_DIGITS} to {cards.MAX_DIGITS} digits."
    elif not cards.is_accepted(digits):
        errors["card_number"] = "This card number is not valid. Check it and try again."
    if not EXPIRY_RE.fullmatch(form.get("expiry", "").strip()):
        errors["expiry"] = "Enter the expiry date as MM/YY, for example 12/30."
    if not CVV_RE.fullmatch(form.get("cvv", "").strip()):
        errors["cvv"] = "Enter the 3 or 4 digit security code."
    if errors:
        raise FormInvalid(errors)
    return digits


def pay_by_card(payment_id: str, form: Mapping[str, str]) -> CardResult:
    """Handle the card form: a code step, paid, or declined, as the test-card catalogue says.

    One request: the CSRF token and the form are checked without reading the payment, then
    the catalogue's outcome is written with one conditional write (still pending and
    unexpired). When that condition fails, the item it hands back is the payment that moved
    on or expired, returned unchanged. Malformed input raises FormInvalid and changes nothing.
    """
    check_id_and_csrf(payment_id, CARD_FORM, form.get("csrf_token"))
    digits = _validate_card_form(form)
    now = clock.now_epoch()
    card = cards.lookup(digits)
    extra: dict[str, Any] = {"card_mask": cards.mask(digits)}
    code = None
    if card.outcome.needs_otp:
        code = otp.new_code()
        extra.update(otp_hash=otp.hash_code(payment_id, code), otp_attempts=0, otp_emails=0)
        if card.decline_code:  # what the right code will lead to, so the code step needs no read
            extra["otp_decline_code"] = card.decline_code
        target = Status.WAITING_FOR_OTP
    elif card.outcome is cards.Outcome.PAID:
        extra["paid_at"] = now
        if card.refunds_fail:  # remembered on the payment: its refunds will end "failed"
            extra["refunds_fail"] = True
        target = Status.PAID
    else:
        extra.update(failed_at=now, decline_code=card.decline_code)
        target = Status.FAILED
    try:
        item = transition(payment_id, target, extra=extra, now=now, allow_from=frozenset({Status.PENDING}))
    except ConditionFailed as lost:
        # Someone else moved it first (double submit, operator, expirer) or it just expired.
        logger.info("card step refused: not waiting for a card", extra={"payment_id": payment_id})
        return CardResult(checkout_of(refused_item(lost, payment_id), now))
    logger.info("card step", extra={"payment_id": payment_id, "card_mask": extra["card_mask"], "to": target.value})
    moved = checkout_of(item, now)  # the write returned the new item: no read back
    if code is not None:
        otp_mail.email_code(moved.payment, code, now)
    return CardResult(moved, code)


def check_id_and_csrf(payment_id: str, form: str, token: str | None) -> None:
    """What a post must pass before any write; neither check reads the payment.

    A bad token for a payment that does not exist still answers 404, as when every post read
    the payment first: that read happens only on this error path.
    """
    if not 0 < len(payment_id) <= MAX_ID_LENGTH:
        raise _not_found(payment_id)
    try:
        check_csrf(payment_id, form, token)
    except CsrfRejected:
        load_item(payment_id)
        raise


def refused_item(lost: ConditionFailed, payment_id: str) -> dict[str, Any]:
    """The item as a refused conditional write found it (ALL_OLD); none: no such payment."""
    if lost.existing is None:
        raise _not_found(payment_id)
    return lost.existing
