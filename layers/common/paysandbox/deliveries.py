"""Webhook deliveries: the sender's two entry points and one attempt (docs/webhooks.md).

Flow: a stream record of a transition into a terminal status becomes an *event* (stable
id per payment and status, body frozen at first sight: ``webhook_events``) and attempt 1 of
chain 0 is sent at once. A failed attempt puts a *job* ``{payment_id, event_id, chain,
attempt, not_before}`` on the SQS retry queue (``retry_queue``); the job runs the next
attempt. After the last attempt the job is sent to the dead-letter queue and the payment
shows ``webhook_status=failed`` (``webhook_schedule``). Every attempt is claimed in
WebhookLogs before it is sent, so a duplicate stream record or a redelivered SQS message
never sends the same attempt twice. The operator's views live in ``delivery_views``.

DynamoDB requests of a first attempt that is delivered: 3 writes. The claim (which also
stores the event as first seen: no separate event item), the payment's ``webhook_status``,
and the attempt's result together with its ``scheduled`` mark. Why not 2, with the last two
in one ``TransactWriteItems``: a transaction bills every item at twice the write units, so
one request fewer would cost more (docs/benchmarks.md, "Webhook sender: 3 writes").
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from paysandbox import clock, signatures
from paysandbox.repository import deliveries as store
from paysandbox.repository import events as event_store
from paysandbox.retry_queue import enqueue
from paysandbox.settings import get_settings
from paysandbox.webhook_events import event_from_attempt, event_of_record, signing_secrets
from paysandbox.webhook_schedule import delivery_status, parse_retry_after, schedule_next
from paysandbox.webhook_transport import Response, send

logger = Logger(child=True)
metrics = Metrics()

NOT_BEFORE_SLACK = 1.0  # a job this close to its time runs now instead of hopping again


def handle_stream_record(record: dict[str, Any]) -> str:
    """Turn one Payments stream record into an event and send its first attempt."""
    event = event_of_record(record)
    if event is None:
        return "ignored"
    # The claim of attempt 1 stores this event; a duplicate record finds the claim (the event
    # as first seen) and sends nothing. A duplicate carries the same image, hence the same body.
    return attempt(event, chain=0, number=1)


def handle_job(job: dict[str, Any]) -> str:
    """Run one retry job from the SQS queue (or hop it forward when it is early)."""
    payment_id, event_id = str(job["payment_id"]), str(job["event_id"])
    chain, number, not_before = int(job["chain"]), int(job["attempt"]), float(job["not_before"])
    wait = not_before - clock.now_epoch()
    if wait > NOT_BEFORE_SLACK:
        enqueue(job, wait)
        return "hopped"
    first = store.get_event(payment_id, event_id)
    if first is None:
        # Retention (TTL) removed the event: nothing left to deliver.
        logger.warning("retry job for a vanished event", extra={"payment_id": payment_id, "event_id": event_id})
        return "vanished"
    return attempt(event_from_attempt(first), chain=chain, number=number)


@dataclass(frozen=True)
class Sent:
    """One attempt's request and the receiver's answer, classified."""

    response: Response
    headers: dict[str, str]
    outcome: str  # "delivered" | "gone" | "failed"
    retry_after: float | None


def attempt(event: dict[str, Any], *, chain: int, number: int) -> str:
    """Claim, send and record one attempt, then schedule what follows. Returns the outcome."""
    payment_id, event_id = event["payment_id"], event["event_id"]
    signing = signing_secrets(payment_id)
    if not signing:
        logger.info("webhook of a deleted team dropped", extra={"payment_id": payment_id, "event_id": event_id})
        return "team_deleted"
    now = clock.now_epoch()
    claimed = store.claim_attempt(_claim(event, chain, number, now), now)
    if not claimed.won:
        return _claimed_before(event, chain, number, claimed.found, now)
    sent = _send(event, signing)
    _record_and_schedule(event, chain, number, sent)
    return sent.outcome


def _claim(event: dict[str, Any], chain: int, number: int, now: float) -> dict[str, Any]:
    """The attempt's claim item; the claim of a chain's first attempt is also the event's record."""
    claim = {
        "payment_id": event["payment_id"],
        "sk": store.attempt_sk(event["event_id"], chain, number),
        "event_id": event["event_id"],
        "event": event["event_type"],
        "status": event["status"],
        "chain": chain,
        "attempt_number": number,
        "url": event["url"],
        "payload": event["payload"],
        "at": event["at"],
        "state": "sending",
        # Longer than any send can take; after it a crashed sender's claim may be retaken.
        "lease_until": now + 2 * get_settings().webhook_timeout_seconds + 30,
        "timestamp": now,
        "ttl": event.get("ttl"),
    }
    if chain == 0 and number == 1:  # the event as first seen: also the events API's record of it
        claim.update(event_store.index_fields(event.get("team") or "default", event["event_id"], now))
    return claim


