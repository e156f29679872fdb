"""The fake AWS identity of every local process, and a fresh moto account.

One definition for the test suite (in-process moto), the benchmarks, the build probe and the
local sandbox (moto server): only the region and the key name differ between them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# A developer's real profile, session or endpoint must never reach a fake account.
REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE", "AWS_ENDPOINT_URL")


def fake_aws_environment(region: str = "eu-west-1", key: str = "testing") -> dict[str, str]:
    """Region and credentials for an emulated account (moto accepts any key)."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": key,
        # botocore 1.44 routes DynamoDB (Streams) to an account-scoped endpoint moto does not serve.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


def handler_environment(service: str, operator_token: str, webhook_secret: str) -> dict[str, str]:
    """What the template gives every function, for handlers run in this process."""
    return {
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_METRICS_NAMESPACE": service,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "SERVICE_AUTH_TOKEN": operator_token,
        "WEBHOOK_SECRET": webhook_secret,
        "ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
        "PAYMENTS_TABLE": "Payments",
        "WEBHOOK_LOGS_TABLE": "WebhookLogs",
        "TEAMS_TABLE": "Teams",
    }


def use_fake_aws(fake: Mapping[str, str], *, clear: tuple[str, ...] = REAL_AWS_VARIABLES) -> None:
    """Put ``fake`` into this process's environment, without the real-account variables.

    Call it before anything imports boto3: module-level clients read the environment once.
    """
    for name in clear:
        os.environ.pop(name, None)
    os.environ.update(fake)


@contextmanager
def moto_account() -> Iterator[Any]:
    """A fresh in-process moto account holding the template's tables; yields a DynamoDB client."""
    import boto3
    from moto import mock_aws

    from paysandbox.settings import get_settings
    from sandbox.template import create_tables

    get_settings.cache_clear()
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client)
        yield client
    get_settings.cache_clear()
