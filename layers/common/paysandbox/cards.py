"""The test-card catalogue (docs/checkout.md) as data, and the card-number helpers.

``CATALOGUE`` is the one table the checkout page's help text, the card logic and the tests
all read. A card number is only ever held in memory while a form is handled: what is kept
is ``mask()`` (``**** 4444``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    PAID = "paid"  # paid at once
    OTP_THEN_PAID = "otp_then_paid"  # one-time-code step, then paid
    OTP_THEN_DECLINED = "otp_then_declined"  # one-time-code step, then failed with decline_code
    DECLINED = "declined"  # failed at once with decline_code

    @property
    def needs_otp(self) -> bool:
        return self in (Outcome.OTP_THEN_PAID, Outcome.OTP_THEN_DECLINED)


@dataclass(frozen=True)
class Card:
    number: str  # digits only
    outcome: Outcome
    decline_code: str | None = None
    refunds_fail: bool = False  # pays normally; every refund of the payment ends "failed"

    @property
    def display(self) -> str:
        return format_number(self.number)

    @property
    def description(self) -> str:
        if self.outcome is Outcome.PAID:
            return "Paid at once; its refunds fail" if self.refunds_fail else "Paid at once"
        if self.outcome is Outcome.OTP_THEN_PAID:
            return "One-time code, then paid"
        if self.outcome is Outcome.OTP_THEN_DECLINED:
            return f"One-time code, then declined ({self.decline_code})"
        return f"Declined ({self.decline_code})"


CATALOGUE: tuple[Card, ...] = (
    Card("4444444444444444", Outcome.OTP_THEN_PAID),
    Card("4242424242424242", Outcome.PAID),
    Card("4000000000003220", Outcome.OTP_THEN_PAID),
    Card("4000000000005126", Outcome.PAID, refunds_fail=True),
    Card("4000008400001629", Outcome.OTP_THEN_DECLINED, "card_declined"),
    Card("4000000000000002", Outcome.DECLINED, "card_declined"),
    Card("4000000000009995", Outcome.DECLINED, "insufficient_funds"),
    Card("4000000000009987", Outcome.DECLINED, "lost_card"),
    Card("4000000000009979", Outcome.DECLINED, "stolen_card"),
    Card("4000000000000069", Outcome.DECLINED, "expired_card"),
    Card("4000000000000127", Outcome.DECLINED, "incorrect_cvc"),
    Card("4000000000000119", Outcome.DECLINED, "processing_error"),
)
_BY_NUMBER = {card.number: card for card in CATALOGUE}

# Any other Luhn-valid number is declined like a card without money on it.
OTHER_CARD_DECLINE = "insufficient_funds"

# What the customer reads on the "Payment declined" page for each decline_code.
DECLINE_REASONS: dict[str, str] = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was reported lost.",
    "stolen_card": "Your card was reported stolen.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "The card's security code (CVV) is incorrect.",
    "processing_error": "An error occurred while processing your card. Please try again later.",
    "authentication_failed": "The one-time code was entered incorrectly too many times.",
    "declined_by_operator": "The payment was declined.",
}

MIN_DIGITS = 12
MAX_DIGITS = 19


def decline_reason(code: str | None) -> str:
    return DECLINE_REASONS.get(code or "", "The payment was declined.")


def normalise(number: str) -> str:
    """The number without the spaces and dashes people type between groups."""
    return "".join(ch for ch in number if ch not in " -\t")


def is_well_formed(digits: str) -> bool:
    return digits.isascii() and digits.isdigit() and MIN_DIGITS <= len(digits) <= MAX_DIGITS


def luhn_valid(digits: str) -> bool:
    if not is_well_formed(digits):
        return False
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask(digits: str) -> str:
    return f"**** {digits[-4:]}"


def format_number(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def is_accepted(digits: str) -> bool:
    """A number the checkout takes: any catalogue card, or any other Luhn-valid number.

    4444 4444 4444 4444 is in the catalogue although it fails the Luhn check, so
    catalogue membership comes first.
    """
    return digits in _BY_NUMBER or luhn_valid(digits)


def lookup(digits: str) -> Card:
    """The catalogue row for a Luhn-valid number; any other number declines as insufficient_funds."""
    return _BY_NUMBER.get(digits) or Card(digits, Outcome.DECLINED, OTHER_CARD_DECLINE)
