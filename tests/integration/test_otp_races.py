"""The one-time-code limit holds under concurrency: at most 3 codes are ever compared.

moto applies requests without DynamoDB's per-item serialisation, so racing threads against it
prove nothing either way. Here the guesses run in threads, but every DynamoDB request they make
is played in a fixed order (``Rounds``): each guess's first request, in guess order, then each
guess's second, and so on. That is the interleaving an adversarial pass hit with 40 concurrent
guesses, where every guess was compared before any wrong one was counted: the right code
among them paid the payment in 7 of 8 trials.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from paysandbox import checkout, checkout_code, repository
from paysandbox.repository import payments as store
from tests.support import Api, invoice_body, terminal_transitions

GUESSES = 40


class Rounds:
    """Serialises the DynamoDB requests of N callers into rounds: every caller's k-th request
    runs after every earlier caller's k-th and every later caller's (k-1)-th, one at a time.
    A caller that has finished drops out of the rounds."""

    def __init__(self, callers: int) -> None:
        self.cv = threading.Condition()
        self.done = [0] * callers
        self.finished = [False] * callers
        self.local = threading.local()
        self.order: list[tuple[int, str]] = []  # (caller, operation) as played

    def _my_turn(self, me: int) -> bool:
        k = self.done[me]
        return all(
            self.finished[j] or self.done[j] >= (k + 1 if j < me else k) for j in range(len(self.done)) if j != me
        )

    def gate(self, operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def gated(**kwargs: Any) -> Any:
            me = getattr(self.local, "caller", None)
            if me is None:
                return method(**kwargs)
            with self.cv:
                assert self.cv.wait_for(lambda: self._my_turn(me), timeout=60), "rounds stuck"
                self.order.append((me, operation))
            try:
                return method(**kwargs)
            finally:
                with self.cv:
                    self.done[me] += 1
                    self.cv.notify_all()

        return gated

    def run(self, calls: list[Callable[[], Any]]) -> list[Any]:
        results: list[Any] = [None] * len(calls)

        def worker(me: int) -> None:
            self.local.caller = me
            try:
                results[me] = calls[me]()
            except Exception as error:  # reported by the test, not lost in the thread
                results[me] = error
            finally:
                with self.cv:
                    self.finished[me] = True
                    self.cv.notify_all()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results


@pytest.fixture
def rounds(monkeypatch: pytest.MonkeyPatch) -> Rounds:
    played = Rounds(GUESSES)
    client = repository.dynamodb
    for operation in ("get_item", "put_item", "update_item"):
        monkeypatch.setattr(client, operation, played.gate(operation, getattr(client, operation)))
    return played


def _waiting_for_code(merchant: Api) -> tuple[str, str]:
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body())
    assert status == 200
    payment_id = str(body["payment_id"])
    form = {
        "card_number": "4444 4444 4444 4444",
        "expiry": "12/30",
        "cvv": "123",
        "csrf_token": checkout.csrf_token(payment_id, checkout.CARD_FORM),
    }
    result = checkout.pay_by_card(payment_id, form)
    assert result.code and result.checkout.page is checkout.Page.OTP
    return payment_id, result.code


@pytest.mark.parametrize(
    ("right_guess", "outcome"),
    [(0, "paid"), (2, "paid"), (3, "failed"), (GUESSES - 1, "failed")],
    ids=["right code first", "right code third", "right code fourth", "right code last"],
)
def test_forty_guesses_in_flight_compare_at_most_three_codes(
    merchant: Api, rounds: Rounds, right_guess: int, outcome: str
) -> None:
    payment_id, code = _waiting_for_code(merchant)
    guesses = [f"{(int(code) + 1 + n) % 10**6:06d}" for n in range(GUESSES)]
    guesses[right_guess] = code
    token = checkout.csrf_token(payment_id, checkout.OTP_FORM)

    answers = rounds.run([lambda guess=guess: checkout_code.submit_otp(payment_id, guess, token) for guess in guesses])

    assert not [a for a in answers if isinstance(a, Exception)], answers
    item = store.get(payment_id)
    assert item is not None
    assert item["status"] == outcome
    if outcome == "failed":
        assert item["decline_code"] == "authentication_failed"
    assert item["otp_attempts"] <= 3
    assert terminal_transitions(payment_id) == [outcome]
