"""``StreamPoller``: a DynamoDB stream event source mapping (see ``sandbox.pollers``)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import traceback
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from sandbox.emulator import StreamTrimmer
from sandbox.functions import Function
from sandbox.lambda_events import stream_records_to_event
from sandbox.poller_base import Poller, failed_identifiers, passes
from sandbox.stack import ACCOUNT_ID, Stack
from sandbox.wakeups import Wakeups

FIRST_RETRY_WAIT_SECONDS = 0.5
MAX_RETRY_WAIT_SECONDS = 8.0


class StreamPoller(Poller):
    def __init__(
        self,
        function: Function,
        event_name: str,
        properties: dict[str, Any],
        stack: Stack,
        clients: Any,
        release_iterator: Callable[[str], None] | None = None,
        wakeups: Wakeups | None = None,
        trimmer: StreamTrimmer | None = None,
    ):
        super().__init__(function, event_name, wakeups)
        self.wakes_on = "dynamodb"
        self.release_iterator = release_iterator  # see sandbox/emulator.py
        self.parallelization = max(1, min(10, int(properties.get("ParallelizationFactor", 1))))
        # One warm copy of the function per concurrent batch, as Lambda runs them in separate
        # containers; the first is the function itself (its copies load on first use).
        self.containers = [function] + [
            replace(function, _module=None, _lock=threading.Lock()) for _ in range(self.parallelization - 1)
        ]
        self._pool = (
            ThreadPoolExecutor(self.parallelization, thread_name_prefix=self.name) if self.parallelization > 1 else None
        )
        self.stream_arn = str(stack.resolve(properties["Stream"]))
        self.trimmer = trimmer  # told of each checkpoint, so processed records can be dropped
        if trimmer is not None:
            trimmer.follow(self.stream_arn, self.name)
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
            return self.idle_seconds
        backoff: float = FIRST_RETRY_WAIT_SECONDS * 2 ** max(0, self._retries - 1)
        return min(MAX_RETRY_WAIT_SECONDS, backoff)

    def sleep(self, seconds: float) -> None:
        if self._failed_at is None:
            super().sleep(seconds)
        else:  # a retry backs off whatever else is written meanwhile
            self._stopping.wait(seconds)

    def poll_once(self) -> bool:
        if self._iterator is None:
            self._open()
        # A full page feeds every concurrent batch; a bisected retry reads only its half.
        limit = self._limit * self.parallelization if self._limit == self.batch_size else self._limit
        page = self.streams.get_records(ShardIterator=self._iterator, Limit=limit)
        records = stream_records_to_event(page["Records"], self.stream_arn)["Records"]
        if not records:
            self._move_to(page["NextShardIterator"])
            return False
        batch = [r for r in records if passes(self.filter_criteria, r)]
        failed_at, crashed = self._run(batch) if batch else (None, False)
        if failed_at is None:
            self._failed_at, self._retries, self._limit = None, 0, self.batch_size
            self._move_to(page["NextShardIterator"])
            self._checkpoint(records[-1])
            return True
        if crashed and self.bisect and min(len(batch), self._limit) > 1:
            # Everything before failed_at succeeded (lanes run to their first failure); the
            # failed batch starts there and is re-read in halves.
            self._limit = max(1, min(len(batch), self._limit) // 2)
            self._seek("AT_SEQUENCE_NUMBER", failed_at)
            return True
        self._retries = self._retries + 1 if failed_at == self._failed_at else 1
        self._failed_at = failed_at
        if 0 <= self.max_retries < self._retries:
            self._discard(batch, failed_at)
            self._failed_at, self._retries = None, 0
            self._seek("AFTER_SEQUENCE_NUMBER", records[-1]["dynamodb"]["SequenceNumber"])
            self._checkpoint(records[-1])
            return True
        self._seek("AT_SEQUENCE_NUMBER", failed_at)  # retry from the failed record
        return False  # back off before the retry

    def _checkpoint(self, last: dict[str, Any]) -> None:
        """Every record up to ``last`` is done with (processed, filtered out or discarded)."""
        if self.trimmer is not None:
            self.trimmer.processed(self.stream_arn, self.name, last["dynamodb"]["SequenceNumber"])

    def _run(self, records: list[dict[str, Any]]) -> tuple[str | None, bool]:
        """Run the page's records as up to ``parallelization`` concurrent lanes, each in order:
        (the lowest sequence number to retry from or None when all are done, a handler crashed)."""
        lanes: list[list[dict[str, Any]]] = [[] for _ in self.containers]
        for record in records:  # one partition key, one lane (Lambda hashes the key the same way)
            key = json.dumps(record["dynamodb"]["Keys"], sort_keys=True).encode()
            lanes[zlib.crc32(key) % len(lanes)].append(record)
        work = [(container, lane) for container, lane in zip(self.containers, lanes, strict=True) if lane]
        if self._pool is None or len(work) == 1:
            results = [self._run_lane(container, lane) for container, lane in work]
        else:
            results = list(self._pool.map(lambda item: self._run_lane(*item), work))
        failed = [at for at, _ in results if at is not None]
        return (min(failed, key=int) if failed else None), any(crashed for _, crashed in results)

    def _run_lane(self, container: Function, records: list[dict[str, Any]]) -> tuple[str | None, bool]:
        """Batches of ``BatchSize`` in order; stop at the first that fails."""
        for start in range(0, len(records), self._limit):
            failed_at, crashed = self._run_batch(container, records[start : start + self._limit])
            if failed_at is not None:
                return failed_at, crashed
        return None, False

    def _run_batch(self, container: Function, batch: list[dict[str, Any]]) -> tuple[str | None, bool]:
        """Invoke with the batch: (the sequence number to retry from or None when done, handler crashed)."""
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        try:
            response, ok = container.invoke({"Records": batch}), True
        except Exception:
            traceback.print_exc()
            response, ok = None, False
        if not ok:
            return sequence_numbers[0], True
        if not self.report_failures:
            return None, False
        failed = failed_identifiers(response, sequence_numbers)
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
