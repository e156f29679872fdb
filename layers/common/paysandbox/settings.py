"""Configuration from the environment, parsed and validated once per process.

A plain frozen dataclass rather than a pydantic model: a dozen environment variables need
no schema machinery, and the first pydantic model a process builds costs tens of
milliseconds of cold start in every function, the expirer included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any


class ConfigurationError(ValueError):
    """An environment variable holds a value the service cannot run with."""


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _delays(raw: str) -> tuple[int, ...]:
    delays = tuple(int(part) for part in raw.split(",") if part.strip())
    if not delays or min(delays) < 0:
        raise ValueError("expected comma-separated non-negative seconds")
    return delays


def _int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(f"expected an integer from {minimum}" + (f" to {maximum}" if maximum else ""))
        return value

    return parse


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("expected a positive number")
    return value


@dataclass(frozen=True)
class Settings:
    # No default: a missing variable must fail (repository.required_table), not silently
    # target some table of a default name in the account.
    payments_table: str = ""
    webhook_logs_table: str = ""
    teams_table: str = ""
    # REQUIRE_API_KEYS: a merchant request without a team key is refused (401 api_key_required).
    require_api_keys: bool = False
    stage: str = "local"
    payment_ttl_seconds: int = 900
    retention_days: int = 30
    webhook_max_attempts: int = 5
    webhook_retry_delays: tuple[int, ...] = (10, 60, 300, 1800)
    webhook_timeout_seconds: float = 10.0
    allow_private_webhook_targets: bool = False
    sandbox_show_otp: bool = True
    ses_sender: str = ""
    public_base_url: str = ""
    webhook_secret_arn: str = ""
    service_auth_token_arn: str = ""
    # Webhook retries (SQS): jobs wait here between attempts; exhausted jobs go to the DLQ.
    webhook_retry_queue_url: str = ""
    webhook_dead_letter_queue_url: str = ""

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86400

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = environ.get(field.name.upper())
            if raw is None:
                continue
            parse = _PARSERS.get(field.name, str)
            try:
                values[field.name] = parse(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{field.name.upper()}={raw!r}: {exc}") from None
        return cls(**values)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "payment_ttl_seconds": _int_at_least(1),
    "retention_days": _int_at_least(1),
    "webhook_max_attempts": _int_at_least(1, 50),
    "webhook_retry_delays": _delays,
    "webhook_timeout_seconds": _positive_float,
    "allow_private_webhook_targets": _boolean,
    "sandbox_show_otp": _boolean,
    "require_api_keys": _boolean,
    "public_base_url": lambda raw: raw.rstrip("/"),
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment variables named like the fields, upper-case).

    Tests that change the environment call ``get_settings.cache_clear()``.
    """
    return Settings.from_environment(os.environ)
