"""Webhook events: build, sign, send, record, and schedule retries (SPEC §5).

Flow: a stream record of a transition into a terminal status becomes an *event* (stable
id per payment and status, body frozen at first sight) and attempt 1 of chain 0 is sent
at once. A failed attempt puts a *job* ``{payment_id, event_id, chain, attempt,
not_before}`` on the SQS retry queue; the job runs the next attempt. After the last
attempt the job is sent to the dead-letter queue and the payment shows
``webhook_status=failed``. Every attempt is claimed in WebhookLogs before it is sent, so
a duplicate stream record or a redelivered SQS message never sends the same attempt twice.

DynamoDB requests of a first attempt that is delivered: 3 writes. The claim (which also
stores the event as first seen: no separate event item), the payment's ``webhook_status``,
and the attempt's result together with its ``scheduled`` mark. Why not 2, with the last two
in one ``TransactWriteItems``: a transaction bills every item at twice the write units, so
one request fewer would cost more (docs/benchmarks.md, "Webhook sender: 3 writes").
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from paysandbox import clock, refund_events, scope, signatures
from paysandbox.errors import Conflict, PaySandboxError
from paysandbox.repository import deliveries as store
from paysandbox.repository import events as event_store
from paysandbox.repository import from_item
from paysandbox.secrets import webhook_secret
from paysandbox.settings import get_settings
from paysandbox.states import OPERATOR_DECLINE, TERMINAL, V2_NAMES, Status
from paysandbox.webhook_transport import send

logger = Logger(child=True)
metrics = Metrics()

EVENT_TYPES = {
    Status.PAID: "payment.completed",
    Status.FAILED: "payment.failed",
    Status.EXPIRED: "payment.expired",
    Status.REFUNDED: "payment.refunded",
}
STATUS_OF_EVENT_TYPE = {event_type: status.value for status, event_type in EVENT_TYPES.items()}
SQS_MAX_DELAY = 900  # seconds: SQS DelaySeconds limit; longer waits hop through the queue
NOT_BEFORE_SLACK = 1.0  # a job this close to its time runs now instead of hopping again


class QueueNotConfigured(PaySandboxError):
    status = 500
    code = "queue_not_configured"


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


# ------------------------------------------------------------------ events


def event_id_for(payment_id: str, status: str) -> str:
    """Stable per payment and transition: a payment enters each terminal status at most once."""
    return "evt_" + hashlib.sha256(f"{payment_id}|{status}".encode()).hexdigest()[:32]


def event_body(payment: dict[str, Any], event_id: str, event_type: str | None = None) -> dict[str, Any]:
    """The SPEC §5 body in the payment's flavour (``event_type``: default, the status's)."""
    status = Status(payment["status"])
    event_type = event_type or EVENT_TYPES[status]
    timestamp = clock.iso(payment["updated_at"])  # when the transition was written
    if payment.get("flavour") == "v2":
        paid_at = payment.get("paid_at")
        body = {
            "event": event_type,
            "event_id": event_id,
            "payment_id": scope.public_id(payment["payment_id"]),
            "tx_id": payment.get("tx_id"),
            "order_id": payment.get("order_id"),
            "user_id": payment.get("user_id"),
            "amount": payment["amount"],
            "status": V2_NAMES[status],
            "confirmed_at": clock.iso(paid_at) if paid_at is not None else None,
            "timestamp": timestamp,
        }
    else:
        body = {
            "payment_id": scope.public_id(payment["payment_id"]),
            "reference": payment.get("reference"),
            "amount": payment["amount"],
            "status": status.value,
            "timestamp": timestamp,
            # Always a string: AcquireMock's example merchants declare ``card_mask: str``.
            "card_mask": payment.get("card_mask") or "",
            "event_id": event_id,
            "event": event_type,
        }
    if status is Status.FAILED:
        # Why it failed, so a shop testing its decline handling need not poll for it.
        body["decline_code"] = payment.get("decline_code") or ""
        if payment.get("decline_code") == OPERATOR_DECLINE:
            body["reason"] = payment.get("failure_reason") or ""
    return body


def is_terminal_transition(record: dict[str, Any]) -> bool:
    """The stream filter's rule, re-checked in code (the local runtime may not filter)."""
    if record.get("eventName") != "MODIFY":
        return False
    images = record.get("dynamodb", {})
    new = images.get("NewImage", {}).get("status", {}).get("S")
    old = images.get("OldImage", {}).get("status", {}).get("S")
    return new in {s.value for s in TERMINAL} and new != old


