"""What follows a webhook attempt: the next attempt's delay, the DLQ, the payment's status."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from paysandbox import clock
from paysandbox.repository import payment_webhooks
from paysandbox.retry_queue import dead_letter, enqueue
from paysandbox.settings import get_settings

logger = Logger(child=True)
metrics = Metrics()

RETRY_AFTER_CEILING = 3600  # seconds: a later Retry-After is retried at the ceiling


def retry_delay(next_attempt: int, retry_after: float | None) -> float:
    """Seconds before ``next_attempt`` (2..n): the schedule, raised to Retry-After ("no sooner
    than asked") up to the one-hour ceiling, even beyond the schedule's own maximum."""
    delays = get_settings().webhook_retry_delays
    delay = float(delays[min(next_attempt - 2, len(delays) - 1)])
    if retry_after is not None:
        delay = max(delay, min(retry_after, float(RETRY_AFTER_CEILING)))
    return delay


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def delivery_status(outcome: str, next_step: str) -> str:
    """The event's delivery as the events API shows it: pending while a retry is due."""
    if outcome in ("delivered", "gone"):
        return outcome
    return "pending" if next_step == "retry" else "failed"


def schedule_next(
    event: dict[str, Any], chain: int, number: int, outcome: str, retry_after: float | None
) -> dict[str, Any]:
    """After an attempt: enqueue the next attempt or dead-letter, then update the payment.

    The payment write comes last and counts the attempt: when anything here fails, the
    attempt is not yet counted, and the retry that finds it unscheduled counts it once.
    The caller marks the attempt ``scheduled`` once this returned. Returns what comes next,
    for the attempt's log line: ``{"next": "none" | "retry" | "dead_letter", "retry_in_s"?}``.
    """
    settings = get_settings()
    payment_id, event_id = event["payment_id"], event["event_id"]
    job = {"payment_id": payment_id, "event_id": event_id, "chain": chain}
    after: dict[str, Any] = {"next": "dead_letter"}
    if outcome == "delivered":
        after = {"next": "none"}
        webhook_status = "delivered"
        metrics.add_metric(name="Delivered", unit=MetricUnit.Count, value=1)
    elif outcome == "gone":
        # The merchant said stop: no more attempts, but the event still ends in the DLQ so it
        # is never silently dropped (every event ends delivered or dead-lettered).
        dead_letter({**job, "attempt": number}, {"outcome": outcome, "attempts": number})
        webhook_status = "gone"
        metrics.add_metric(name="Gone", unit=MetricUnit.Count, value=1)
    elif number < settings.webhook_max_attempts:
        delay = retry_delay(number + 1, retry_after)
        enqueue({**job, "attempt": number + 1, "not_before": clock.now_epoch() + delay}, delay)
        after = {"next": "retry", "retry_in_s": delay}
        webhook_status = "retrying"
        metrics.add_metric(name="Failed", unit=MetricUnit.Count, value=1)
    else:
        dead_letter({**job, "attempt": number}, {"outcome": outcome, "attempts": number})
        webhook_status = "failed"
        metrics.add_metric(name="Failed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="DeadLettered", unit=MetricUnit.Count, value=1)
        logger.warning("webhook dead-lettered", extra={"payment_id": payment_id, "event_id": event_id})
    payment_webhooks.set_payment_webhook_status(payment_id, event["status"], webhook_status, add_attempts=1)
    return after
