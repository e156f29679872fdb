"""The code step of the hosted checkout: check a one-time code, send a new one.

The card step and what both steps share (the page a payment shows, CSRF, the guards of a
post) are in ``checkout``; the same rules hold here: every state change is one conditional
write, and the code is kept only as a keyed hash.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from paysandbox import clock, otp, otp_mail
from paysandbox.checkout import (
    OTP_FORM,
    CardResult,
    Checkout,
    FormInvalid,
    Page,
    check_csrf,
    check_id_and_csrf,
    checkout_of,
    load_item,
    refused_item,
)
from paysandbox.repository import ConditionFailed
from paysandbox.repository.payments import Below
from paysandbox.states import Status
from paysandbox.transitions import apply as transition  # returns the moved item: nothing is re-read

logger = Logger(child=True)

WAITING = frozenset({Status.WAITING_FOR_OTP})  # the only state a code or a resend acts in


def submit_otp(payment_id: str, code: str, csrf: str | None) -> Checkout:
    """Check a one-time code: right → paid (or declined for 1629); the third wrong → failed.

    The attempt is reserved before the code is compared: one conditional write counts it
    while the payment still waits for its code, unexpired, with fewer than 3 attempts used,
    and hands back the item, whose hash the code is then compared with. So however many
    guesses arrive at once, at most 3 are ever compared (comparing first and counting after
    let every guess in flight be checked). A right code settles with a second conditional
    write on that very hash; a wrong one is already counted, and the one that used the last
    attempt fails the payment. A malformed code is a form error and counts nothing.
    """
    check_id_and_csrf(payment_id, OTP_FORM, csrf)
    code = code.strip()
    if not otp.is_well_formed(code):
        raise FormInvalid({"otp": f"Enter the {otp.CODE_LENGTH}-digit code."})
    now = clock.now_epoch()
    try:
        item = transition(
            payment_id,
            Status.WAITING_FOR_OTP,
            now=now,
            allow_from=WAITING,
            add={"otp_attempts": 1},
            require={"otp_attempts": Below(otp.MAX_ATTEMPTS)},
        )
    except ConditionFailed as lost:  # settled, expired, or no attempt left
        return _out_of_attempts_or_as_is(payment_id, refused_item(lost, payment_id), now)
    if otp.matches(payment_id, code, item.get("otp_hash")):
        try:
            return _settle_with_code(payment_id, item["otp_hash"], item.get("otp_decline_code"), now)
        except ConditionFailed as lost:  # a new code replaced this one meanwhile, or it moved on
            item = refused_item(lost, payment_id)
    else:
        logger.info("wrong one-time code", extra={"payment_id": payment_id})
    return _out_of_attempts_or_as_is(payment_id, item, now)


def _settle_with_code(payment_id: str, code_hash: str, decline_code: str | None, now: float) -> Checkout:
    """The conditional write for a right code: paid, or failed with ``decline_code``.

    Its condition: still waiting for this very code (a new code replaces the hash), unexpired,
    and the after-code outcome the card step stored (``otp_decline_code``, absent for a card
    that pays). The attempt was counted when it was reserved.
    """
    if decline_code:
        target, extra = Status.FAILED, {"failed_at": now, "decline_code": decline_code}
    else:
        target, extra = Status.PAID, {"paid_at": now}
    item = transition(
        payment_id,
        target,
        extra=extra,
        now=now,
        allow_from=WAITING,
        remove=("otp_hash",),
        require={"otp_hash": code_hash, "otp_decline_code": decline_code},
    )
    logger.info("code step", extra={"payment_id": payment_id, "to": target.value})
    return checkout_of(item, now)


def _out_of_attempts_or_as_is(payment_id: str, item: dict[str, Any], now: float) -> Checkout:
    """The payment after a code that did not settle it: failed once every attempt is used.

    Also finishes a payment left waiting with no attempt left (a Lambda stopped between the
    attempt that used the last one and the failure), so the next post fails it.
    """
    current = checkout_of(item, now)
    if current.page is not Page.OTP or current.otp_attempts < otp.MAX_ATTEMPTS:
        return current
    try:
        item = transition(
            payment_id,
            Status.FAILED,
            extra={"failed_at": now, "decline_code": "authentication_failed"},
            now=now,
            allow_from=WAITING,
            remove=("otp_hash",),
        )
    except ConditionFailed as lost:
        return checkout_of(lost.existing or item, now)
    logger.info("code step", extra={"payment_id": payment_id, "to": Status.FAILED.value})
    return checkout_of(item, now)


def resend_otp(payment_id: str, csrf: str | None) -> CardResult:
    """Replace the code with a new one (e-mailed again if configured) for a customer who lost it.

    Wrong attempts are not reset, so a new code never buys more guesses; each resend is
    counted and capped.
    """
    item = load_item(payment_id)
    check_csrf(payment_id, OTP_FORM, csrf)
    now = clock.now_epoch()
    current = checkout_of(item, now)
    if not current.can_resend:
        return CardResult(current)
    code = otp.new_code()
    try:
        item = transition(
            payment_id,
            Status.WAITING_FOR_OTP,
            extra={"otp_hash": otp.hash_code(payment_id, code)},
            now=now,
            allow_from=WAITING,
            add={"otp_resends": 1},
        )
    except ConditionFailed as lost:
        return CardResult(checkout_of(lost.existing or item, now))
    logger.info("new one-time code", extra={"payment_id": payment_id})
    moved = checkout_of(item, now)
    otp_mail.email_code(moved.payment, code, now)
    return CardResult(moved, code)