def handle_stream_record(record: dict[str, Any]) -> str:
    """Turn one Payments stream record into an event and send its first attempt.

    A refund's record is that refund's event (even when it also moved the payment to
    ``refunded``): one change, one event (``refund_events``).
    """
    refund_id = refund_events.refund_id_of(record)
    if refund_id is None and not is_terminal_transition(record):
        return "ignored"
    payment = from_item(record["dynamodb"]["NewImage"])
    if refund_id is None:
        event_id = event_id_for(payment["payment_id"], payment["status"])
        event_type = EVENT_TYPES[Status(payment["status"])]
        body = event_body(payment, event_id)
    else:
        refund = refund_events.refund_of(payment, refund_id)
        event_id = event_id_for(payment["payment_id"], f"refund:{refund_id}")
        event_type = refund_events.event_type_of(refund)
        body = refund_events.with_refund(event_body(payment, event_id, event_type), payment, refund)
    event = {
        "payment_id": payment["payment_id"],
        "event_id": event_id,
        "event_type": event_type,
        "status": payment["status"],
        "url": payment["webhook_url"],
        "payload": signatures.serialise(body).decode(),
        "at": payment["updated_at"],
        "ttl": payment.get("ttl"),
        "team": scope.team_of(payment["payment_id"]),
    }
    # The claim of attempt 1 stores this event; a duplicate record finds the claim (the event
    # as first seen) and sends nothing. A duplicate carries the same image, hence the same body.
    return attempt(event, chain=0, number=1)


def event_from_attempt(item: dict[str, Any]) -> dict[str, Any]:
    """The event an attempt item carries (every claim stores it; see ``attempt``)."""
    return {
        "payment_id": item["payment_id"],
        "event_id": item["event_id"],
        "event_type": item["event"],
        # Refund events keep the payment's status after the refund (a partial one: paid).
        "status": item.get("status") or STATUS_OF_EVENT_TYPE[item["event"]],
        "url": item["url"],
        "payload": item["payload"],
        "at": item.get("at", item.get("timestamp")),  # claims made before "at" was stored
        "ttl": item.get("ttl"),
        "team": item.get("event_team") or "default",
    }


# ------------------------------------------------------------------ retry jobs


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


