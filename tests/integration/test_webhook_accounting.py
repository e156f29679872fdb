"""Accounting invariant over a randomised run: many payments and transitions, a receiver
that fails at random (5xx, 429 with Retry-After, 410, slow), every stream batch and every SQS
batch handed to the sender twice. Afterwards every terminal transition has ended exactly
once: delivered (one 2xx) or dead-lettered - none delivered twice, none missing."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from harness.receiver import Receiver, Reply
from paysandbox import expiry, payments, webhook_events
from paysandbox.states import Status
from tests.integration.conftest import Pipeline, assert_signed
from tests.support import OPERATOR, invoice_body, v2_body

MAX_ATTEMPTS = 4


@pytest.mark.slow
def test_every_event_ends_delivered_or_dead_lettered_exactly_once(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, settings_env
):
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", str(MAX_ATTEMPTS))
    rng = random.Random(20261122)

    def flaky(request, n):
        roll = rng.random()
        if roll < 0.35:
            return Reply(500, b"flaky")
        if roll < 0.45:
            return Reply(429, b"slow down", {"Retry-After": str(rng.choice([1, 30, 5000]))})
        if roll < 0.48:
            return Reply(410, b"gone")
        return Reply(200)

    receiver.plan = flaky

    created: list[str] = []
    for i in range(40):
        if i % 2:
            body = v2_body(tx_id=f"tx-{i}", callback_url=receiver.url(f"/v2/{i}"))
            created.append(merchant.call("POST", "/api/v2/payments", body)[1]["payment_id"])
        else:
            body = invoice_body(reference=f"ref-{i}", webhook_url=receiver.url(f"/inv/{i}"))
            created.append(merchant.call("POST", "/api/create-invoice", body)[1]["payment_id"])

    expected: set[str] = set()  # event ids of every terminal transition that happened
    paid: list[str] = []
    for pid in created:
        action = rng.choice(["confirm", "confirm", "fail", "leave"])
        if action == "confirm":
            assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": pid}, headers=OPERATOR)[0] == 200
            expected.add(webhook_events.event_id_for(pid, "paid"))
            paid.append(pid)
        elif action == "fail":
            assert operator.call("POST", "/api/v2/fail-payment", {"payment_id": pid}, headers=OPERATOR)[0] == 200
            expected.add(webhook_events.event_id_for(pid, "failed"))
    pipeline.clock.advance_to(pipeline.clock.now() + 901)
    run = expiry.expire_due(lambda: True)
    for pid in created:
        if payments.get_payment(pid).status is Status.EXPIRED:
            expected.add(webhook_events.event_id_for(pid, "expired"))
    assert run.expired == sum(1 for e in expected if e in {webhook_events.event_id_for(p, "expired") for p in created})

    pipeline.run(duplicate=True)
    for pid in paid[::3]:  # some paid payments are refunded later: one more event each
        payments.transition(pid, Status.REFUNDED)
        expected.add(webhook_events.event_id_for(pid, "refunded"))
    pipeline.run(duplicate=True)

    # ---- what the receiver saw, verified like a merchant would
    sent = defaultdict(list)
    for request in receiver.requests:
        sent[assert_signed(request)["event_id"]].append(request.answered)
    dead = Counter(job["event_id"] for job in pipeline.dead_letters())

    assert set(sent) == expected  # every event was attempted; nothing unexpected was sent
    for event_id in expected:
        answers = sent[event_id]
        delivered = sum(1 for a in answers if a is not None and 200 <= a < 300)
        assert delivered <= 1, (event_id, answers)  # never delivered twice
        assert len(answers) <= MAX_ATTEMPTS
        if delivered:
            assert answers[-1] == 200 and dead[event_id] == 0
        else:
            # exhausted or gone: exactly one job in the DLQ
            assert dead[event_id] == 1, (event_id, answers)
            assert answers[-1] == 410 or len(answers) == MAX_ATTEMPTS
    assert set(dead) <= expected

    # ---- the payments' bookkeeping agrees with what happened to their current event
    for pid in created:
        payment = payments.get_payment(pid)
        if payment.status not in (Status.PAID, Status.FAILED, Status.EXPIRED, Status.REFUNDED):
            continue
        answers = sent[webhook_events.event_id_for(pid, payment.status.value)]
        if 200 in answers:
            assert payment.webhook_status == "delivered"
        elif answers[-1] == 410:
            assert payment.webhook_status == "gone"
        else:
            assert payment.webhook_status == "failed"
        assert payment.webhook_attempts == len(answers)
    assert len(expected) >= 40 and len(dead) > 0 and any(200 in a for a in sent.values())
