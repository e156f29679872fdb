"""The two secrets: from the environment locally, from Secrets Manager in the cloud.

Secrets Manager values are cached for a short time (Powertools parameters), so a rotated
secret is picked up within ``SECRET_CACHE_SECONDS`` without a redeploy. The parameters
module is imported only on the Secrets Manager path, keeping cold starts lean.
"""

from __future__ import annotations

import os

from paysandbox.errors import PaySandboxError
from paysandbox.settings import get_settings

SECRET_CACHE_SECONDS = 300


class SecretUnavailable(PaySandboxError):
    status = 500
    code = "secret_unavailable"


def _read(env_names: tuple[str, ...], arn: str, what: str) -> str:
    for name in env_names:
        value = os.environ.get(name)
        if value:
            return value
    if not arn:
        raise SecretUnavailable(f"The {what} is not configured.")
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(arn, max_age=SECRET_CACHE_SECONDS)
    if not isinstance(value, str) or not value:
        raise SecretUnavailable(f"The {what} is empty.")
    return value


def webhook_secret() -> str:
    """WEBHOOK_SECRET (PAYMENT_WEBHOOK_SECRET is accepted as its alias)."""
    return _read(("WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET"), get_settings().webhook_secret_arn, "webhook secret")


def service_auth_token() -> str:
    return _read(("SERVICE_AUTH_TOKEN",), get_settings().service_auth_token_arn, "operator token")
