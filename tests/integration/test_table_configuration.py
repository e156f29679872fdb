"""Table names come only from the environment: a missing variable fails with its name instead
of silently using a table called "Payments" or "WebhookLogs" in whatever account it runs in."""

from __future__ import annotations

import pytest

from paysandbox.repository import TableNotConfigured
from paysandbox.repository import payments as store
from paysandbox.settings import get_settings
from tests.support import OPERATOR, Api, on_payment, stored_payments, v2_body


def test_without_payments_table_nothing_is_written_and_the_error_names_the_variable(
    merchant: Api, settings_env: pytest.MonkeyPatch
) -> None:
    settings_env.delenv("PAYMENTS_TABLE")
    with pytest.raises(TableNotConfigured, match="PAYMENTS_TABLE"):
        merchant.call("POST", "/api/v2/payments", v2_body())
    assert stored_payments() == []  # the table named "Payments" exists here and stayed empty


def test_without_webhook_logs_table_the_delivery_log_names_the_variable(
    merchant: Api, operator: Api, settings_env: pytest.MonkeyPatch
) -> None:
    assert merchant.call("POST", "/api/v2/payments", v2_body())[0] == 200
    settings_env.delenv("WEBHOOK_LOGS_TABLE")
    get_settings.cache_clear()
    with pytest.raises(TableNotConfigured, match="WEBHOOK_LOGS_TABLE"):
        on_payment(operator, "GET", "pay_tx-1001", "/webhooks", headers=OPERATOR)


def test_an_expiry_condition_outside_the_two_names_is_refused(merchant: Api) -> None:
    assert merchant.call("POST", "/api/v2/payments", v2_body())[0] == 200
    with pytest.raises(KeyError):
        store.update_if(
            "pay_tx-1001",
            from_statuses={"pending"},
            set_values={"note": "x"},
            expiry_condition="unexpried",  # type: ignore[arg-type]
            now=0,
        )
    assert "note" not in stored_payments()[0]
