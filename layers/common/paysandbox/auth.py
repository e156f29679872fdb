"""Operator authentication: ``Authorization: Bearer <SERVICE_AUTH_TOKEN>``."""

from __future__ import annotations

import hmac

from paysandbox.errors import Unauthorized
from paysandbox.secrets import service_auth_token


def require_operator(authorization: str | None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send Authorization: Bearer <operator token>.", code="missing_token")
    # Constant-time comparison: no timing oracle on the token.
    if not hmac.compare_digest(token.strip().encode(), service_auth_token().encode()):
        raise Unauthorized("The operator token is not valid.", code="invalid_token")
