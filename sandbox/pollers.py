"""Event source mappings and schedules, as threads that invoke the real handlers.

Each poller reads what the template's event says of it (batch size, filters, starting
position, retry limits, failure destination, response types) and behaves as Lambda's
poller does:

- ``StreamPoller`` (``Type: DynamoDB``): ``get_records`` on the table's stream; records
  that fail the ``FilterCriteria`` are skipped; a failed batch (handler error, or with
  ``ReportBatchItemFailures`` the lowest failed sequence number) is re-read from the failed
  record, split in halves first on a handler error when ``BisectBatchOnFunctionError`` is
  set (splits do not count as retries, as in Lambda); after ``MaximumRetryAttempts``
  retries (-1 = until it succeeds) the batch is described to the ``OnFailure`` destination
  (an SQS queue) and the poller moves on.
- ``SqsPoller`` (``Type: SQS``): real ``receive_message`` calls, so the queue's visibility
  timeout and its redrive policy apply (the emulator moves a message to the dead-letter
  queue once it has been received ``maxReceiveCount`` times). Processed messages are
  deleted; failed ones are left to become visible again. Filtered-out messages are deleted,
  as Lambda does.
- ``SchedulePoller`` (``Type: Schedule``): ``rate(...)`` expressions, delivering the
  EventBridge scheduled-event shape. ``<NAME>_INTERVAL_SECONDS`` (e.g.
  ``EXPIRER_INTERVAL_SECONDS`` for ``ExpirerFunction``) shortens the interval locally.

Stream and queue pollers wait for a write in this process (``sandbox.wakeups``) instead of
sleeping a whole interval; the interval (``SANDBOX_POLL_SECONDS``, default 0.25 s) is the
fallback for writes from elsewhere. A stream's ``ParallelizationFactor`` runs that many
batches of one page at once, each in its own warm copy of the function ("container"), with
every partition key always in the same one, so records of one item stay in order.

``stop()`` ends a poller at once (an invocation in flight completes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.emulator import StreamTrimmer
from sandbox.functions import Function
from sandbox.lambda_events import scheduled_event, sqs_messages_to_event
from sandbox.poller_base import IDLE_WAIT_SECONDS, Poller, failed_identifiers, passes
from sandbox.stack import ACCOUNT_ID, Stack
from sandbox.stream_poller import StreamPoller
from sandbox.wakeups import WRITES, Wakeups

__all__ = ["IDLE_WAIT_SECONDS", "Poller", "SchedulePoller", "SqsPoller", "StreamPoller", "event_pollers"]

POLL_SECONDS_VARIABLE = "SANDBOX_POLL_SECONDS"
SQS_MAX_BATCH = 10  # receive_message's own limit


class UnsupportedEventSource(ValueError):
    pass


def _sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """Lambda matches an SQS record's ``body`` as JSON when the body is a JSON object."""
    try:
        body = json.loads(record["body"])
    except (ValueError, TypeError):
        return record
    return {**record, "body": body} if isinstance(body, dict) else record


class SqsPoller(Poller):
    def __init__(
        self,
        function: Function,
        event_name: str,
        properties: dict[str, Any],
        stack: Stack,
        clients: Any,
        wakeups: Wakeups | None = None,
    ):
        super().__init__(function, event_name, wakeups)
        self.wakes_on = "sqs"
        self.queue_arn = str(stack.resolve(properties["Queue"]))
        self.queue_url = stack.queue_url(self.queue_arn)
        self.batch_size = min(SQS_MAX_BATCH, int(properties.get("BatchSize", 10)))
        self.filter_criteria = properties.get("FilterCriteria")
        self.report_failures = "ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or [])
        self.sqs = clients.sqs

    def poll_once(self) -> bool:
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return False
        records = sqs_messages_to_event(received, self.queue_arn)["Records"]
        batch: list[dict[str, Any]] = []
        filtered_out: list[dict[str, Any]] = []
        for record in records:
            (batch if passes(self.filter_criteria, _sqs_filter_view(record)) else filtered_out).append(record)
        done = filtered_out
        if batch:
            response, ok = self.invoke({"Records": batch})
            if ok:
                ids = [r["messageId"] for r in batch]
                failed = failed_identifiers(response, ids) if self.report_failures else []
                if failed is not None:
                    done = done + [r for r in batch if r["messageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)],
            )
        return True


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    found = _RATE.match(expression.strip())
    if not found:
        raise UnsupportedEventSource(f"schedule {expression!r}: only rate(...) expressions run locally")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2).rstrip("s")]


def interval_override_variable(function: Function) -> str:
    """ExpirerFunction -> EXPIRER_INTERVAL_SECONDS."""
    base = function.logical_id.removesuffix("Function")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).upper() + "_INTERVAL_SECONDS"


class SchedulePoller(Poller):
    def __init__(
        self, function: Function, event_name: str, properties: dict[str, Any], stack: Stack, environ: Mapping[str, str]
    ):
        super().__init__(function, event_name)
        override = environ.get(interval_override_variable(function))
        self.interval = float(override) if override else float(rate_seconds(properties["Schedule"]))
        self.rule_arn = f"arn:aws:events:{stack.region}:{ACCOUNT_ID}:rule/{function.logical_id}{event_name}"
        self.fired = 0

    def idle_wait(self) -> float:
        return self.interval

    def run(self) -> None:
        # A rate rule first fires one interval after it is created.
        while not self._stopping.wait(self.interval):
            self.invoke(scheduled_event(self.rule_arn))
            self.fired += 1


def event_pollers(
    functions: Mapping[str, Function],
    stack: Stack,
    clients: Any,
    environ: Mapping[str, str],
    release_iterator: Callable[[str], None] | None = None,
    wakeups: Wakeups | None = WRITES,
    trimmer: StreamTrimmer | None = None,
) -> list[Poller]:
    """A poller for every non-Api event of every function in the template.

    Stream and queue pollers wake on ``wakeups`` and otherwise poll every
    ``SANDBOX_POLL_SECONDS`` (default 0.25 s). Stream pollers tell ``trimmer`` what they
    have processed, so the emulator can drop those records."""
    fallback = float(environ.get(POLL_SECONDS_VARIABLE) or IDLE_WAIT_SECONDS)
    pollers: list[Poller] = []
    for function in functions.values():
        for event_name, event in function.events.items():
            kind, properties = event.get("Type"), event.get("Properties") or {}
            if kind == "Api":
                continue
            if properties.get("Enabled", True) is False:
                continue
            if kind == "DynamoDB":
                pollers.append(
                    StreamPoller(function, event_name, properties, stack, clients, release_iterator, wakeups, trimmer)
                )
                pollers[-1].idle_seconds = fallback
            elif kind == "SQS":
                pollers.append(SqsPoller(function, event_name, properties, stack, clients, wakeups))
                pollers[-1].idle_seconds = fallback
            elif kind in ("Schedule", "ScheduleV2"):
                key = "Schedule" if kind == "Schedule" else "ScheduleExpression"
                pollers.append(SchedulePoller(function, event_name, {"Schedule": properties[key]}, stack, environ))
            else:
                raise UnsupportedEventSource(
                    f"{function.logical_id}.{event_name}: event type {kind} is not run locally"
                )
    return pollers
