"""The webhook queues: retry jobs and dead letters (the only module that calls SQS).

A job is ``{payment_id, event_id, chain, attempt, not_before}``; the sender runs it as the
next attempt (``deliveries.handle_job``).
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import boto3

from paysandbox.errors import PaySandboxError
from paysandbox.settings import get_settings

SQS_MAX_DELAY = 900  # seconds: SQS DelaySeconds limit; longer waits hop through the queue


class QueueNotConfigured(PaySandboxError):
    status = 500
    code = "queue_not_configured"


@cache
def sqs_client() -> Any:
    return boto3.client("sqs")


def enqueue(job: dict[str, Any], delay: float) -> None:
    """Put a retry job on the queue, visible after ``delay`` seconds (at most SQS's 900)."""
    url = get_settings().webhook_retry_queue_url
    if not url:
        raise QueueNotConfigured("WEBHOOK_RETRY_QUEUE_URL is not set.")
    sqs_client().send_message(
        QueueUrl=url, MessageBody=json.dumps(job, sort_keys=True), DelaySeconds=min(SQS_MAX_DELAY, math.ceil(delay))
    )


def dead_letter(job: dict[str, Any], outcome: dict[str, Any]) -> None:
    """Put an exhausted job in the DLQ ourselves.

    Why not let the retry queue's redrive do it: redrive moves a message only after the
    consumer *failed* it ``maxReceiveCount`` times, which would mean failing a batch item on
    purpose and burning receives; and a chain that ends at attempt 1 (from the stream) has no
    SQS message at all. Sending it here is immediate and carries the final outcome. The
    redrive policy stays as the net for jobs the consumer cannot process at all.
    """
    url = get_settings().webhook_dead_letter_queue_url
    if not url:
        raise QueueNotConfigured("WEBHOOK_DEAD_LETTER_QUEUE_URL is not set.")
    sqs_client().send_message(QueueUrl=url, MessageBody=json.dumps({**job, "final": outcome}, sort_keys=True))
