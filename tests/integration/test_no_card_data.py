"""No card number or CVV anywhere a payment's data goes (a regression guard from the
adversarial pass): not in any response, log line, table item, stream record, queue message
or webhook. A card is declined through the checkout handler (after a form error), its webhook
fails twice (so retry jobs exist) and is then delivered; everything produced is searched."""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from harness.receiver import Receiver, Reply
from paysandbox import checkout
from sandbox.apigw import LambdaContext, proxy_event
from tests.integration.conftest import Pipeline
from tests.support import OPERATOR, Api, invoice_body, load_handler, on_payment, stream_records

# Luhn-valid but not a catalogue card (the card page lists those): declined, insufficient_funds.
NUMBER, SPACED, CVV = "5555555555554444", "5555 5555 5555 4444", "9731"


def _checkout(method: str, payment_id: str, form: dict[str, str] | None = None) -> dict[str, Any]:
    event = proxy_event(
        method,
        f"/checkout/{payment_id}",
        resource="/checkout/{payment_id}",
        path_parameters={"payment_id": payment_id},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(form) if form is not None else None,
    )
    response: dict[str, Any] = load_handler("checkout").lambda_handler(event, LambdaContext(function_name="checkout"))
    return response


def _standalone(secret: str, text: str) -> bool:
    """``secret`` as a value of its own, not digits inside a timestamp or an id."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text) is not None


def test_no_card_number_or_cvv_in_responses_logs_items_records_messages_or_webhooks(
    pipeline: Pipeline,
    receiver: Receiver,
    merchant: Api,
    operator: Api,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    stream_handler_output: io.StringIO,
    settings_env: pytest.MonkeyPatch,
) -> None:
    settings_env.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="botocore")  # its wire log prints request bodies
    receiver.plan = lambda request, n: Reply(500, b"down") if n <= 2 else Reply()
    status, created, _ = merchant.call("POST", "/api/create-invoice", invoice_body(webhook_url=receiver.url()))
    assert status == 200
    payment_id = created["payment_id"]
    token = checkout.csrf_token(payment_id, checkout.CARD_FORM)
    card = {"email": "", "card_number": SPACED, "cvv": CVV, "csrf_token": token}

    responses = [
        _checkout("GET", payment_id),
        _checkout("POST", payment_id, {**card, "expiry": "13/99"}),  # a form error re-renders the form
        _checkout("POST", payment_id, {**card, "expiry": "12/30"}),
        _checkout("GET", payment_id),
    ]
    assert [r["statusCode"] for r in responses] == [200, 422, 303, 200]
    assert "Payment declined" in responses[-1]["body"]
    pipeline.run()
    assert [r.answered for r in receiver.requests] == [500, 500, 200]

    texts = [json.dumps(r, default=str) for r in responses]
    texts += [json.dumps(on_payment(merchant, "GET", payment_id)[1])]
    texts += [json.dumps(operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR, query="status=failed"))]
    texts += [json.dumps(on_payment(operator, "GET", payment_id, "/webhooks", headers=OPERATOR)[1])]
    dynamodb = boto3.client("dynamodb")
    texts += [json.dumps(dynamodb.scan(TableName=table)["Items"]) for table in ("Payments", "WebhookLogs")]
    texts += [json.dumps(stream_records(), default=str)]
    texts += [json.dumps(pipeline.delays), json.dumps(pipeline.dead_letters())]
    texts += [r.body.decode() + json.dumps(r.headers) for r in receiver.requests]
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text + stream_handler_output.getvalue()
    assert '"card_mask":"**** 4444"' in logs  # the capture did see the checkout's own log lines
    assert len(pipeline.delays) == 2  # the retry jobs were searched too
    for text in [*texts, logs]:
        for secret in (NUMBER, SPACED, CVV):
            assert not _standalone(secret, text), (secret, text[:300])
