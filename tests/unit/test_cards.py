"""The test-card catalogue and the card-number helpers."""

from __future__ import annotations

import pytest

from paysandbox import cards
from paysandbox.cards import Outcome

# The catalogue as docs/checkout.md publishes it, so a changed row fails here.
PUBLISHED_ROWS = [
    ("4444 4444 4444 4444", Outcome.OTP_THEN_PAID, None),
    ("4242 4242 4242 4242", Outcome.PAID, None),
    ("4000 0000 0000 3220", Outcome.OTP_THEN_PAID, None),
    ("4000 0000 0000 5126", Outcome.PAID, None),  # pays like 4242, its refunds fail
    ("4000 0084 0000 1629", Outcome.OTP_THEN_DECLINED, "card_declined"),
    ("4000 0000 0000 0002", Outcome.DECLINED, "card_declined"),
    ("4000 0000 0000 9995", Outcome.DECLINED, "insufficient_funds"),
    ("4000 0000 0000 9987", Outcome.DECLINED, "lost_card"),
    ("4000 0000 0000 9979", Outcome.DECLINED, "stolen_card"),
    ("4000 0000 0000 0069", Outcome.DECLINED, "expired_card"),
    ("4000 0000 0000 0127", Outcome.DECLINED, "incorrect_cvc"),
    ("4000 0000 0000 0119", Outcome.DECLINED, "processing_error"),
]


def test_catalogue_is_exactly_the_spec_table() -> None:
    assert [(c.display, c.outcome, c.decline_code) for c in cards.CATALOGUE] == PUBLISHED_ROWS


@pytest.mark.parametrize(("number", "outcome", "decline_code"), PUBLISHED_ROWS)
def test_every_catalogue_card_is_accepted_and_looked_up(
    number: str, outcome: Outcome, decline_code: str | None
) -> None:
    digits = cards.normalise(number)
    assert cards.is_accepted(digits)
    card = cards.lookup(digits)
    assert (card.outcome, card.decline_code) == (outcome, decline_code)


def test_only_the_failing_refund_card_fails_refunds() -> None:
    assert [c.display for c in cards.CATALOGUE if c.refunds_fail] == ["4000 0000 0000 5126"]
    assert cards.lookup("4000000000005126").description == "Paid at once; its refunds fail"


def test_every_decline_code_has_a_human_reason() -> None:
    codes = {c.decline_code for c in cards.CATALOGUE if c.decline_code} | {cards.OTHER_CARD_DECLINE}
    for code in codes | {"authentication_failed"}:
        assert code in cards.DECLINE_REASONS
    assert cards.decline_reason("no_such_code") == "The payment was declined."


def test_other_luhn_valid_numbers_decline_with_insufficient_funds() -> None:
    other = "5555555555554444"
    assert cards.luhn_valid(other)
    card = cards.lookup(other)
    assert (card.outcome, card.decline_code) == (Outcome.DECLINED, "insufficient_funds")


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4242424242424241", False),
        ("79927398713", False),  # Luhn-valid but too short for a card
        ("378282246310005", True),  # 15-digit Amex test number
        ("4000000000000002", True),
        ("4444444444444444", False),  # fails Luhn, yet accepted as a catalogue card
        ("4242 4242 4242 4242", False),  # not normalised
        ("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", False),  # non-ASCII digits
        ("", False),
        ("1" * 20, False),
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert cards.luhn_valid(number) is valid


def test_normalise_mask_and_format() -> None:
    assert cards.normalise(" 4242-4242 4242\t4242 ") == "4242424242424242"
    assert cards.mask("4000000000003220") == "**** 3220"
    assert cards.format_number("4000008400001629") == "4000 0084 0000 1629"


def test_luhn_invalid_numbers_outside_the_catalogue_are_refused() -> None:
    assert not cards.is_accepted("4242424242424241")
    assert not cards.is_accepted("4242")
