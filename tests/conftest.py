"""Shared test set-up: a moto-mocked AWS with the template's own tables, handler loading by
path (every function's module is called ``app``), and API Gateway events.

Environment is fixed before anything imports boto3, so module-level clients in the layer
see the fake region and credentials.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]

TEST_ENV = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # botocore 1.44 routes DynamoDB Streams to an account-scoped endpoint moto does not serve.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_SERVICE_NAME": "paysandbox-tests",
    "POWERTOOLS_METRICS_NAMESPACE": "PaySandboxTests",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "SERVICE_AUTH_TOKEN": "test-operator-token",
    "WEBHOOK_SECRET": "test-webhook-secret",
    "ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
    "PAYMENTS_TABLE": "Payments",
    "WEBHOOK_LOGS_TABLE": "WebhookLogs",
}
os.environ.update(TEST_ENV)
for _leaked in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "PAYMENT_WEBHOOK_SECRET"):
    os.environ.pop(_leaked, None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402  (imported before any handler creates a client)

from sandbox.template import create_tables  # noqa: E402
from tests.support import Api  # noqa: E402


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh mocked AWS account holding the template's tables."""
    from paysandbox.settings import get_settings

    get_settings.cache_clear()
    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        yield
    get_settings.cache_clear()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change environment-derived settings for one test."""
    from paysandbox.settings import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def merchant(aws: None) -> Api:
    return Api("create_payment")


@pytest.fixture
def operator(aws: None) -> Api:
    return Api("confirm")
