"""The cloud's secret path: no plain WEBHOOK_SECRET / SERVICE_AUTH_TOKEN, only the ``*_ARN``
variables the template sets, read from (moto's) Secrets Manager.

Every other test sets the plain variables, so without these the Secrets Manager read never
runs in a test.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from harness.receiver import Receiver
from harness.webhook_checks import verified_payload
from paysandbox import signatures
from tests.integration.conftest import Pipeline
from tests.support import Api, v2_body

CLOUD_TOKEN = "token-from-secrets-manager"
CLOUD_WEBHOOK_SECRET = "webhook-secret-from-secrets-manager"


@pytest.fixture
def cloud_secrets(aws: None, settings_env: pytest.MonkeyPatch) -> Iterator[None]:
    """The two secrets in Secrets Manager, their ARNs in the environment, no plain values."""
    from aws_lambda_powertools.utilities import parameters

    client = boto3.client("secretsmanager")
    token_arn = client.create_secret(Name="ServiceAuthToken", SecretString=CLOUD_TOKEN)["ARN"]
    webhook_arn = client.create_secret(Name="WebhookSecret", SecretString=CLOUD_WEBHOOK_SECRET)["ARN"]
    for plain in ("SERVICE_AUTH_TOKEN", "WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET"):
        settings_env.delenv(plain, raising=False)
    settings_env.setenv("SERVICE_AUTH_TOKEN_ARN", token_arn)
    settings_env.setenv("WEBHOOK_SECRET_ARN", webhook_arn)
    parameters.clear_caches()
    yield
    parameters.clear_caches()


def test_the_operator_token_is_the_one_in_secrets_manager(cloud_secrets: None, operator: Api) -> None:
    ok = operator.call("GET", "/api/v2/pending-payments", headers={"Authorization": f"Bearer {CLOUD_TOKEN}"})
    assert ok[0] == 200, ok[1]
    refused = operator.call("GET", "/api/v2/pending-payments", headers={"Authorization": "Bearer test-operator-token"})
    assert refused[0] == 401


def test_the_console_shows_the_webhook_secret_from_secrets_manager(cloud_secrets: None, operator: Api) -> None:
    status, body, _ = operator.call("GET", "/api/v2/console-config", headers={"Authorization": f"Bearer {CLOUD_TOKEN}"})
    assert status == 200, body
    assert body["webhook_secret_whsec"] == signatures.whsec(CLOUD_WEBHOOK_SECRET)


def test_webhooks_are_signed_with_the_secret_from_secrets_manager(
    cloud_secrets: None, pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    confirmed = operator.call(
        "POST",
        "/api/v2/confirm-payment",
        {"payment_id": "pay_tx-1001"},
        headers={"Authorization": f"Bearer {CLOUD_TOKEN}"},
    )
    assert confirmed[0] == 200, confirmed[1]

    pipeline.run()

    (request,) = receiver.requests
    verified_payload(request, CLOUD_WEBHOOK_SECRET)
