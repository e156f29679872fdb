"""Racing transitions: of two, exactly one wins and the other is a 409 or a no-op.

moto applies requests without DynamoDB's per-item serialisation, so racing threads against
it prove nothing either way. The guarantee comes from each transition being one conditional
write on the current status; these tests play every interleaving of two such writes (the
loser's arrives after the winner's) and count the transitions on the table's real stream.
"""

from __future__ import annotations

import pytest

from paysandbox import clock, payments
from paysandbox.errors import Conflict
from paysandbox.repository import ConditionFailed
from paysandbox.states import Status
from tests.support import OPERATOR, Api, terminal_transitions, v2_body, view_of


@pytest.fixture
def payment_id(merchant: Api) -> str:
    _, body, _ = merchant.call("POST", "/api/v2/payments", v2_body())
    return str(body["payment_id"])


def test_two_confirms_make_one_transition_and_the_same_answer(operator: Api, merchant: Api, payment_id: str) -> None:
    answers = [
        operator.call("POST", "/api/v2/confirm-payment", {"payment_id": payment_id}, headers=OPERATOR) for _ in range(2)
    ]
    assert [a[0] for a in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert terminal_transitions(payment_id) == ["paid"]


def test_confirm_then_expire_the_expiry_loses(merchant: Api, payment_id: str) -> None:
    created = view_of(merchant, payment_id)
    payments.confirm(payment_id)
    after_expiry = clock.now_epoch() + 10_000  # the expirer's clock says the payment is due
    with pytest.raises(ConditionFailed):
        payments.transition(payment_id, Status.EXPIRED, now=after_expiry)
    assert view_of(merchant, payment_id)["status"] == "PAYMENT_COMPLETED"
    assert terminal_transitions(payment_id) == ["paid"]
    assert created["status"] == "PENDING"


def test_expire_then_confirm_the_confirm_is_a_conflict(merchant: Api, payment_id: str) -> None:
    payments.transition(payment_id, Status.EXPIRED, now=clock.now_epoch() + 10_000)
    with pytest.raises(Conflict):
        payments.confirm(payment_id)
    assert view_of(merchant, payment_id)["status"] == "PAYMENT_EXPIRED"
    assert terminal_transitions(payment_id) == ["expired"]


def test_operator_fail_then_card_payment_the_card_loses(merchant: Api, payment_id: str) -> None:
    payments.fail(payment_id, "operator")
    with pytest.raises(ConditionFailed):
        payments.transition(payment_id, Status.PAID, extra={"card_mask": "**** 4242"})
    view = view_of(merchant, payment_id)
    assert view["status"] == "PAYMENT_FAILED"
    assert view["card_mask"] == ""  # no card was used
    assert terminal_transitions(payment_id) == ["failed"]


def test_a_stale_otp_step_cannot_reopen_a_settled_payment(merchant: Api, payment_id: str) -> None:
    payments.confirm(payment_id)
    with pytest.raises(ConditionFailed):
        payments.transition(payment_id, Status.WAITING_FOR_OTP)
    assert view_of(merchant, payment_id)["status"] == "PAYMENT_COMPLETED"


@pytest.mark.parametrize(
    "target", [Status.PAID, Status.FAILED, Status.EXPIRED, Status.WAITING_FOR_OTP, Status.REFUNDED]
)
def test_no_payment_ever_leaves_a_terminal_state(merchant: Api, payment_id: str, target: Status) -> None:
    payments.transition(payment_id, Status.EXPIRED, now=clock.now_epoch() + 10_000)
    with pytest.raises(ConditionFailed):
        payments.transition(payment_id, target, now=clock.now_epoch() + 20_000)
    assert view_of(merchant, payment_id)["status"] == "PAYMENT_EXPIRED"
