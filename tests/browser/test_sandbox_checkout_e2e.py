"""End to end, part two: pay on the hosted checkout in Chromium and receive signed webhooks.

Same set-up as ``test_sandbox_e2e.py`` (``python -m sandbox`` as a subprocess on free ports),
plus a real HTTP receiver on 127.0.0.1 that verifies every signature scheme the way a
merchant would, and the emulator's own dead-letter queue read with boto3.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from playwright.sync_api import Browser, expect

from harness.receiver import Receiver
from harness.sandbox_process import (
    SECRET,
    TOKEN,
    Sandbox,
)
from harness.webhook_checks import verified_payload
from paysandbox import signatures
from tests.support import wait_for

OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


def test_pay_on_checkout_and_receive_retried_and_dead_lettered_webhooks(
    sandbox_factory,
    receiver: Receiver,
    browser: Browser,
) -> None:
    sandbox: Sandbox = sandbox_factory(
        WEBHOOK_RETRY_DELAYS="1,1", WEBHOOK_MAX_ATTEMPTS="3", EXPIRER_INTERVAL_SECONDS="1"
    )
    whsec = signatures.whsec(SECRET)
    assert whsec in sandbox.output()

    # Invoice flavour: the customer pays with the one-time-code card in Chromium.
    invoice = {
        "amount": 249900,
        "reference": "e2e-checkout",
        "webhook_url": receiver.url("/ok"),
        "redirect_url": "https://merchant.example.com/thanks",
    }
    status, created = sandbox.request("POST", "/api/create-invoice", invoice)
    assert status == 200
    page = browser.new_page()
    page.goto(created["pageUrl"])
    page.get_by_label("Card number").fill("4444 4444 4444 4444")
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("CVV").fill("123")
    page.get_by_role("button", name="Pay", exact=True).click()
    code = page.get_by_test_id("sandbox-otp").inner_text().strip()
    page.get_by_label("One-time code").fill(code)
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("Payment successful")).to_be_visible()
    page.close()

    paid = wait_for(lambda: receiver.to("/ok"))
    body = verified_payload(paid[0], SECRET)
    assert body["payment_id"] == created["payment_id"] and body["status"] == "paid"
    assert body["card_mask"] == "**** 4444" and "4444 4444" not in paid[0].body.decode()
    wait_for(
        lambda: sandbox.request("GET", f"/api/payments/{created['payment_id']}")[1]["webhook_status"] == "delivered"
    )

    # v2 flavour, a receiver that fails once: retried after the (short) delay, then delivered.
    flaky = {
        "version": "v2",
        "tx_id": "e2e-flaky",
        "order_id": "o-1",
        "user_id": "u-1",
        "amount": 4990,
        "callback_url": receiver.url("/flaky"),
    }
    assert sandbox.request("POST", "/api/v2/payments", flaky)[0] == 200
    assert sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": "pay_e2e-flaky"}, OPERATOR)[0] == 200
    attempts = wait_for(lambda: [d for d in receiver.to("/flaky") if d.answered == 200] and receiver.to("/flaky"))
    assert [d.answered for d in attempts] == [500, 200]
    first, second = (verified_payload(d, SECRET) for d in attempts)
    assert first["event_id"] == second["event_id"] and second["status"] == "PAYMENT_COMPLETED"
    assert {k.lower(): v for k, v in attempts[1].headers.items()}["x-payment-event"] == "payment.completed"

    # The receiver has answered; the sender records the answer right after: wait for it.
    def outcomes() -> list[tuple[Any, Any]]:
        log = sandbox.request("GET", "/api/payments/pay_e2e-flaky/webhooks", headers=OPERATOR)[1]["deliveries"]
        return [(d["response_status"], d["success"]) for d in log]

    wait_for(lambda: outcomes() == [(500, False), (200, True)])

    # A receiver that never recovers: every attempt is made, then the job is in the emulator's DLQ.
    down = {**flaky, "tx_id": "e2e-down", "callback_url": receiver.url("/down")}
    assert sandbox.request("POST", "/api/v2/payments", down)[0] == 200
    assert sandbox.request("POST", "/api/v2/fail-payment", {"payment_id": "pay_e2e-down"}, OPERATOR)[0] == 200
    wait_for(lambda: sandbox.request("GET", "/api/payments/pay_e2e-down")[1]["webhook_status"] == "failed")
    assert [d.answered for d in receiver.to("/down")] == [503, 503, 503]
    sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{sandbox.emulator_port}",
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    dlq = sqs.get_queue_url(QueueName="WebhookDeadLetterQueue")["QueueUrl"]
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["payment_id"] for m in dead] == ["pay_e2e-down"]

    assert sandbox.stop() == 0
