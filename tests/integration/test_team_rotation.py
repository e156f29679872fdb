"""Teams over time: the auth cache's window, and a webhook-secret roll's overlap.

In-process, with controllable clocks: the cache's (``tenancy.monotonic``) and the product's
(``clock.now_epoch``, advanced by the ``pipeline`` fixture's ``Clock``).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from harness.receiver import Receiver
from tests.integration.conftest import Pipeline
from tests.support import Api, dynamodb_requests

ADMIN = {"Authorization": "Bearer test-operator-token"}


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_clock(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    from paysandbox import tenancy

    clock = Monotonic()
    monkeypatch.setattr(tenancy, "monotonic", clock)
    monkeypatch.setattr(tenancy, "_cache", {})  # each test's moto account starts without teams
    return clock


def _create_team(operator: Api, team_id: str) -> dict[str, Any]:
    status, team, _ = operator.call("POST", "/api/teams", {"team_id": team_id}, headers=ADMIN)
    assert status == 201, team
    return dict(team)


def test_a_revoked_key_stops_within_the_cache_window_and_a_warm_request_reads_no_team(
    merchant: Api, operator: Api, cache_clock: Monotonic
) -> None:
    key = {"Authorization": f"Bearer {_create_team(operator, 'shop')['api_key']}"}
    assert merchant.call("GET", "/api/payments/pay_nothing", headers=key)[0] == 404  # authenticated: cached now
    with dynamodb_requests() as seen:
        assert merchant.call("GET", "/api/payments/pay_nothing", headers=key)[0] == 404
    assert [r.operation for r in seen] == ["GetItem"] and seen[0].table == "Payments"  # no Teams read

    # Another container deletes the team: this one's cache does not know yet.
    boto3.client("dynamodb").delete_item(TableName="Teams", Key={"pk": {"S": "team"}, "team_id": {"S": "shop"}})
    cache_clock.now += 59
    assert merchant.call("GET", "/api/payments/pay_nothing", headers=key)[0] == 404
    cache_clock.now += 1  # 60 s after the team was read: read again, and refused
    status, answer, _ = merchant.call("GET", "/api/payments/pay_nothing", headers=key)
    assert (status, answer["error"]["code"]) == (401, "invalid_api_key")


def _pay(merchant: Api, operator: Api, key: dict[str, str], tx_id: str, url: str) -> None:
    body = {"version": "v2", "tx_id": tx_id, "order_id": 1, "user_id": 1, "amount": 100, "callback_url": url}
    assert merchant.call("POST", "/api/v2/payments", body, headers=key)[0] == 200
    assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": f"pay_{tx_id}"}, headers=key)[0] == 200


def _verifies(secret: str | bytes, request: Any) -> bool:
    """Standard Webhooks, with the library: ``bytes`` is the raw secret, ``str`` the whsec_ form."""
    try:
        Webhook(secret).verify(request.body, {k.lower(): v for k, v in request.headers.items()})
    except WebhookVerificationError:
        return False
    return True


def test_a_secret_roll_keeps_old_receivers_verifying_through_the_overlap_only(
    merchant: Api, operator: Api, pipeline: Pipeline, receiver: Receiver, cache_clock: Monotonic
) -> None:
    team = _create_team(operator, "shop")
    key = {"Authorization": f"Bearer {team['api_key']}"}
    old = team["webhook_secret"]
    status, rolled, _ = operator.call(
        "POST", "/api/teams/shop/webhook-secret/roll", {"overlap_seconds": 3600}, headers=key
    )
    assert status == 200 and rolled["webhook_secret"] != old
    new = rolled["webhook_secret"]

    _pay(merchant, operator, key, "tx_during", receiver.url("/during"))
    pipeline.run()
    during = receiver.to("/during")[0]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert _verifies(old.encode(), during) and _verifies(new.encode(), during)
    assert _verifies(rolled["whsec"], during)  # the whsec_ form the console shows
    assert json.loads(during.body)["payment_id"] == "pay_tx_during"

    pipeline.clock.advance_to(pipeline.clock.now() + 3601)
    _pay(merchant, operator, key, "tx_after", receiver.url("/after"))
    pipeline.run()
    after = receiver.to("/after")[0]
    assert _verifies(new.encode(), after) and not _verifies(old.encode(), after)
