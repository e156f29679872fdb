"""The state machine: every allowed and every forbidden transition."""

from __future__ import annotations

import itertools

import pytest

from paysandbox.states import ALLOWED, OPEN, TERMINAL, V2_NAMES, Status, can_move, group_from_query, sources_of

EXPECTED_ALLOWED = {
    ("pending", "waiting_for_otp"),
    ("pending", "paid"),
    ("pending", "failed"),
    ("pending", "expired"),
    ("waiting_for_otp", "paid"),
    ("waiting_for_otp", "failed"),
    ("waiting_for_otp", "expired"),
    ("paid", "refunded"),
}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Status, Status)))
def test_each_pair_is_allowed_exactly_when_the_spec_says(source: Status, target: Status) -> None:
    assert can_move(source, target) == ((source.value, target.value) in EXPECTED_ALLOWED)


def test_no_payment_ever_leaves_failed_expired_or_refunded() -> None:
    for status in (Status.FAILED, Status.EXPIRED, Status.REFUNDED):
        assert ALLOWED[status] == frozenset()


def test_sources_are_the_conditions_of_the_conditional_writes() -> None:
    assert sources_of(Status.PAID) == OPEN
    assert sources_of(Status.EXPIRED) == OPEN
    assert sources_of(Status.WAITING_FOR_OTP) == {Status.PENDING}
    assert sources_of(Status.REFUNDED) == {Status.PAID}
    assert sources_of(Status.PENDING) == frozenset()


def test_v2_names_show_both_open_states_as_pending() -> None:
    assert V2_NAMES[Status.PENDING] == V2_NAMES[Status.WAITING_FOR_OTP] == "PENDING"
    assert V2_NAMES[Status.PAID] == "PAYMENT_COMPLETED"
    assert {V2_NAMES[s] for s in TERMINAL} == {
        "PAYMENT_COMPLETED",
        "PAYMENT_FAILED",
        "PAYMENT_EXPIRED",
        "PAYMENT_REFUNDED",
    }


@pytest.mark.parametrize(
    ("query", "group"),
    [
        ("pending", "pending"),
        ("PENDING", "pending"),
        ("waiting_for_otp", "pending"),
        ("completed", "completed"),
        ("PAYMENT_COMPLETED", "completed"),
        ("paid", "completed"),
        ("failed", "failed"),
        ("PAYMENT_EXPIRED", "expired"),
        ("refunded", "refunded"),
        ("bogus", None),
        ("", None),
    ],
)
def test_status_query_values_map_to_list_groups(query: str, group: str | None) -> None:
    assert group_from_query(query) == group
