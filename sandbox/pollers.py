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

``stop()`` ends a poller within one poll interval (an invocation in flight completes).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.event_filter import matches_any
from sandbox.functions import Function
from sandbox.lambda_events import scheduled_event, sqs_messages_to_event, stream_records_to_event
from sandbox.stack import ACCOUNT_ID, Stack

IDLE_WAIT_SECONDS = 0.25  # Lambda polls a stream about four times a second
FIRST_RETRY_WAIT_SECONDS = 0.5
MAX_RETRY_WAIT_SECONDS = 8.0
SQS_MAX_BATCH = 10  # receive_message's own limit


class UnsupportedEventSource(ValueError):
    pass


class Poller(threading.Thread):
    """A daemon thread running ``poll_once`` until stopped; ``poll_once`` returns whether there was work."""

    def __init__(self, function: Function, event_name: str):
        super().__init__(name=f"{function.logical_id}.{event_name}", daemon=True)
        self.function = function
        self.event_name = event_name
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.poll_once()
            except Exception:  # the emulator going away at shutdown, or a bug: keep the poller alive
                if self._stopping.is_set():
                    return
                traceback.print_exc()
                busy = False
            if not busy:
                self._stopping.wait(self.idle_wait())

    def idle_wait(self) -> float:
        return IDLE_WAIT_SECONDS

    def poll_once(self) -> bool:
        raise NotImplementedError

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)

    def invoke(self, event: dict[str, Any]) -> tuple[Any, bool]:
        """(response, ok): a raised exception is a failed invocation, as in Lambda."""
        try:
            return self.function.invoke(event), True
        except Exception:
            traceback.print_exc()
            return None, False


def _failed_identifiers(response: Any, identifiers: list[str]) -> list[str] | None:
    """The partial batch response's failed ids; None means the whole batch failed (invalid response)."""
    if response is None:
        return []
    if not isinstance(response, dict):
        return []
    failures = response.get("batchItemFailures")
    if failures is None:
        return []
    ids = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in identifiers:
            return None
        ids.append(identifier)
    return ids


def _passes(filter_criteria: dict[str, Any] | None, record: dict[str, Any]) -> bool:
    """FilterCriteria: a record passes when any filter's pattern matches (no filters: all pass)."""
    filters = (filter_criteria or {}).get("Filters") or []
    return not filters or matches_any([f["Pattern"] for f in filters], record)


def _sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """Lambda matches an SQS record's ``body`` as JSON when the body is a JSON object."""
    try:
        body = json.loads(record["body"])
    except (ValueError, TypeError):
        return record
    return {**record, "body": body} if isinstance(body, dict) else record


