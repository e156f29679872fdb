"""Configuration from the environment, parsed and validated once per process."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field, field_validator


class Settings(BaseModel):
    payments_table: str = "Payments"
    webhook_logs_table: str = "WebhookLogs"
    stage: str = "local"
    payment_ttl_seconds: int = Field(default=900, ge=1)
    retention_days: int = Field(default=30, ge=1)
    webhook_max_attempts: int = Field(default=5, ge=1, le=50)
    webhook_retry_delays: tuple[int, ...] = (10, 60, 300, 1800)
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    allow_private_webhook_targets: bool = False
    sandbox_show_otp: bool = True
    ses_sender: str = ""
    public_base_url: str = ""
    webhook_secret_arn: str = ""
    service_auth_token_arn: str = ""
    # Webhook retries (SQS): jobs wait here between attempts; exhausted jobs go to the DLQ.
    webhook_retry_queue_url: str = ""
    webhook_dead_letter_queue_url: str = ""

    @field_validator("webhook_retry_delays", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            return tuple(int(p) for p in parts) or (10,)
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86400


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment variables named like the fields, upper-case).

    Tests that change the environment call ``get_settings.cache_clear()``.
    """
    values = {name: os.environ[name.upper()] for name in Settings.model_fields if name.upper() in os.environ}
    return Settings.model_validate(values)
