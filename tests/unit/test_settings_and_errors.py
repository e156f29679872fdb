"""Environment parsing and the one JSON error shape."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paysandbox.errors import BadRequest, Conflict, NotFound, PaySandboxError, Throttled, Unauthorized, ValidationFailed
from paysandbox.settings import get_settings


def test_settings_come_from_the_environment(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("PAYMENT_TTL_SECONDS", "120")
    settings_env.setenv("WEBHOOK_RETRY_DELAYS", " 1, 2 ,3 ")
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "false")
    settings_env.setenv("PUBLIC_BASE_URL", "https://pay.example.com/")
    settings = get_settings()
    assert settings.payment_ttl_seconds == 120
    assert settings.webhook_retry_delays == (1, 2, 3)
    assert settings.allow_private_webhook_targets is False
    assert settings.public_base_url == "https://pay.example.com"


def test_settings_are_parsed_once(settings_env: pytest.MonkeyPatch) -> None:
    first = get_settings()
    settings_env.setenv("PAYMENT_TTL_SECONDS", "61")
    assert get_settings() is first


def test_bad_configuration_fails_loudly(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("PAYMENT_TTL_SECONDS", "soon")
    with pytest.raises(ValidationError):
        get_settings()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadRequest, 400),
        (Unauthorized, 401),
        (NotFound, 404),
        (Conflict, 409),
        (ValidationFailed, 422),
        (Throttled, 429),
    ],
)
def test_each_domain_error_has_its_status_and_the_one_shape(error: type[PaySandboxError], status: int) -> None:
    raised = error("Something is off.")
    assert raised.status == status
    assert raised.to_body() == {"error": {"code": raised.code, "message": "Something is off."}}


def test_codes_and_details_can_be_specific() -> None:
    raised = Conflict("Key reused.", code="idempotency_key_reused", details=[{"field": "x", "problem": "y"}])
    assert raised.to_body()["error"] == {
        "code": "idempotency_key_reused",
        "message": "Key reused.",
        "details": [{"field": "x", "problem": "y"}],
    }