class StreamPoller(Poller):
    def __init__(
        self,
        function: Function,
        event_name: str,
        properties: dict[str, Any],
        stack: Stack,
        clients: Any,
        release_iterator: Callable[[str], None] | None = None,
    ):
        super().__init__(function, event_name)
        self.release_iterator = release_iterator  # see sandbox/emulator.py
        self.stream_arn = str(stack.resolve(properties["Stream"]))
        self.batch_size = int(properties.get("BatchSize", 100))
        self.starting_position = properties.get("StartingPosition", "LATEST")
        self.filter_criteria = properties.get("FilterCriteria")
        self.max_retries = int(properties.get("MaximumRetryAttempts", -1))
        self.bisect = bool(properties.get("BisectBatchOnFunctionError", False))
        self._limit = self.batch_size  # smaller while a bisected batch is being retried
        self.report_failures = "ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or [])
        destination = ((properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.on_failure_url = stack.queue_url(str(stack.resolve(destination))) if destination else None
        self.streams = clients.dynamodbstreams
        self.sqs = clients.sqs
        self._shard_id: str | None = None
        self._iterator: str | None = None
        self._failed_at: str | None = None  # sequence number being retried
        self._retries = 0

    def start(self) -> None:
        # Open the shard iterator before anything else runs: with LATEST, a write made right
        # after start-up must not slip past the poller's first read.
        self._open()
        super().start()

    def _open(self) -> None:
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        self._shard_id = shards[-1]["ShardId"]  # moto keeps one shard per stream
        self._move_to(
            self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=self._shard_id, ShardIteratorType=self.starting_position
            )["ShardIterator"]
        )

    def _seek(self, kind: str, sequence_number: str) -> None:
        self._move_to(
            self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=self._shard_id,
                ShardIteratorType=kind,
                SequenceNumber=sequence_number,
            )["ShardIterator"]
        )

    def _move_to(self, iterator: str) -> None:
        """Read from ``iterator`` next; the one it replaces is never used again."""
        if self._iterator is not None and self.release_iterator is not None:
            self.release_iterator(self._iterator)
        self._iterator = iterator

    def idle_wait(self) -> float:
        if self._failed_at is None:
            return IDLE_WAIT_SECONDS
        backoff: float = FIRST_RETRY_WAIT_SECONDS * 2 ** max(0, self._retries - 1)
        return min(MAX_RETRY_WAIT_SECONDS, backoff)

    def poll_once(self) -> bool:
        if self._iterator is None:
            self._open()
        page = self.streams.get_records(ShardIterator=self._iterator, Limit=self._limit)
        records = stream_records_to_event(page["Records"], self.stream_arn)["Records"]
        if not records:
            self._move_to(page["NextShardIterator"])
            return False
        batch = [r for r in records if _passes(self.filter_criteria, r)]
        failed_at, crashed = self._run(batch) if batch else (None, False)
        if failed_at is None:
            self._failed_at, self._retries, self._limit = None, 0, self.batch_size
            self._move_to(page["NextShardIterator"])
            return True
        if crashed and self.bisect and len(records) > 1:
            self._limit = max(1, len(records) // 2)
            self._seek("AT_SEQUENCE_NUMBER", records[0]["dynamodb"]["SequenceNumber"])
            return True
        self._retries = self._retries + 1 if failed_at == self._failed_at else 1
        self._failed_at = failed_at
        if 0 <= self.max_retries < self._retries:
            self._discard(batch, failed_at)
            self._failed_at, self._retries = None, 0
            self._seek("AFTER_SEQUENCE_NUMBER", records[-1]["dynamodb"]["SequenceNumber"])
            return True
        self._seek("AT_SEQUENCE_NUMBER", failed_at)  # retry from the failed record
        return False  # back off before the retry

    def _run(self, batch: list[dict[str, Any]]) -> tuple[str | None, bool]:
        """Invoke with the batch: (the sequence number to retry from or None when done, handler crashed)."""
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        response, ok = self.invoke({"Records": batch})
        if not ok:
            return sequence_numbers[0], True
        if not self.report_failures:
            return None, False
        failed = _failed_identifiers(response, sequence_numbers)
        if failed is None:
            return sequence_numbers[0], False
        return (min(failed, key=int) if failed else None), False

    def _discard(self, batch: list[dict[str, Any]], failed_at: str) -> None:
        """Retries exhausted: tell the on-failure destination which records were skipped."""
        skipped = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= int(failed_at)]
        print(f"[sandbox] {self.name}: retries exhausted, skipping {len(skipped)} stream record(s)", flush=True)
        if self.on_failure_url is None:
            return
        now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        region = self.stream_arn.split(":")[3]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{self.function.logical_id}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self._retries,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": now,
            "DDBStreamBatchInfo": {
                "shardId": self._shard_id,
                "startSequenceNumber": skipped[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": skipped[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(skipped),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(record))


class SqsPoller(Poller):
    def __init__(self, function: Function, event_name: str, properties: dict[str, Any], stack: Stack, clients: Any):
        super().__init__(function, event_name)
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
            (batch if _passes(self.filter_criteria, _sqs_filter_view(record)) else filtered_out).append(record)
        done = filtered_out
        if batch:
            response, ok = self.invoke({"Records": batch})
            if ok:
                ids = [r["messageId"] for r in batch]
                failed = _failed_identifiers(response, ids) if self.report_failures else []
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
) -> list[Poller]:
    """A poller for every non-Api event of every function in the template."""
    pollers: list[Poller] = []
    for function in functions.values():
        for event_name, event in function.events.items():
            kind, properties = event.get("Type"), event.get("Properties") or {}
            if kind == "Api":
                continue
            if properties.get("Enabled", True) is False:
                continue
            if kind == "DynamoDB":
                pollers.append(StreamPoller(function, event_name, properties, stack, clients, release_iterator))
            elif kind == "SQS":
                pollers.append(SqsPoller(function, event_name, properties, stack, clients))
            elif kind in ("Schedule", "ScheduleV2"):
                key = "Schedule" if kind == "Schedule" else "ScheduleExpression"
                pollers.append(SchedulePoller(function, event_name, {"Schedule": properties[key]}, stack, environ))
            else:
                raise UnsupportedEventSource(
                    f"{function.logical_id}.{event_name}: event type {kind} is not run locally"
                )
    return pollers