def enqueue(job: dict[str, Any], delay: float) -> None:
    url = get_settings().webhook_retry_queue_url
    if not url:
        raise QueueNotConfigured("WEBHOOK_RETRY_QUEUE_URL is not set.")
    _sqs().send_message(
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
    _sqs().send_message(QueueUrl=url, MessageBody=json.dumps({**job, "final": outcome}, sort_keys=True))


RETRY_AFTER_CEILING = 3600  # seconds (SPEC §5): a later Retry-After is retried at the ceiling


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


# ------------------------------------------------------------------ one attempt


def signing_secrets(payment_key: str) -> list[str]:
    """The secrets of the payment's team: WEBHOOK_SECRET for the default team; a team's
    current secret, plus its previous one during a roll's overlap (SPEC §11). None for a
    deleted team: nothing of it is signed any more."""
    team_id = scope.team_of(payment_key)
    if team_id == scope.DEFAULT_TEAM:
        return [webhook_secret()]
    from paysandbox import teams, tenancy

    team = tenancy.team_item(team_id)
    return teams.signing_secrets(team, clock.now_epoch()) if team is not None else []


def attempt(event: dict[str, Any], *, chain: int, number: int) -> str:
    """Claim, send and record one attempt, then schedule what follows. Returns the outcome."""
    settings = get_settings()
    payment_id, event_id = event["payment_id"], event["event_id"]
    sk = store.attempt_sk(event_id, chain, number)
    signing = signing_secrets(payment_id)
    if not signing:
        logger.info("webhook of a deleted team dropped", extra={"payment_id": payment_id, "event_id": event_id})
        return "team_deleted"
    now = clock.now_epoch()
    claim = {
        "payment_id": payment_id,
        "sk": sk,
        "event_id": event_id,
        "event": event["event_type"],
        "status": event["status"],
        "chain": chain,
        "attempt_number": number,
        "url": event["url"],
        "payload": event["payload"],
        "at": event["at"],
        "state": "sending",
        # Longer than any send can take; after it a crashed sender's claim may be retaken.
        "lease_until": now + 2 * settings.webhook_timeout_seconds + 30,
        "timestamp": now,
        "ttl": event.get("ttl"),
    }
    first = chain == 0 and number == 1
    if first:  # the event as first seen: also the events API's record of it
        claim.update(event_store.index_fields(event.get("team") or "default", event_id, now))
    claimed = store.claim_attempt(claim, now)
    if not claimed.won:
        existing = claimed.found
        # This attempt was already made (or is being made) by an earlier copy of this job.
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
            _schedule_next(event, chain, number, existing["outcome"], existing.get("retry_after_s"))
            store.update_attempt(payment_id, sk, {"scheduled": True})
        return "duplicate"

    # The signature's timestamp is the real send time: receivers check it against their clock.
    sent_at = time.time()
    raw, headers = signatures.sign(signing, json.loads(event["payload"]), event_id, event["event_type"], sent_at)
    response = send(event["url"], raw, headers, settings.webhook_timeout_seconds)
    if response.status is not None and 200 <= response.status < 300:
        outcome = "delivered"
    elif response.status == 410:
        outcome = "gone"
    else:
        outcome = "failed"
    retry_after = None
    if response.status in (429, 503):
        retry_after = parse_retry_after(response.retry_after, clock.now_epoch())
    result = {
        "state": "done",
        "outcome": outcome,
        "success": outcome == "delivered",
        "headers": {k: v for k, v in headers.items() if k != "Content-Type"},
        "response_status": response.status,
        "response_body": response.body,
        "error": response.error,
        "duration_ms": response.duration_ms,
        "retry_after_s": retry_after,
        "lease_until": None,
    }
    metrics.add_metric(name="DeliveryLatency", unit=MetricUnit.Milliseconds, value=response.duration_ms)
    logged = {
        "payment_id": payment_id,
        "event_id": event_id,
        "event": event["event_type"],
        "target": _without_query(event["url"]),
        "chain": chain,
        "attempt": number,
        "outcome": outcome,
        "response_status": response.status,
        "error": response.error,
        "duration_ms": response.duration_ms,
    }
    # What follows (payment status, next job or DLQ) is written before the result, so the
    # result and its "scheduled" mark are one write. A crash in between leaves the claim
    # "sending": after its lease the attempt is sent again (at least once, as for a crash
    # mid-send) and scheduling is repeated harmlessly (claims dedupe the next attempt).
    try:
        # One line per attempt, saying what comes next (the local terminal shows it as such).
        after = _schedule_next(event, chain, number, outcome, retry_after)
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
    delivery = _delivery_status(outcome, logged["next"])
    if first:  # the event's record is this item: its delivery is part of the same write
        result.update(delivery_status=delivery, delivery_attempts=1, last_response_status=response.status)
    store.update_attempt(payment_id, sk, {**result, "scheduled": True})
    if not first:
        event_store.record_delivery(payment_id, store.attempt_sk(event_id, 0, 1), delivery, response.status, attempts=1)
    return outcome


def _delivery_status(outcome: str, next_step: str) -> str:
    """The event's delivery as the events API shows it: pending while a retry is due."""
    if outcome in ("delivered", "gone"):
        return outcome
    return "pending" if next_step == "retry" else "failed"


def _without_query(url: str) -> str:
    """A target as logs may show it: query strings and fragments can carry merchants' tokens."""
    return url.split("?", 1)[0].split("#", 1)[0]


def _schedule_next(
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
        # is never silently dropped (SPEC: every event ends delivered or dead-lettered).
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
    store.set_payment_webhook_status(payment_id, event["status"], webhook_status, add_attempts=1)
    return after


# ------------------------------------------------------------------ operator views
# Only the operator API reaches these; the sender's hot path never imports the pydantic
# models that ``payments.get_payment`` brings, so they are imported here, lazily.


def delivery_log(payment_id: str, team: str = scope.DEFAULT_TEAM) -> list[dict[str, Any]]:
    """Every attempt of a team's payment, oldest first, in the SPEC §5 log shape (never the secret)."""
    from paysandbox.payments import get_payment

    payment_id = get_payment(payment_id, team).payment_id  # 404 for an unknown payment
    attempts = sorted(store.attempts_of(payment_id), key=lambda a: (a.get("timestamp", 0), a["sk"]))
    return [_attempt_view(a) for a in attempts]


def _attempt_view(item: dict[str, Any]) -> dict[str, Any]:
    try:
        payload: Any = json.loads(item.get("payload") or "null")
    except ValueError:
        payload = item.get("payload")
    return {
        "payment_id": scope.public_id(item["payment_id"]),
        "event_id": item.get("event_id"),
        "event": item.get("event"),
        "chain": item.get("chain"),
        "attempt_number": item.get("attempt_number"),
        "url": item.get("url"),
        "payload": payload,
        "signature_headers": item.get("headers") or {},
        "response_status": item.get("response_status"),
        "response_body": item.get("response_body"),
        "error": item.get("error"),
        "duration_ms": item.get("duration_ms"),
        "success": bool(item.get("success")),
        "outcome": item.get("outcome") or "sending",
        # After this attempt: "none" (delivered), "retry" (due at next_attempt_at) or "dead_letter".
        "next": item.get("next"),
        "next_attempt_at": clock.iso(item["next_attempt_at"]) if item.get("next_attempt_at") else None,
        "timestamp": clock.iso(item["timestamp"]) if item.get("timestamp") is not None else None,
    }


def redeliver(payment_id: str, team: str = scope.DEFAULT_TEAM) -> dict[str, Any]:
    """Start a new attempt chain for a team's payment's latest event (through the retry queue)."""
    from paysandbox.payments import get_payment

    payment_id = get_payment(payment_id, team).payment_id
    events = store.events_of(payment_id)
    if not events:
        raise Conflict("This payment has no webhook event yet.", code="no_webhook_event")
    return start_chain(max(events, key=lambda e: (e.get("at") or 0, e.get("timestamp") or 0)))


def start_chain(first_attempt: dict[str, Any]) -> dict[str, Any]:
    """A new attempt chain for the event that ``first_attempt`` (its stored record) carries."""
    latest = event_from_attempt(first_attempt)
    payment_id = latest["payment_id"]
    chain = store.new_chain(payment_id, latest["event_id"], latest["ttl"])
    job = {
        "payment_id": payment_id,
        "event_id": latest["event_id"],
        "chain": chain,
        "attempt": 1,
        "not_before": clock.now_epoch(),
    }
    enqueue(job, 0)
    event_store.record_delivery(payment_id, first_attempt["sk"], "pending", None, attempts=0)
    store.set_payment_webhook_status(payment_id, latest["status"], "pending")
    return {"payment_id": scope.public_id(payment_id), "event_id": latest["event_id"], "chain": chain}