def _claimed_before(event: dict[str, Any], chain: int, number: int, existing: dict[str, Any], now: float) -> str:
    """This attempt was already made (or is being made) by an earlier copy of this job."""
    payment_id, event_id = event["payment_id"], event["event_id"]
    if existing.get("state") == "sending":
        # Unknown yet: in flight elsewhere, or its sender crashed. Look again once the
        # lease is over (then the claim can be retaken), so a crash never strands an event.
        lease_until = float(existing.get("lease_until") or now)
        job = {"payment_id": payment_id, "event_id": event_id, "chain": chain, "attempt": number}
        enqueue({**job, "not_before": lease_until}, lease_until - now)
        return "deferred"
    if not existing.get("scheduled"):
        # Its sender recorded the answer but failed before scheduling what follows (and
        # before counting the attempt on the payment): finish that, without sending again.
        schedule_next(event, chain, number, existing["outcome"], existing.get("retry_after_s"))
        store.update_attempt(payment_id, store.attempt_sk(event_id, chain, number), {"scheduled": True})
    return "duplicate"


def _send(event: dict[str, Any], signing: list[str]) -> Sent:
    """Sign and send the event; classify the answer."""
    # The signature's timestamp is the real send time: receivers check it against their clock.
    raw, headers = signatures.sign(
        signing, json.loads(event["payload"]), event["event_id"], event["event_type"], time.time()
    )
    response = send(event["url"], raw, headers, get_settings().webhook_timeout_seconds)
    if response.status is not None and 200 <= response.status < 300:
        outcome = "delivered"
    elif response.status == 410:
        outcome = "gone"
    else:
        outcome = "failed"
    retry_after = None
    if response.status in (429, 503):
        retry_after = parse_retry_after(response.retry_after, clock.now_epoch())
    return Sent(response, headers, outcome, retry_after)


def _record_and_schedule(event: dict[str, Any], chain: int, number: int, sent: Sent) -> None:
    """Schedule what follows, then record the answer with its ``scheduled`` mark (one write).

    What follows (payment status, next job or DLQ) is written before the result, so the
    result and its mark are one write. A crash in between leaves the claim "sending": after
    its lease the attempt is sent again (at least once, as for a crash mid-send) and
    scheduling is repeated harmlessly (claims dedupe the next attempt).
    """
    payment_id, event_id = event["payment_id"], event["event_id"]
    sk = store.attempt_sk(event_id, chain, number)
    result = _result(sent)
    metrics.add_metric(name="DeliveryLatency", unit=MetricUnit.Milliseconds, value=sent.response.duration_ms)
    logged = _log_fields(event, chain, number, sent)
    try:
        # One line per attempt, saying what comes next (the local terminal shows it as such).
        after = schedule_next(event, chain, number, sent.outcome, sent.retry_after)
    except Exception:
        # A failed write is not a crash: record the answer without the mark, so the retry of
        # this record or job finds it and only schedules, without sending again.
        store.update_attempt(payment_id, sk, result)
        logger.info("webhook attempt", extra={**logged, "next": "unscheduled"})
        raise
    logged.update(after)
    logger.info("webhook attempt", extra=logged)
    # What comes next is kept with the result, so the console can say when a retry is due.
    result["next"] = after["next"]
    if "retry_in_s" in after:
        result["next_attempt_at"] = clock.now_epoch() + after["retry_in_s"]
    delivery = delivery_status(sent.outcome, logged["next"])
    first = chain == 0 and number == 1
    if first:  # the event's record is this item: its delivery is part of the same write
        result.update(delivery_status=delivery, delivery_attempts=1, last_response_status=sent.response.status)
    store.update_attempt(payment_id, sk, {**result, "scheduled": True})
    if not first:
        status = sent.response.status
        event_store.record_delivery(payment_id, store.attempt_sk(event_id, 0, 1), delivery, status, attempts=1)


def _result(sent: Sent) -> dict[str, Any]:
    """The attempt item's fields once the answer is in (the signature headers, never the secret)."""
    response = sent.response
    return {
        "state": "done",
        "outcome": sent.outcome,
        "success": sent.outcome == "delivered",
        "headers": {k: v for k, v in sent.headers.items() if k != "Content-Type"},
        "response_status": response.status,
        "response_body": response.body,
        "error": response.error,
        "duration_ms": response.duration_ms,
        "retry_after_s": sent.retry_after,
        "lease_until": None,
    }


def _log_fields(event: dict[str, Any], chain: int, number: int, sent: Sent) -> dict[str, Any]:
    """The attempt's log line (the target without its query: it can carry merchants' tokens)."""
    return {
        "payment_id": event["payment_id"],
        "event_id": event["event_id"],
        "event": event["event_type"],
        "target": event["url"].split("?", 1)[0].split("#", 1)[0],
        "chain": chain,
        "attempt": number,
        "outcome": sent.outcome,
        "response_status": sent.response.status,
        "error": sent.response.error,
        "duration_ms": sent.response.duration_ms,
    }
