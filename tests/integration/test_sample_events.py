"""Every sample event in events/ runs against its handler as `sam local invoke -e` would."""

from __future__ import annotations

import json

import pytest

from sandbox.apigw import LambdaContext
from tests.support import ROOT, load_handler

EVENTS = ROOT / "events"
# In the order a user would try them: create, read, then settle.
CASES = [
    ("create-v2-payment.json", "create_payment", 200),
    ("create-invoice.json", "create_payment", 200),
    ("get-payment.json", "create_payment", 200),
    ("pending-payments.json", "confirm", 200),
    ("confirm-payment.json", "confirm", 200),
    ("fail-payment.json", "confirm", 409),  # already confirmed by the event before
]


def test_every_sample_event_is_covered() -> None:
    listed = {name for name, _, _ in CASES} | {"expirer-schedule.json"}
    assert listed == {p.name for p in EVENTS.glob("*.json")}


def test_sample_events_run_in_sequence(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_AUTH_TOKEN", "local-operator-token")
    for name, function, status in CASES:
        event = json.loads((EVENTS / name).read_text())
        response = load_handler(function).lambda_handler(event, LambdaContext(function_name=function))
        assert response["statusCode"] == status, (name, response["body"])
    body = json.loads(
        load_handler("create_payment").lambda_handler(
            json.loads((EVENTS / "create-invoice.json").read_text()), LambdaContext()
        )["body"]
    )
    assert body["pageUrl"].startswith("https://abc123.execute-api.eu-west-1.amazonaws.com/dev/checkout/inv_")


def test_the_schedule_event_runs_the_expirer(aws: None) -> None:
    event = json.loads((EVENTS / "expirer-schedule.json").read_text())
    result = load_handler("expirer").lambda_handler(event, LambdaContext(function_name="expirer", timeout_seconds=60))
    assert result == {"expired": 0, "lost_races": 0, "complete": True}
