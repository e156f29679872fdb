"""Environment parsing and the one JSON error shape."""

from __future__ import annotations

import pytest

from paysandbox.errors import BadRequest, Conflict, NotFound, PaySandboxError, Unauthorized, ValidationFailed
from paysandbox.settings import ConfigurationError, get_settings


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
    with pytest.raises(ConfigurationError, match="PAYMENT_TTL_SECONDS='soon'"):
        get_settings()
    get_settings.cache_clear()
    settings_env.setenv("PAYMENT_TTL_SECONDS", "60")
    for name, raw in [
        ("WEBHOOK_MAX_ATTEMPTS", "0"),
        ("WEBHOOK_MAX_ATTEMPTS", "51"),
        ("ALLOW_PRIVATE_WEBHOOK_TARGETS", "maybe"),
        ("WEBHOOK_RETRY_DELAYS", ","),
    ]:
        settings_env.setenv(name, raw)
        with pytest.raises(ConfigurationError, match=name):
            get_settings()
        settings_env.delenv(name)
        get_settings.cache_clear()


def test_webhook_max_attempts_has_a_ceiling_of_50(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", "50")
    assert get_settings().webhook_max_attempts == 50
    get_settings.cache_clear()
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", "51")
    with pytest.raises(ConfigurationError, match="WEBHOOK_MAX_ATTEMPTS='51'"):
        get_settings()


def test_boolean_spellings(settings_env: pytest.MonkeyPatch) -> None:
    for raw, expected in [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False), ("", False)]:
        settings_env.setenv("SANDBOX_SHOW_OTP", raw)
        get_settings.cache_clear()
        assert get_settings().sandbox_show_otp is expected


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadRequest, 400),
        (Unauthorized, 401),
        (NotFound, 404),
        (Conflict, 409),
        (ValidationFailed, 422),
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
